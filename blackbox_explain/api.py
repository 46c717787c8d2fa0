"""The one-call entry point: :func:`explain`, and :class:`Explainer` for many texts."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .cache import Cache
from .contrast import bind_contrast
from .errors import InputError
from .estimators import get_estimator
from .estimators.base import Estimator
from .explanation import Explanation
from .game import CoalitionGame
from .maskers import Masker, get_masker
from .resolve import (
    UnboundModel,
    bind_scorer,
    binding_generates,
    check_budget,
    check_seed,
    remote_scorer_of,
    resolve_cache,
)
from .scoring import describe_scorer
from .segmentation import Segmentation, segment

DEFAULT_BUDGET = 512
MaskerSpec = str | Masker | Callable[[str, int], str]


def explain(
    model: Any,
    text: str | Segmentation,
    method: str | Estimator = "auto",
    budget: int = DEFAULT_BUDGET,
    *,
    granularity: str = "word",
    masker: MaskerSpec = "delete",
    seed: int | None = 0,
    target: Any = None,
    cache: Cache | str | os.PathLike[str] | None = None,
    batch_size: int | None = None,
    progress: bool | None = None,
    tokenizer: Any = None,
    dry_run: bool = False,
    noise_samples: int = 0,
    contrast: str | None = None,
    **method_options: Any,
) -> Any:
    """Explain why ``model`` scores ``text`` as it does.

    Parameters
    ----------
    model:
        A :class:`~blackbox_explain.scoring.Scorer` (see :mod:`blackbox_explain.adapters`), a
        model with ``bind(text, target) -> Scorer`` (LMs, similarity scorers), or a plain callable
        ``list[str] -> array (n,) or (n, k)``.
    text:
        The input to explain, or a ready :class:`~blackbox_explain.segmentation.Segmentation`
        (custom spans, template fields, token segments).
    method:
        ``occlusion``, ``exact``, ``kernelshap``, ``gpshap``, ``permutation``, ``lime``, ``banzhaf``,
        ``partition``, ``lasso`` (fewer calls than segments: the few sentences of a long context
        that matter), ``sparse`` (exact in few calls when few segments matter at all, as in
        lexicon models) or ``auto`` (exact when ``2**n`` fits the budget, otherwise the most
        accurate sampled estimator); or an :class:`~blackbox_explain.estimators.Estimator` instance.
        Options may follow the name as on the command line, ``"gpshap:design=kernel"``
        (keyword options take precedence).
    budget:
        Maximum distinct texts sent to the model for this explanation (the full and the empty
        input included).  Cache hits are free; ``meta['n_calls']`` never exceeds it.
    granularity:
        ``word`` (default), ``sentence``, ``char`` or ``token`` (needs ``tokenizer``).
    masker:
        ``delete`` (default), ``mask`` (``[MASK]``), a :class:`~blackbox_explain.maskers.Masker`,
        or a callable ``(segment_text, index) -> replacement``.
    seed:
        Seed of the sampled methods; the same seed gives the same result.
    target:
        What to explain for models with ``bind`` (e.g. the LM answer); recorded in ``meta``.
    contrast:
        Why ``target`` rather than this answer: explains ``log p(target) - log p(contrast)``
        (in label mode: every label against this one); see :mod:`blackbox_explain.contrast`.
    cache:
        A shared :class:`~blackbox_explain.cache.Cache` (pass the same one to pay only for new
        coalitions across explanations), or ``None`` for a fresh in-memory cache.
    batch_size:
        Texts per model call (capped by the model's ``max_batch_size``); does not change results.
    progress:
        Show a progress bar (``None``: when stderr is a terminal and the run is long).
    noise_samples:
        Re-query the unperturbed input this many more times (as new samples, for models that
        sample) to measure the output's noise floor; segments whose attribution does not rise
        above twice its standard deviation are listed in ``meta['below_noise']``.  The
        re-queries come out of the budget.
    dry_run:
        Make no call: return a :class:`~blackbox_explain.dryrun.DryRun` with the planned calls,
        tokens and cost (an upper bound for methods that adapt to the answers).
    **method_options:
        Passed to the method's constructor (e.g. ``window=3`` for occlusion).
    """
    explainer = Explainer(model, cache=cache, batch_size=batch_size, progress=progress)
    if noise_samples:
        method_options["noise_samples"] = noise_samples
    if dry_run:
        return explainer.plan(
            text,
            method,
            budget,
            granularity=granularity,
            masker=masker,
            seed=seed,
            target=target,
            tokenizer=tokenizer,
            **method_options,
        )
    return explainer.explain(
        text,
        method,
        budget,
        granularity=granularity,
        masker=masker,
        seed=seed,
        target=target,
        tokenizer=tokenizer,
        contrast=contrast,
        **method_options,
    )


def _noise_floor(
    scorer: Any,
    segmentation: Segmentation,
    masker: Masker,
    cache: Cache,
    samples: int,
    first: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Standard deviation of the full input's output over ``samples`` extra samples."""
    if not (hasattr(scorer, "with_sample") and hasattr(scorer, "sample_index")):
        raise InputError(
            f"{describe_scorer(scorer)} cannot be re-sampled (no with_sample); a deterministic "
            "local model has no noise floor to measure"
        )
    rows, calls = [first], 0
    for index in range(1, samples + 1):
        game = CoalitionGame(scorer.with_sample(index), segmentation, masker, None, cache)
        rows.append(game.value_of_texts([segmentation.text])[0])
        calls += game.stats.n_calls
    return np.std(rows, axis=0, ddof=1), calls


class Explainer:
    """Explains many texts (or one text with many methods) with one model and one shared cache.

    A second explanation of the same text, with any method, pays only for coalitions not seen yet.
    """

    def __init__(
        self,
        model: Any,
        cache: Cache | str | os.PathLike[str] | None = None,
        batch_size: int | None = None,
        progress: bool | None = None,
    ) -> None:
        self.model = model
        self.cache = resolve_cache(cache)
        self.batch_size = batch_size
        self.progress = progress

    def explain(
        self,
        text: str | Segmentation,
        method: str | Estimator = "auto",
        budget: int = DEFAULT_BUDGET,
        *,
        granularity: str = "word",
        masker: MaskerSpec = "delete",
        seed: int | None = 0,
        target: Any = None,
        tokenizer: Any = None,
        noise_samples: int = 0,
        contrast: str | None = None,
        **method_options: Any,
    ) -> Explanation:
        """Explain one text; see :func:`blackbox_explain.explain` for the parameters."""
        segmentation, budget, estimator = _prepare(
            text, method, budget, granularity, tokenizer, noise_samples, method_options
        )
        if contrast is not None:
            scorer, target_used = bind_contrast(self.model, segmentation.text, target, contrast)
        else:
            scorer, target_used = bind_scorer(self.model, segmentation.text, target)
        chosen_masker = get_masker(masker)
        game = CoalitionGame(
            scorer, segmentation, chosen_masker, budget, self.cache, self.batch_size, self.progress
        )
        # the call that generated the answer to explain is paid for too: it counts against the
        # budget, and a deterministic answer serves as the full prompt's
        binding_calls = int(getattr(scorer, "binding_calls", 0))
        known = scorer.known_answers() if hasattr(scorer, "known_answers") else {}
        game.count_setup_calls(binding_calls, known)
        method_budget = budget - binding_calls + len(known)
        estimator.check_budget(len(segmentation), method_budget)
        check_seed(seed)
        seed_used = (
            seed
            if seed is not None
            else int(np.random.SeedSequence().generate_state(1, np.uint64)[0] % 2**63)
        )
        rng = np.random.default_rng(seed_used)
        started = time.perf_counter()
        with one_blas_thread_beside(scorer):
            result = estimator.estimate(game, method_budget, rng)
        noise_meta: dict[str, Any] = {}
        if noise_samples:
            noise, noise_calls = _noise_floor(
                scorer, segmentation, chosen_masker, self.cache, noise_samples, result.full_value
            )
            below = [
                [i for i in range(len(segmentation)) if abs(result.values[i, j]) <= 2 * noise[j]]
                for j in range(len(noise))
            ]
            noise_meta = {
                "noise_std": noise.tolist(),
                "noise_calls": noise_calls,
                "below_noise": below,
            }
        elapsed = time.perf_counter() - started
        stats = game.stats
        meta: dict[str, Any] = {
            "method": estimator.name,
            "params": estimator.get_params(),
            "seed": seed_used,
            "budget": budget + noise_samples,
            "n_calls": stats.n_calls + noise_meta.get("noise_calls", 0),
            "binding_calls": binding_calls,
            "n_cache_hits": stats.n_cache_hits,
            "n_batches": stats.n_batches,
            "n_coalitions": stats.n_coalitions,
            "elapsed_seconds": elapsed,
            "scorer_seconds": stats.scorer_seconds,
            "scorer": describe_scorer(scorer),
            "target": target_used,
            "contrast": contrast,
            "masker": repr(chosen_masker),
            "granularity": segmentation.kind,
            "summable_outputs": bool(getattr(scorer, "summable_outputs", False)),
            "scalarizer": getattr(scorer, "scalarizer", None),
            "efficient": estimator.efficient and result.info.get("chosen_method") != "banzhaf",
            **{k: v for k, v in result.info.items() if k not in ("n_coalitions",)},
            **noise_meta,
        }
        output_names = game.output_names or [f"output_{j}" for j in range(result.values.shape[1])]
        return Explanation(
            segmentation,
            result.values,
            list(output_names),
            result.base_value,
            result.full_value,
            result.std,
            meta,
        )

    def plan(
        self,
        text: str | Segmentation,
        method: str | Estimator = "auto",
        budget: int = DEFAULT_BUDGET,
        *,
        granularity: str = "word",
        masker: MaskerSpec = "delete",
        seed: int | None = 0,
        target: Any = None,
        tokenizer: Any = None,
        noise_samples: int = 0,
        contrast: str | None = None,
        **method_options: Any,
    ) -> Any:
        """A dry run of :meth:`explain`: the calls, tokens and cost it would take, no call made
        (a ``contrast`` asks the same coalitions, each scored for both answers)."""
        from .dryrun import ADAPTIVE_METHODS, DryRun, PlanningGame, estimate_cost

        check_seed(seed)
        segmentation, budget, estimator = _prepare(
            text, method, budget, granularity, tokenizer, noise_samples, method_options
        )
        note = ""
        generates = hasattr(self.model, "bind") and target is None and binding_generates(self.model)
        if generates:
            scorer: Any = UnboundModel(self.model)
            note = "1 of the calls generates the answer to explain; cache state unknown"
        else:
            scorer, _ = bind_scorer(self.model, segmentation.text, target)
        game = PlanningGame(scorer, segmentation, get_masker(masker), budget, self.cache)
        estimator.planning_stand_in().estimate(game, budget, np.random.default_rng(seed))
        planned = getattr(game, "planned", [])
        adapts = estimator.adapts_to_answers(len(segmentation), budget)
        if adapts:  # the answers decide: the whole budget bounds the calls
            planned = planned + [segmentation.text] * max(0, budget - len(planned))
        tokens_in, tokens_out, cost = estimate_cost(remote_scorer_of(scorer), planned)
        return DryRun(
            estimator.name,
            budget + noise_samples,
            min(budget, len(planned) + (1 if generates else 0)) + noise_samples,
            game.stats.n_cache_hits,
            tokens_in,
            tokens_out,
            cost,
            estimator.name not in ADAPTIVE_METHODS and not generates and not adapts,
            note,
        )

    def evaluate(self, explanation: Explanation, **options: Any) -> Any:
        """Faithfulness metrics of an explanation made here, through this explainer's cache
        (see :func:`blackbox_explain.evaluate`)."""
        from .evaluation import evaluate

        options.setdefault("batch_size", self.batch_size)
        options.setdefault("progress", self.progress)
        return evaluate(explanation, self.model, cache=self.cache, **options)

    def plan_evaluation(self, explanation: Explanation, **options: Any) -> Any:
        """A dry run of :meth:`evaluate`: the new calls, tokens and cost, no call made."""
        from .evaluation import plan_evaluation

        return plan_evaluation(explanation, self.model, cache=self.cache, **options)

    def __repr__(self) -> str:
        return f"Explainer(model={describe_scorer(self.model)}, cache={self.cache!r})"


def one_blas_thread_beside(scorer: Any) -> Any:
    """For a local model, BLAS kept to one thread while its explanation runs: the estimators'
    linear algebra is small, and OpenBLAS threads spinning between its calls took the cores from
    the model's own threads (MiniLM explanations took twice as long); a hosted API's scorer
    leaves BLAS as it is."""
    if remote_scorer_of(scorer) is not None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _prepare(
    text: str | Segmentation,
    method: str | Estimator,
    budget: object,
    granularity: str,
    tokenizer: Any,
    noise_samples: int,
    method_options: dict[str, Any],
) -> tuple[Segmentation, int, Estimator]:
    """Segment the text and check the budget against the method (less the noise re-queries)."""
    segmentation = segment(text, granularity, tokenizer)
    total = check_budget(budget)
    if noise_samples < 0 or noise_samples >= total:
        raise InputError(f"noise_samples must be between 0 and the budget, got {noise_samples}")
    estimator = get_estimator(method, **method_options)
    estimator.check_budget(len(segmentation), total - noise_samples)
    return segmentation, total - noise_samples, estimator
