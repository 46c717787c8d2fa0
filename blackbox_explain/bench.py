"""``blackbox-explain bench``: what explanations cost and how good they are, on your model.

For a scorer and a set of texts, every method (and every peer library, when installed) runs at
every budget and seed.  Answers are recorded once and replayed, so each cell counts the calls it
would make on a fresh cache while the model is only asked once per distinct text; the time per
explanation is the library's own time plus the calls times the model's measured time per text.
Accuracy is measured against exact Shapley values where ``2**n`` coalitions are affordable.

"calls" are the texts a method sends to the model, repeats included: a peer library that asks for
the same text twice pays twice (ours deduplicate, so theirs equal their distinct texts).  With a
persistent ``cache`` the recorded answers survive across runs, so a slow model is enumerated once.

Live peers (``captum.llm.*``, Captum's LLMAttribution) drive a Hugging Face causal LM themselves:
they run on the live model and their time is measured, not replayed.

On a hosted API, :func:`plan_bench` counts the calls, tokens and cost first (no call made); a
hard stop of the model (its money or token cap, a failure after retries) ends the run, with the
texts finished so far attached to the error (``partial_bench``) and every answer received in the
cache, so a rerun asks only for the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .api import Explainer, _bind, _binding_generates, _remote_of, _resolve_cache, _Unbound
from .bench_result import (
    MEASURED_IN_THIS_RUN,
    BenchResult,
    Cell,
    format_interval,
    ratio_interval,
)
from .cache import Cache, MemoryCache
from .dryrun import estimate_cost
from .errors import BlackboxExplainError, BudgetError, BudgetExhaustedError, InputError
from .estimators import parse_method_spec
from .estimators.enumeration import all_masks
from .evaluation import faithfulness, spearman
from .game import CoalitionGame
from .maskers import Delete
from .peers import LLM_PEERS, run_llm_peer, run_peer
from .remote import RemoteError
from .scoring import validate_scores
from .segmentation import Segmentation, segment

__all__ = [
    "AnswerStore",
    "BenchPlan",
    "BenchResult",
    "Cell",
    "format_interval",
    "plan_bench",
    "ratio_interval",
    "run_bench",
]

FAITHFULNESS_FRACTION = 0.2  # comprehensiveness and sufficiency at the top 20 % of segments
#: repeat calls that time the model when the cache answered (almost) every text
CALIBRATION_TEXTS = 32
#: the cache entry, next to a hosted API's answers, that keeps the API's measured time
TIMING_ENTRY = "bench: the model's measured time per text"


@dataclass
class ModelClock:
    """The model's measured time: the seconds spent inside it and the texts it answered."""

    seconds: float = 0.0
    texts: int = 0

    @property
    def per_text(self) -> float:
        """Seconds per answered text (0 before the first answer)."""
        return self.seconds / max(self.texts, 1)


def _timing_key(cache: Cache | None, remote: Any) -> str | None:
    """The cache fingerprint under which a hosted API's measured time is kept (its answers'
    fingerprint, which never holds the API key), or None without a cache or a stable one."""
    fingerprint = getattr(remote, "fingerprint", None)
    if cache is None or not (isinstance(fingerprint, str) and fingerprint):
        return None
    return json.dumps(["bench-timing", fingerprint])


def _stored_timing(cache: Cache | None, remote: Any) -> ModelClock | None:
    """The time an earlier bench measured for this hosted API, kept in ``cache``; a fully cached
    rerun prices its calls with it instead of paying for repeat calls to time the API."""
    key = _timing_key(cache, remote)
    if key is None or cache is None:
        return None
    row = cache.get_many(key, [TIMING_ENTRY]).get(TIMING_ENTRY)
    if row is None or len(row) != 2 or not (row[0] >= 0 and row[1] >= 1):
        return None
    return ModelClock(float(row[0]), int(row[1]))


def _store_timing(cache: Cache | None, remote: Any, clock: ModelClock) -> None:
    key = _timing_key(cache, remote)
    if key is not None and cache is not None:
        cache.put_many(key, [(TIMING_ENTRY, np.array([clock.seconds, float(clock.texts)]))])


