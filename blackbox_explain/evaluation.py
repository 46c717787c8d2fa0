"""Faithfulness of an explanation, measured through the same engine and cache.

- deletion curve: the output as the most important segments are removed one by one (from the
  full text); its area over the perturbation curve (AOPC, Samek et al. 2017) is the mean drop;
- insertion curve: the output as they are added one by one (from the empty text);
- comprehensiveness and sufficiency (DeYoung et al. 2020, ERASER) at the top 1, 5, 10, 20, 50%
  of segments: the drop when the top segments are removed, and when only they are kept;
- leave-one-out rank correlation: Spearman between the attributions and ``v(all) - v(all - i)``;
- where ``2**n`` coalitions are affordable, the error against exact Shapley values (skipped,
  with the reason in ``meta["exact_skipped"]``, when they do not fit ``budget``, and for a paid
  API unless ``exact_max_segments`` is given).

Most of the texts are usually in the cache already (the explanation asked for them), so an
evaluation costs few new calls; the calls it made are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .cache import Cache
from .dryrun import DryRun, PlanningGame, estimate_cost
from .errors import BudgetExhaustedError, InputError, InputTypeError
from .estimators.enumeration import MAX_ENUMERATION_PLAYERS, all_masks, shapley_from_table
from .explanation import Explanation, jsonable
from .game import CoalitionGame
from .maskers import Masker, get_masker
from .resolve import bind_scorer, remote_scorer_of, resolve_cache

ERASER_FRACTIONS = (0.01, 0.05, 0.1, 0.2, 0.5)
#: texts of up to this many segments are compared with exact Shapley values by default
EXACT_MAX_SEGMENTS = 12


@dataclass
class Curves:
    """Deletion and insertion curves of one attribution vector, and what is read off them."""

    order: list[int]
    deletion_curve: np.ndarray
    insertion_curve: np.ndarray
    aopc_deletion: float
    aopc_insertion: float
    comprehensiveness: dict[float, float]
    sufficiency: dict[float, float]


@dataclass
class Evaluation(Curves):
    """Faithfulness metrics of one explanation for one output (see the module docstring)."""

    output: str = ""
    loo_spearman: float | None = None
    exact_rel_l2: float | None = None
    exact_spearman: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-safe) of every measure, the curves and the calls."""
        return jsonable(
            {
                "output": self.output,
                "order": self.order,
                "deletion_curve": self.deletion_curve,
                "insertion_curve": self.insertion_curve,
                "aopc_deletion": self.aopc_deletion,
                "aopc_insertion": self.aopc_insertion,
                "comprehensiveness": {str(k): v for k, v in self.comprehensiveness.items()},
                "sufficiency": {str(k): v for k, v in self.sufficiency.items()},
                "loo_spearman": self.loo_spearman,
                "exact_rel_l2": self.exact_rel_l2,
                "exact_spearman": self.exact_spearman,
                "meta": self.meta,
            }
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        """The evaluation :meth:`to_dict` wrote (an explanation's ``meta["evaluation"]``)."""
        try:
            return cls(
                order=[int(i) for i in data["order"]],
                deletion_curve=np.asarray(data["deletion_curve"], dtype=np.float64),
                insertion_curve=np.asarray(data["insertion_curve"], dtype=np.float64),
                aopc_deletion=float(data["aopc_deletion"]),
                aopc_insertion=float(data["aopc_insertion"]),
                comprehensiveness={float(k): v for k, v in data["comprehensiveness"].items()},
                sufficiency={float(k): v for k, v in data["sufficiency"].items()},
                output=str(data["output"]),
                loo_spearman=data.get("loo_spearman"),
                exact_rel_l2=data.get("exact_rel_l2"),
                exact_spearman=data.get("exact_spearman"),
                meta=dict(data.get("meta") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"a malformed evaluation ({type(exc).__name__}: {exc})") from exc

    def to_text(self) -> str:
        """The measures as a few lines for the terminal."""
        lines = [
            f"faithfulness of the explanation of {self.output!r} "
            f"({self.meta.get('n_calls', 0)} new calls, {self.meta.get('n_cache_hits', 0)} cached)",
            f"  AOPC deletion  {self.aopc_deletion:+.4g}   (mean drop as top segments are removed)",
            f"  AOPC insertion {self.aopc_insertion:+.4g}   (mean gain as top segments are added)",
            "  comprehensiveness "
            + ", ".join(f"{k:.0%}: {v:+.3g}" for k, v in self.comprehensiveness.items()),
            "  sufficiency       "
            + ", ".join(f"{k:.0%}: {v:+.3g}" for k, v in self.sufficiency.items()),
        ]
        if self.loo_spearman is not None:
            lines.append(f"  leave-one-out Spearman {self.loo_spearman:.3f}")
        if self.exact_rel_l2 is not None:
            rho = "n/a" if self.exact_spearman is None else f"{self.exact_spearman:.3f}"
            lines.append(f"  vs exact Shapley: relative L2 {self.exact_rel_l2:.3f}, Spearman {rho}")
        elif self.meta.get("exact_skipped"):
            lines.append(f"  vs exact Shapley: skipped ({self.meta['exact_skipped']})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman rank correlation (average ranks for ties); None when either side is constant."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    ra, rb = _ranks(a), _ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=float)
    for value in np.unique(x):
        tied = x == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return ranks


def curve_masks(values: np.ndarray) -> tuple[list[int], np.ndarray]:
    """The segments from the most positive attribution down, and the keep-masks of the deletion
    curve (``n + 1`` rows from the full text) stacked over those of the insertion curve (from
    the empty text)."""
    n = len(values)
    order = [int(i) for i in np.argsort(-values, kind="stable")]  # most positive first
    deletion = np.ones((n + 1, n), dtype=bool)
    insertion = np.zeros((n + 1, n), dtype=bool)
    for k in range(1, n + 1):
        deletion[k:, order[k - 1]] = False
        insertion[k:, order[k - 1]] = True
    return order, np.vstack([deletion, insertion])


def faithfulness(
    values: np.ndarray,
    game: Any,
    output: int,
    fractions: tuple[float, ...] = ERASER_FRACTIONS,
    n_outputs: int | None = None,
) -> Curves:
    """Deletion/insertion curves of attributions ``values`` ``(n,)`` for output ``output``.

    ``game`` maps keep-masks ``(m, n)`` to model outputs ``(m, k)`` (a
    :class:`~blackbox_explain.game.CoalitionGame`); ``n_outputs``, when given, is checked.
    """
    n = len(values)
    order, masks = curve_masks(values)
    table = game(masks)
    if n_outputs is not None and table.shape[1] != n_outputs:
        raise InputError(
            f"the model gives {table.shape[1]} outputs but the explanation has {n_outputs}"
        )
    deletion_curve, insertion_curve = table[: n + 1, output], table[n + 1 :, output]
    full, empty = deletion_curve[0], insertion_curve[0]
    comprehensiveness, sufficiency = {}, {}
    for q in fractions:
        k = max(1, round(q * n))
        comprehensiveness[q] = float(full - deletion_curve[k])
        sufficiency[q] = float(full - insertion_curve[k])
    return Curves(
        order,
        deletion_curve,
        insertion_curve,
        float(np.mean(full - deletion_curve[1:])),
        float(np.mean(insertion_curve[1:] - empty)),
        comprehensiveness,
        sufficiency,
    )


def _evaluated_output(
    explanation: Explanation, output: int | str | None
) -> tuple[list[str], list[int], np.ndarray, str]:
    """(the model outputs the explanation was made on, the columns of them evaluated, the
    attributions evaluated, the evaluated output's name).

    Summable outputs (an LM answer's tokens) are evaluated as their ``"total"`` by default, as
    they are shown; an explanation made by :meth:`Explanation.sum_outputs` is evaluated on the
    sum of the outputs it summed.
    """
    names = list(explanation.output_names)
    summed = explanation.meta.get("summed_outputs")
    if summed and len(names) == 1:
        return list(summed), list(range(len(summed))), explanation.values[:, 0], names[0]
    summable = explanation.meta.get("summable_outputs") and len(names) > 1
    if (output == "total" and "total" not in names) or (output is None and summable):
        if not summable:
            raise InputError(
                f"'total' sums an LM answer's tokens; this explanation's outputs are {names}"
            )
        return names, list(range(len(names))), explanation.values.sum(axis=1), "total"
    j = explanation.output_index(output)
    return names, [j], explanation.values[:, j], names[j]


def _rebind(model: Any, explanation: Explanation) -> Any:
    """The model bound to the explained text and the target the explanation recorded.

    A label-mode scorer records its labels (``{"labels": [...], ...}``) as its target and is
    bound without one.  A model that would bind to another target (other labels, another
    answer) is refused: its numbers would not be about the explanation.
    """
    given = explanation.meta.get("target")
    recorded = jsonable(given)
    target = None if isinstance(recorded, dict) and "labels" in recorded else given
    scorer, used = bind_scorer(model, explanation.segmentation.text, target)
    if recorded is not None and jsonable(used) != recorded:
        raise InputError(
            f"the explanation was made for the target {recorded!r}, but this model gives "
            f"{jsonable(used)!r}: evaluate with the model that was explained"
        )
    return scorer


def _exact_wanted(
    n: int, exact_max_segments: int | None, scorer: Any, new_calls: Callable[[], int]
) -> tuple[bool, str | None]:
    """Whether an evaluation compares with exact Shapley values (``2**n`` coalitions), and why
    not when it is a choice the caller should know about: on a paid API only when asked, or
    when the cache holds them all (``new_calls()``: how many of them are not answered yet)."""
    if exact_max_segments is None:
        if remote_scorer_of(scorer) is not None and n <= EXACT_MAX_SEGMENTS and new_calls() > 0:
            return False, (
                f"a paid API: its 2^{n} coalitions are asked only when exact_max_segments "
                "(--exact-max) is given"
            )
        exact_max_segments = EXACT_MAX_SEGMENTS
    return n <= min(exact_max_segments, MAX_ENUMERATION_PLAYERS), None


def evaluate(
    explanation: Explanation,
    model: Any,
    *,
    output: int | str | None = None,
    masker: str | Masker = "delete",
    fractions: tuple[float, ...] = ERASER_FRACTIONS,
    loo: bool = True,
    exact_max_segments: int | None = None,
    budget: int | None = None,
    cache: Cache | str | None = None,
    batch_size: int | None = None,
    progress: bool | None = None,
) -> Evaluation:
    """Faithfulness metrics of ``explanation`` for ``model`` (the model that was explained).

    ``output``: an output's index or name, or ``"total"`` for the sum of an LM answer's token
    outputs (the default for those, as they are shown; otherwise the first output).
    ``masker`` must be the one the explanation used (``delete`` by default).  ``budget`` caps the
    new calls (``None``: no cap).  ``exact_max_segments``: texts of up to this many segments are
    compared with exact Shapley values, at up to ``2**n`` new calls (``None``:
    :data:`EXACT_MAX_SEGMENTS` for a local model; for a paid API only when given, as those calls
    may cost far more than the explanation did, or when the cache holds them all).  Pass the
    explainer's cache (``explainer.cache``) so the texts the explanation already scored are
    free.  ``progress``: a progress bar (``None``: when
    stderr is a terminal and the run is long).
    """
    if not isinstance(explanation, Explanation):
        raise InputTypeError(
            f"evaluate needs an Explanation (from explain, or Explanation.load_many), got "
            f"{type(explanation).__name__}"
        )
    seg = explanation.segmentation
    n = len(seg)
    expected, columns, values, shown = _evaluated_output(explanation, output)
    scorer = _rebind(model, explanation)
    game = CoalitionGame(
        scorer, seg, get_masker(masker), budget, resolve_cache(cache), batch_size, progress
    )
    # the full text first: its outputs must be the explained ones
    given = game(np.ones((1, n), dtype=bool)).shape[1]
    names = list(game.output_names or [])
    if given != len(expected) or (names and names != expected):
        raise InputError(
            f"the explanation's outputs are {expected}, but this model's are "
            f"{names or given}: evaluate with the model that was explained"
        )

    def read(masks: np.ndarray) -> np.ndarray:
        """The evaluated output (one column, or the sum of the summed ones) at ``masks``."""
        return game(masks)[:, columns].sum(axis=1, keepdims=True)

    curves = faithfulness(values, read, 0, fractions)
    full = curves.deletion_curve[0]
    loo_rho = None
    if loo:
        masks = ~np.eye(n, dtype=bool)
        drops = full - read(masks)[:, 0]
        loo_rho = spearman(values, drops)
    exact_l2 = exact_rho = None
    wanted, exact_skipped = _exact_wanted(
        n, exact_max_segments, scorer, lambda: game.cost(all_masks(n))
    )
    if wanted:
        try:
            table = read(all_masks(n))
        except BudgetExhaustedError as exc:  # the answers received before it stay cached
            exact_skipped = f"the 2^{n} coalitions do not fit the budget: {exc}"
        else:
            exact = shapley_from_table(table, n)[:, 0]
            norm = np.linalg.norm(exact)
            exact_l2 = float(np.linalg.norm(values - exact) / norm) if norm > 0 else None
            exact_rho = spearman(values, exact)
    return Evaluation(
        **vars(curves),
        output=shown,
        loo_spearman=loo_rho,
        exact_rel_l2=exact_l2,
        exact_spearman=exact_rho,
        meta={
            "n_calls": game.stats.n_calls,
            "n_cache_hits": game.stats.n_cache_hits,
            "method": explanation.meta.get("method"),
            "masker": repr(game.masker),
            **({"exact_skipped": exact_skipped} if exact_skipped else {}),
        },
    )


def plan_evaluation(
    explanation: Explanation,
    model: Any,
    *,
    output: int | str | None = None,
    masker: str | Masker = "delete",
    loo: bool = True,
    exact_max_segments: int | None = None,
    budget: int | None = None,
    cache: Cache | str | None = None,
) -> DryRun:
    """A dry run of :func:`evaluate` with the same arguments: the new calls (those the cache
    cannot answer), tokens and cost it would take; no call is made."""
    seg = explanation.segmentation
    n = len(seg)
    _, _, values, _ = _evaluated_output(explanation, output)
    scorer = _rebind(model, explanation)
    game = PlanningGame(scorer, seg, get_masker(masker), None, resolve_cache(cache))
    parts = [np.ones((1, n), dtype=bool), curve_masks(values)[1]]
    if loo:
        parts.append(~np.eye(n, dtype=bool))
    game(np.vstack(parts))
    curves = game.stats.n_calls
    wanted, skipped = _exact_wanted(
        n,
        exact_max_segments,
        scorer,
        lambda: len(set(game.uncached(game.texts(all_masks(n)))) - set(game.planned)),
    )
    if wanted:
        game(all_masks(n))
    planned = getattr(game, "planned", [])
    tokens_in, tokens_out, cost = estimate_cost(remote_scorer_of(scorer), planned)
    notes = [f"exact Shapley comparison skipped: {skipped}"] if skipped else []
    if budget is not None and curves > budget:
        notes.append(f"the curves alone need more than the budget of {budget}: it would fail")
    elif budget is not None and len(planned) > budget:
        notes.append(
            f"the exact comparison does not fit the budget of {budget}: it would be skipped"
        )
    return DryRun(
        "evaluate",
        len(planned) if budget is None else budget,
        len(planned),
        game.stats.n_cache_hits,
        tokens_in,
        tokens_out,
        cost,
        True,
        "; ".join(notes),
    )
