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
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..api import Explainer
from ..cache import Cache, MemoryCache
from ..errors import (
    BlackboxExplainError,
    BudgetError,
    BudgetExhaustedError,
    InputError,
    UnknownNameError,
)
from ..estimators import parse_method_spec
from ..evaluation import faithfulness, spearman
from ..game import CoalitionGame
from ..maskers import Delete
from ..remote import RemoteError
from ..resolve import bind_scorer, remote_scorer_of, resolve_cache
from ..segmentation import Segmentation, segment
from .peers import LLM_PEERS, run_llm_peer, run_peer
from .plan import DEFAULT_BUDGETS, DEFAULT_METHODS
from .result import (
    MEASURED_IN_THIS_RUN,
    BenchResult,
    Cell,
)
from .store import (
    CALIBRATION_TEXTS,
    AnswerStore,
    ModelClock,
    SummedOutputs,
    store_timing,
    stored_timing,
)

FAITHFULNESS_FRACTION = 0.2  # comprehensiveness and sufficiency at the top 20 % of segments


def run_bench(
    model: Any,
    texts: Sequence[str],
    methods: Sequence[str] = DEFAULT_METHODS,
    budgets: Sequence[int] = DEFAULT_BUDGETS,
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
    run = GridRun(
        model,
        list(methods),
        list(budgets),
        seeds,
        list(peers),
        output,
        exact_max_segments,
        progress,
        peer_grid=list(budgets if peer_budgets is None else peer_budgets),
        answer_cache=None if cache is None else resolve_cache(cache),
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


class GridRun:
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
        self.remote = remote_scorer_of(model)
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
            earlier = stored_timing(self.answer_cache, self.remote)
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
            store_timing(self.answer_cache, self.remote, clock)
        for cell in self.cells:
            if not cell.live:
                cell.seconds = cell.library_seconds + cell.calls * clock.per_text
        self.per_text_seconds = [clock.per_text] * len(self.per_text_seconds)

    def text(self, t_index: int, text: str) -> None:
        """Every method, peer, budget and seed on one text."""
        output = self.output
        seg = segment(text)
        bound = bind_scorer(self.model, seg.text, None)[0]
        store = AnswerStore(
            SummedOutputs(bound) if output == "sum" else bound, self.answer_cache, self.shared_clock
        )
        self.last_store = store
        j = 0 if output == "sum" else output_index(store, output)
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
                    cell.rel_l2, cell.spearman, cell.top3 = accuracy(values, truth)
                    add_faithfulness(cell, values, curve_game, j)
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
                attribute(method, True, store, bound, seg, output, min(self.peer_grid), 0)
        model_before = store.model_seconds
        started = time.perf_counter()
        try:
            values, calls, distinct, model_seconds = attribute(
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


def attribute(
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
    j = 0 if output == "sum" else output_index(store, output)
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


def output_index(store: AnswerStore, output: int | str | None) -> int:
    """The column of ``output`` (an index or a name; None: the first) in the store's outputs."""
    if output is None:
        return 0
    if isinstance(output, str):
        if not store.output_names:
            store.score([""])
        if output not in store.output_names:
            raise UnknownNameError("output", output, store.output_names)
        return store.output_names.index(output)
    return int(output)


def accuracy(
    values: np.ndarray, truth: np.ndarray | None
) -> tuple[float | None, float | None, float | None]:
    """(relative L2 error, Spearman correlation, top-3 overlap) of ``values`` against exact Shapley values ``truth``; all None without a usable truth."""
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


def add_faithfulness(cell: Cell, values: np.ndarray, game: CoalitionGame, output: int) -> None:
    """Record the deletion and insertion AOPC, comprehensiveness and sufficiency of ``values`` in ``cell``."""
    curves = faithfulness(values, game, output, (FAITHFULNESS_FRACTION,))
    cell.aopc_deletion = curves.aopc_deletion
    cell.aopc_insertion = curves.aopc_insertion
    cell.comprehensiveness = curves.comprehensiveness[FAITHFULNESS_FRACTION]
    cell.sufficiency = curves.sufficiency[FAITHFULNESS_FRACTION]