class AnswerStore:
    """Every answer of the real model, asked once; counts what each cell asks for.

    With a ``cache`` (e.g. :class:`~blackbox_explain.sqlite_cache.SQLiteCache`) and a scorer
    with a stable fingerprint, answers recorded by an earlier run are reused and new ones kept.
    ``clock`` times the model; stores may share one (a hosted API's time per text is its
    latency over its concurrency, the same for every text).
    """

    def __init__(
        self, scorer: Any, cache: Cache | None = None, clock: ModelClock | None = None
    ) -> None:
        self.scorer = scorer
        self.output_names: Sequence[str] = list(getattr(scorer, "output_names", []) or [])
        self.name = getattr(scorer, "name", type(scorer).__name__)
        self.summable_outputs = getattr(scorer, "summable_outputs", False)
        self.cache = cache
        fingerprint = getattr(scorer, "fingerprint", None)
        self.fingerprint = fingerprint if isinstance(fingerprint, str) and fingerprint else None
        self.answers: dict[str, np.ndarray] = {}
        self.clock = clock or ModelClock()
        self.asked: set[str] = set()
        self.sent = 0

    def score(self, texts: list[str]) -> np.ndarray:
        """The scorer's answers for ``texts``: recorded ones replayed, the model asked only for
        new ones."""
        self.sent += len(texts)
        self.asked.update(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self.answers]
        if missing and self.cache is not None and self.fingerprint is not None:
            self.answers.update(self.cache.get_many(self.fingerprint, missing))
            missing = [t for t in missing if t not in self.answers]
        batch = getattr(self.scorer, "max_batch_size", None) or 64
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            values = self._ask(chunk)
            self.answers.update(zip(chunk, values, strict=True))
            if self.cache is not None and self.fingerprint is not None:
                self.cache.put_many(self.fingerprint, zip(chunk, values, strict=True))
        return np.stack([self.answers[t] for t in texts])

    def _ask(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            if getattr(self.scorer, "streams_results", False):
                raw = self.scorer.score(texts, on_result=self._keep)
            else:
                raw = self.scorer.score(texts)
        except Exception as exc:
            # answers received before a failure (a remote scorer's) are paid for: keep them
            for text, row in (getattr(exc, "partial_results", None) or {}).items():
                self._keep(text, row)
            raise
        self.clock.seconds += time.perf_counter() - started
        self.clock.texts += len(texts)
        values = validate_scores(raw, texts, self.scorer, len(self.output_names) or None)
        if not self.output_names:
            self.output_names = [f"output_{j}" for j in range(values.shape[1])]
        return values

    def _keep(self, text: str, row: np.ndarray) -> None:
        """Record one answer the moment it arrives (remote scorers stream them), in the
        persistent cache too: a bench stopped halfway resumes without paying for it again."""
        row = np.asarray(row, dtype=np.float64)
        width = len(self.output_names) or len(row)
        if row.shape != (width,) or not np.all(np.isfinite(row)):
            return  # the failure this answer belongs to is reported by the scorer's own check
        self.answers[text] = row
        if self.cache is not None and self.fingerprint is not None:
            self.cache.put_many(self.fingerprint, [(text, row)])

    def calibrate(self, at_least: int = CALIBRATION_TEXTS) -> None:
        """Time the live model on recorded texts when the cache answered (almost) everything."""
        if self.clock.texts >= at_least or not self.answers:
            return
        self._ask(list(self.answers)[: at_least - self.clock.texts])

    @property
    def model_seconds(self) -> float:
        """Seconds spent inside the model so far."""
        return self.clock.seconds

    @property
    def seconds_per_text(self) -> float:
        """The model's measured time per text (batched as the engine batches)."""
        return self.clock.per_text


def run_bench(
    model: Any,
    texts: Sequence[str],
    methods: Sequence[str] = (
        "auto",
        "gpshap",
        "kernelshap",
        "permutation",
        "partition",
        "sparse",
        "lime",
    ),
    budgets: Sequence[int] = (32, 64, 128, 256),
    seeds: int = 2,
    peers: Sequence[str] = (),
    output: int | str | None = None,
    exact_max_segments: int = 12,
    progress: Any = None,
    cache: Cache | str | os.PathLike[str] | None = None,
    peer_budgets: Sequence[int] | None = None,
    show_progress: bool | None = None,
) -> BenchResult:
    """Run the grid; see the module docstring.

    ``methods``: method names, or specs with options, ``"gpshap:design=kernel"`` (see
    :func:`~blackbox_explain.estimators.parse_method_spec`); each spec is its own row.

    ``output``: the output to explain (index or name; default the first), or ``"sum"`` for the
    sum of all outputs (an LM answer's total log-prob: what ``captum.llm.*`` attribute).
    ``cache``: a :class:`~blackbox_explain.cache.Cache` or the path of an SQLite file that keeps
    the model's answers across runs (used for scorers with a stable fingerprint).
    ``peer_budgets``: the peers' budgets (default: ``budgets``), e.g. larger ones to find where
    a peer reaches the accuracy ours reach.
    ``progress``: called with each :class:`Cell` as it is made; ``show_progress``: a bar while
    a text's ``2**n`` coalitions are scored (``None``: when stderr is a terminal).
    """
    for method in methods:  # a bad name or option fails here, before any model call
        parse_method_spec(method)
    run = _GridRun(
        model,
        list(methods),
        list(budgets),
        seeds,
        list(peers),
        output,
        exact_max_segments,
        progress,
        peer_grid=list(budgets if peer_budgets is None else peer_budgets),
        answer_cache=None if cache is None else _resolve_cache(cache),
        show_progress=show_progress,
    )
    try:
        for t_index, text in enumerate(texts):
            run.text(t_index, text)
        run.finish()
    except (BudgetExhaustedError, RemoteError) as exc:
        # the texts finished before the stop travel with the error (the CLI writes them)
        setattr(exc, "partial_bench", run.result())  # noqa: B010
        raise
    return run.result()


@dataclass
class BenchPlan:
    """What a :func:`run_bench` would cost, computed without a model call (a dry run).

    ``new_calls`` counts the distinct texts the model would be asked: exactly the ``2**n``
    coalitions of every text short enough for exact Shapley values (every method and peer asks
    only among them), at most the budgets' sum on longer ones.  ``calibration``: at most this
    many repeat calls time the model when the cache already holds nearly every answer (none for
    a hosted API whose time an earlier run kept in the cache);
    ``generations``: calls that generate an LM's answer to explain first.
    """

    texts: int
    exact_texts: int
    new_calls: int
    cached: int
    calibration: int
    generations: int
    input_tokens: int
    output_tokens: int
    cost: float
    exact: bool

    def __str__(self) -> str:
        bound = "" if self.exact else "at most "
        return (
            f"dry run of bench on {self.texts} texts ({self.exact_texts} short enough for exact "
            f"Shapley values): {bound}{self.new_calls} new calls ({self.cached} answers already "
            f"cached)"
            + "".join(f", plus {extra}" for extra in self._extras())
            + f"; about {self.input_tokens} input and {self.output_tokens} output tokens, "
            f"estimated cost {self.cost:.4g}"
        )

    def _extras(self) -> list[str]:
        extras = []
        if self.calibration:
            extras.append(f"at most {self.calibration} repeat calls to time the model")
        if self.generations:
            extras.append(f"{self.generations} calls to generate the answers")
        return extras


def plan_bench(
    model: Any,
    texts: Sequence[str],
    methods: Sequence[str] = (
        "auto",
        "gpshap",
        "kernelshap",
        "permutation",
        "partition",
        "sparse",
        "lime",
    ),
    budgets: Sequence[int] = (32, 64, 128, 256),
    seeds: int = 2,
    peers: Sequence[str] = (),
    output: int | str | None = None,
    exact_max_segments: int = 12,
    cache: Cache | str | os.PathLike[str] | None = None,
    peer_budgets: Sequence[int] | None = None,
) -> BenchPlan:
    """The calls, tokens and cost :func:`run_bench` with these arguments would take (see
    :class:`BenchPlan`); no model call is made, not even to generate an LM's answer."""
    for method in methods:
        parse_method_spec(method)
    answer_cache = None if cache is None else _resolve_cache(cache)
    remote = _remote_of(model)
    generates = hasattr(model, "bind") and _binding_generates(model)
    per_text_bound = seeds * (
        len(methods) * sum(budgets)
        + len(peers) * sum(budgets if peer_budgets is None else peer_budgets)
    )
    masker = Delete()
    new_calls = cached = exact_texts = 0
    spent: list[tuple[int, int, float]] = []  # (input tokens, output tokens, cost) per part
    planned: set[str] = set()
    for text in texts:
        seg = segment(text)
        n = len(seg)
        if generates:
            scorer: Any = _Unbound(model)
        else:
            scorer = _bind(model, seg.text, None)[0]
            scorer = SummedOutputs(scorer) if output == "sum" else scorer
        fingerprint = getattr(scorer, "fingerprint", None)
        if n <= exact_max_segments:
            exact_texts += 1
            asked = list(dict.fromkeys(masker.render(seg, keep) for keep in all_masks(n)))
            known = (
                answer_cache.get_many(fingerprint, asked)
                if answer_cache is not None and isinstance(fingerprint, str) and fingerprint
                else {}
            )
            if answer_cache is not None:  # shared by the texts: count each answer once
                asked = [t for t in asked if t not in planned]
                planned.update(asked)
            missing = [t for t in asked if t not in known]
            cached += len(asked) - len(missing)
            new_calls += len(missing)
            spent.append(estimate_cost(remote, missing))
        else:
            calls = min(per_text_bound + 2 * n + 2, 2**n)
            new_calls += calls
            spent.append(estimate_cost(remote, [seg.text], calls))
    generations = len(texts) if generates else 0
    # a hosted API is timed once over the run (or not at all when an earlier run's timing is
    # in the cache), a local model per text (see _GridRun)
    if remote is None:
        calibration = CALIBRATION_TEXTS * len(texts)
    else:
        timed = _stored_timing(answer_cache, remote) is not None
        calibration = 0 if timed else CALIBRATION_TEXTS * min(len(texts), 1)
    longest = [max(texts, key=len)] if texts else []
    spent.append(estimate_cost(remote, longest, calibration + generations))
    tokens_in, tokens_out, cost = (sum(x) for x in zip(*spent, strict=True))
    return BenchPlan(
        len(texts),
        exact_texts,
        new_calls,
        cached,
        calibration,
        generations,
        int(tokens_in),
        int(tokens_out),
        float(cost),
        exact_texts == len(texts) and not generates,
    )


class _GridRun:
    """The state of one :func:`run_bench`: the cells so far, errors, skipped budgets."""

    def __init__(
        self,
        model: Any,
        methods: list[str],
        budgets: list[int],
        seeds: int,
        peers: list[str],
        output: int | str | None,
        exact_max_segments: int,
        progress: Any,
        peer_grid: list[int],
        answer_cache: Cache | None,
        show_progress: bool | None = None,
    ) -> None:
        self.model = model
        self.methods = methods
        self.budgets = budgets
        self.seeds = seeds
        self.peers = peers
        self.output = output
        self.exact_max_segments = exact_max_segments
        self.progress = progress
        self.peer_grid = peer_grid
        self.answer_cache = answer_cache
        self.show_progress = show_progress
        self.cells: list[Cell] = []
        self.errors: list[str] = []
        self.skipped: list[str] = []  # budgets below a method's minimum (permutation needs 2n)
        self.out_name = ""
        self.per_text_seconds: list[float] = []  # one per finished text
        self.warmed: set[str] = set()
        # a hosted API is timed over the whole run, and re-asked (paid) to time it only when
        # the run asked too few texts and no earlier run's timing is in the cache; a local
        # model per text (its time grows with the text)
        self.remote = _remote_of(model)
        self.shared_clock = ModelClock() if self.remote is not None else None
        self.model_time = MEASURED_IN_THIS_RUN
        self.last_store: AnswerStore | None = None

    def result(self) -> BenchResult:
        """The grid over the texts finished so far."""
        done = len(self.per_text_seconds)
        return BenchResult(
            [c for c in self.cells if c.text < done],
            self.out_name,
            float(np.mean(self.per_text_seconds)) if done else 0.0,
            {
                "errors": self.errors,
                "skipped": self.skipped,
                "texts": done,
                "methods": self.methods,
                "peers": self.peers,
                "budgets": self.budgets,
                "peer_budgets": self.peer_grid,
                "seeds": self.seeds,
                "model_time": self.model_time,
            },
        )

    def finish(self) -> None:
        """Time a hosted API that answered too few texts in this run (with the time an earlier
        run kept in the cache, else with repeat calls), keep a fresh timing in the cache, and
        price every replayed cell at its time per text over the whole run."""
        clock = self.shared_clock
        if clock is None or self.last_store is None:
            return
        if clock.texts < CALIBRATION_TEXTS:
            earlier = _stored_timing(self.answer_cache, self.remote)
            if earlier is not None:
                self.model_time = (
                    f"{clock.texts} texts timed in this run, {earlier.texts} in an earlier one "
                    "(kept in the cache)"
                )
                clock.seconds += earlier.seconds
                clock.texts += earlier.texts
            else:
                self.last_store.calibrate()
        if self.model_time == MEASURED_IN_THIS_RUN and clock.texts > 0:
            _store_timing(self.answer_cache, self.remote, clock)
        for cell in self.cells:
            if not cell.live:
                cell.seconds = cell.library_seconds + cell.calls * clock.per_text
        self.per_text_seconds = [clock.per_text] * len(self.per_text_seconds)

    def text(self, t_index: int, text: str) -> None:
        """Every method, peer, budget and seed on one text."""
        output = self.output
        seg = segment(text)
        bound = _bind(self.model, seg.text, None)[0]
        store = AnswerStore(
            SummedOutputs(bound) if output == "sum" else bound, self.answer_cache, self.shared_clock
        )
        self.last_store = store
        j = 0 if output == "sum" else _output_index(store, output)
        self.out_name = store.output_names[j] if store.output_names else str(output)
        truth = None
        if len(seg) <= self.exact_max_segments:
            enumerate_all = Explainer(store, cache=MemoryCache(), progress=self.show_progress)
            exact = enumerate_all.explain(seg, "exact", 2 ** len(seg))
            truth = exact.values[:, j]
            self.out_name = exact.output_names[j]
        if self.shared_clock is None:
            store.calibrate()
        # the faithfulness curves' texts: in the exact table when there is one (free)
        curve_game = CoalitionGame(store, seg, Delete(), None, MemoryCache())
        for method in [*self.methods, *self.peers]:
            is_peer = method in self.peers
            for budget in self.peer_grid if is_peer else self.budgets:
                for seed in range(self.seeds):
                    made = self._cell(t_index, method, is_peer, store, bound, seg, budget, seed)
                    if made is None:
                        continue
                    cell, values = made
                    cell.rel_l2, cell.spearman, cell.top3 = _accuracy(values, truth)
                    _add_faithfulness(cell, values, curve_game, j)
                    self.cells.append(cell)
                    if self.progress is not None:
                        self.progress(cell)
        # price every replayed cell of this text at the model's final measured time per text
        # (the running average moves while the answers are recorded)
        for cell in self.cells:
            if cell.text == t_index and not cell.live:
                cell.seconds = cell.library_seconds + cell.calls * store.seconds_per_text
        self.per_text_seconds.append(store.seconds_per_text)

    def _cell(
        self,
        t_index: int,
        method: str,
        is_peer: bool,
        store: AnswerStore,
        bound: Any,
        seg: Segmentation,
        budget: int,
        seed: int,
    ) -> tuple[Cell, np.ndarray] | None:
        """One explanation timed and counted, and its attributions (None when it was skipped
        or failed)."""
        output = self.output
        live = method in LLM_PEERS
        if live and method not in self.warmed:  # one-time imports and set-up, untimed
            self.warmed.add(method)
            with contextlib.suppress(BlackboxExplainError):  # reported below
                _attribute(method, True, store, bound, seg, output, min(self.peer_grid), 0)
        model_before = store.model_seconds
        started = time.perf_counter()
        try:
            values, calls, distinct, model_seconds = _attribute(
                method, is_peer, store, bound, seg, output, budget, seed
            )
        except (BudgetExhaustedError, RemoteError):
            raise  # the model's hard stop (money, tokens) or a failure after retries
        except BudgetError:
            self.skipped.append(f"{method}@{budget}")
            return None
        except (BlackboxExplainError, ValueError, RuntimeError) as exc:
            self.errors.append(f"{method}@{budget}: {type(exc).__name__}: {str(exc)[:160]}")
            return None
        wall = time.perf_counter() - started
        if not live:
            model_seconds = store.model_seconds - model_before
        library = wall - model_seconds
        cell = Cell(
            t_index,
            len(seg),
            method,
            budget,
            seed,
            calls,
            library,
            wall if live else library + calls * store.seconds_per_text,
            None,
            None,
            None,
            peer=is_peer,
            distinct=distinct,
            live=live,
        )
        return cell, values


def _attribute(
    method: str,
    is_peer: bool,
    store: AnswerStore,
    bound: Any,
    seg: Segmentation,
    output: int | str | None,
    budget: int,
    seed: int,
) -> tuple[np.ndarray, int, int | None, float]:
    """One explanation: (values, calls, distinct texts, seconds inside the live model)."""
    j = 0 if output == "sum" else _output_index(store, output)
    if method in LLM_PEERS:
        if output != "sum":
            raise InputError(
                "the captum.llm peers attribute the answer's total log-prob: bench with "
                "output='sum'"
            )
        values, calls, model_seconds = run_llm_peer(method, bound, seg, budget, seed)
        return values, calls, None, model_seconds
    store.asked = set()
    sent_before = store.sent
    if is_peer:
        values = run_peer(method, store.score, seg, j, budget, seed)
        return values, store.sent - sent_before, len(store.asked), 0.0
    name, options = parse_method_spec(method)
    explainer = Explainer(store, cache=MemoryCache(), progress=False)  # cells mostly replay
    exp = explainer.explain(seg, name, budget, seed=seed, **options)
    return exp.values[:, j], exp.meta["n_calls"], len(store.asked), 0.0


class SummedOutputs:
    """A scorer's outputs added up into one, ``"total"`` (e.g. an LM answer's log-prob)."""

    output_names: ClassVar[list[str]] = ["total"]

    def __init__(self, scorer: Any) -> None:
        self.scorer = scorer
        self.name = getattr(scorer, "name", type(scorer).__name__)
        self.max_batch_size = getattr(scorer, "max_batch_size", None)

    @property
    def fingerprint(self) -> str | None:
        """The wrapped scorer's cache key, marked as summed (None when it has none)."""
        base = getattr(self.scorer, "fingerprint", None)
        return json.dumps(["sum", base]) if isinstance(base, str) and base else None

    @property
    def streams_results(self) -> bool:
        """Whether the wrapped scorer hands over each answer as it arrives (remote scorers)."""
        return bool(getattr(self.scorer, "streams_results", False))

    def score(self, texts: list[str], on_result: Any = None) -> np.ndarray:
        """The wrapped scorer's outputs for ``texts``, added up into one column; with
        ``on_result`` (streaming scorers) each summed answer is handed over as it arrives, and
        the answers received before a failure travel with it summed too."""
        try:
            if on_result is None:
                raw = self.scorer.score(texts)
            else:
                raw = self.scorer.score(
                    texts, on_result=lambda text, row: on_result(text, self._summed(row))
                )
        except Exception as exc:
            partial = getattr(exc, "partial_results", None)
            if partial:
                exc.partial_results = {t: self._summed(r) for t, r in partial.items()}  # type: ignore[attr-defined]
            raise
        return validate_scores(raw, texts, self.scorer, None).sum(axis=1, keepdims=True)

    @staticmethod
    def _summed(row: Any) -> np.ndarray:
        return np.asarray(row, dtype=np.float64).sum(keepdims=True)


def _output_index(store: AnswerStore, output: int | str | None) -> int:
    if output is None:
        return 0
    if isinstance(output, str):
        if not store.output_names:
            store.score([""])
        if output not in store.output_names:
            from .errors import UnknownNameError

            raise UnknownNameError("output", output, store.output_names)
        return store.output_names.index(output)
    return int(output)


def _accuracy(
    values: np.ndarray, truth: np.ndarray | None
) -> tuple[float | None, float | None, float | None]:
    if truth is None or np.linalg.norm(truth) == 0:
        return None, None, None
    rel = float(np.linalg.norm(values - truth) / np.linalg.norm(truth))
    # rank on a relative grid of 1e-9: floating-point dust (1e-17 where a segment's value is
    # exactly zero, as for most words under a lexicon model) must not break the truth's ties
    scale = float(np.abs(truth).max())
    rho = spearman(np.round(values / scale, 9), np.round(truth / scale, 9))
    magnitude = np.abs(truth)
    k = min(3, int((magnitude > 1e-12).sum()))
    threshold = np.sort(magnitude)[::-1][k - 1]
    picked = np.argsort(-np.abs(values), kind="stable")[:k]
    # constant attributions carry no ranking: 0, not "undefined" (which would drop the cell)
    return rel, 0.0 if rho is None else rho, float(np.mean(magnitude[picked] >= threshold - 1e-12))


def _add_faithfulness(cell: Cell, values: np.ndarray, game: CoalitionGame, output: int) -> None:
    curves = faithfulness(values, game, output, (FAITHFULNESS_FRACTION,))
    cell.aopc_deletion = curves.aopc_deletion
    cell.aopc_insertion = curves.aopc_insertion
    cell.comprehensiveness = curves.comprehensiveness[FAITHFULNESS_FRACTION]
    cell.sufficiency = curves.sufficiency[FAITHFULNESS_FRACTION]
