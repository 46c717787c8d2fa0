"""A dry run of the benchmark: the calls, tokens and cost it would take, no call made."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..cache import Cache
from ..dryrun import estimate_cost
from ..estimators import parse_method_spec
from ..estimators.enumeration import all_masks
from ..maskers import Delete
from ..resolve import UnboundModel, bind_scorer, binding_generates, remote_scorer_of, resolve_cache
from ..segmentation import segment
from .store import CALIBRATION_TEXTS, SummedOutputs, stored_timing

DEFAULT_METHODS = ("auto", "gpshap", "kernelshap", "permutation", "partition", "sparse", "lime")
DEFAULT_BUDGETS = (32, 64, 128, 256)


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
    methods: Sequence[str] = DEFAULT_METHODS,
    budgets: Sequence[int] = DEFAULT_BUDGETS,
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
    answer_cache = None if cache is None else resolve_cache(cache)
    remote = remote_scorer_of(model)
    generates = hasattr(model, "bind") and binding_generates(model)
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
            scorer: Any = UnboundModel(model)
        else:
            scorer = bind_scorer(model, seg.text, None)[0]
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
    # in the cache), a local model per text (see GridRun)
    if remote is None:
        calibration = CALIBRATION_TEXTS * len(texts)
    else:
        timed = stored_timing(answer_cache, remote) is not None
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
