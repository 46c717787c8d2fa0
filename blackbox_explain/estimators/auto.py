"""``auto``: the most accurate estimator this budget allows for this many segments."""

from __future__ import annotations

import numpy as np

from ..game import Game
from .base import Estimate, Estimator, extremes
from .enumeration import MAX_ENUMERATION_PLAYERS
from .exact import ExactShapley
from .gpshap import GPSHAP
from .kernelshap import KernelSHAP
from .lasso import LassoHalves
from .partition import Partition

#: calls per segment from which KernelSHAP is the most accurate sampled estimator where GP-SHAP
#: does not run (benchmarks/RESULTS.md: 20 sentences of 12-14 words and three paragraphs of
#: 47-54 segments, on MiniLM and VADER)
KERNELSHAP_CALLS_PER_SEGMENT = 4.0
#: GP-SHAP runs from KernelSHAP's minimum ``n + 2`` calls on texts of up to
#: ``GPSHAP_EARLY_MAX_SEGMENTS`` segments, up to ``GPSHAP_MAX_CALLS`` calls (its cost is cubic in
#: them).  Below ``2 n + 2`` calls its leave-one-out design (the two ends, every segment left out,
#: then up to a quarter of the segments alone, those that mattered most left out, then balanced
#: halves; benchmarks/RESULTS.md, sections 15 and 18), from there its balanced design (every segment
#: alone and left out, then nearly orthogonal halves).  At 2 n and 2 n + 1 calls, where permutation
#: sampling ran before, the leave-one-out design's rel. L2 is 0.386 against 0.495 on MiniLM, 0.233
#: against 0.399 on SmolLM2, 0.017 against 0.030 on VADER sentences; only on games without
#: interactions of order 3 or more (where one antithetic pair of permutations is exact) is it
#: behind.  At 2 n + 2 calls on the recorded tables of section 5 (20 texts per model, 4 seeds): rel.
#: L2 0.148 against permutation sampling's 0.261 on SmolLM2, 0.461 against 0.585 on MiniLM.  On
#: longer texts (more than ``GPSHAP_EARLY_MAX_SEGMENTS``) it runs only for a lexicon model (below).
GPSHAP_EARLY_MAX_SEGMENTS = 64
GPSHAP_MAX_CALLS = 2048
#: below KernelSHAP's ``n + 2`` calls, the LASSO on random halves from this many calls and
#: ``LASSO_CALLS_PER_SEGMENT`` per segment, the partition method below (benchmarks/RESULTS.md,
#: section 16: on paragraphs of 47-54 words at 8 calls its rel. L2 was 0.93-1.50 against the
#: partition method's 0.97-0.99, both no better than answering zero; from a quarter of a call
#: per segment level or ahead on every model and game tried, far ahead where few segments
#: matter)
LASSO_MIN_CALLS = 8
LASSO_CALLS_PER_SEGMENT = 0.25
#: from this many calls per segment the LASSO draws its coalitions at the two nodes of a
#: Gauss-Legendre rule for Owen's integral instead of as random halves (``quadrature=2``): on
#: MiniLM's documents of 142-181 words at 4 / 8 calls per word rel. L2 0.468 / 0.431 -> 0.436 /
#: 0.345 and coverage 0.890 / 0.871 -> 0.960 / 0.960, saturating games of 150 segments 0.396 /
#: 0.365 -> 0.216 / 0.127; below it each node's fit has too few coalitions (2 per segment:
#: 0.459 -> 0.953 on those games; RESULTS section 37).  With antithetic nodes (section 38) the
#: documents 0.422 / 0.325, the saturating games 0.187 / 0.109, and they are ahead from 3 calls
#: per segment: the documents 0.506 -> 0.479, the four kinds of games of section 37 0.40-0.44 ->
#: 0.25-0.37 (few matter 0.21 -> 0.10); at 2 still behind (0.28-0.60 -> 0.36-1.01)
LASSO_QUADRATURE_CALLS_PER_SEGMENT = 3.0
#: beyond ``GPSHAP_EARLY_MAX_SEGMENTS`` segments the LASSO runs up to this many calls per segment,
#: then KernelSHAP.  GP-SHAP, which ran from 12 calls per segment up to 2048 calls (and one
#: antithetic pair of permutations and GP-SHAP from 2-3 before that, section 17), is erratic on
#: a neural model's long texts: on MiniLM and documents of 142-181 words its rel. L2 was 0.25 /
#: 0.29 / 0.93 at 12 calls per word (the LASSO 0.41 / 0.39 / 0.44), 0.71-0.86 at 13-14 and 0.69-0.88
#: at 16 (KernelSHAP 0.37-0.42); beyond 100 segments its kernel is unweighted, its fit
#: interpolates the answers it was given and its Shapley values are the fit's extrapolation.  On
#: their halves (68-97 segments, the kernel weighted) 0.21-0.68 at 12, 0.27-0.47 at 14 and
#: 0.23-0.60 at 16, where the LASSO has 0.30-0.45 and KernelSHAP at 16 0.24-0.32 (RESULTS
#: section 20)
LONG_KERNELSHAP_CALLS_PER_SEGMENT = 16.0
#: ... except that GP-SHAP runs from this many calls per segment up to
#: ``LEXICON_GPSHAP_MAX_CALLS``, since its length scales are kept where halves of the text
#: correlate (RESULTS section 21): MiniLM's documents of 142-181 words at 12 / 14 / 16 / 22 calls
#: per word, mean rel. L2 0.286 / 0.335 / 0.304 / 0.267 against the LASSO's and KernelSHAP's
#: 0.415 / 0.409 / 0.397 / 0.314 (section 2's paragraphs as one text of 150 words: 0.265 / 0.296
#: against 0.384 / 0.379 at 12 / 14), their halves of 68-97 words at 12 / 16 / 22 0.250 / 0.224
#: / 0.191 against 0.386 / 0.286 / 0.215; behind below 12 (6 per word: 0.49-0.73 against
#: 0.44-0.45)
LONG_GPSHAP_CALLS_PER_SEGMENT = 12.0
#: ... unless, from GP-SHAP's minimum ``n + 2`` calls, one of ``LEXICON_PROBES`` random
#: segments left out of the whole text changes nothing: a lexicon or rule-based model (VADER),
#: where GP-SHAP, which pools such words, is ahead, up to ``LEXICON_GPSHAP_MAX_CALLS`` calls
#: (section 17; VADER on the documents at 16 and 24 calls per word: 0.06-0.19 against
#: KernelSHAP's 0.10-0.26, and 1 s of library time at 4,000 calls; section 20)
LEXICON_PROBES = 8
LEXICON_GPSHAP_MAX_CALLS = 4096


def choose(n_players: int, budget: int) -> Estimator:
    """The estimator ``auto`` runs for ``n_players`` segments and ``budget`` calls.

    - ``2**n`` fits the budget: exact Shapley values;
    - on texts of up to ``GPSHAP_EARLY_MAX_SEGMENTS`` segments, from KernelSHAP's minimum
      ``n + 2`` calls up to ``GPSHAP_MAX_CALLS``: GP-SHAP, whose design follows the budget
      (leave-one-out below ``2 n + 2`` calls, then balanced, blended and KernelSHAP's
      coalitions).  Between ``n + 2`` and ``2 n + 1`` calls, mean relative L2 against GP-SHAP
      on KernelSHAP's coalitions, which ran there before (benchmarks/RESULTS.md, section 15,
      1.2-1.8 calls per segment): synthetic games with interactions of 12-32 segments
      0.24-0.52 against 0.43-0.75, a few segments that matter 0.08-0.34 against 0.24-0.64,
      MiniLM 0.38-0.54 against 0.55-0.69, SmolLM2 0.24-0.30 against 0.42-0.50, VADER
      0.02-0.15 against 0.17-0.64; level on the random-weight tiny LM (1.6-1.7 against
      1.5-1.7, every method worse than answering zero there); more calls than that, at least
      4 per segment: KernelSHAP;
    - beyond ``GPSHAP_EARLY_MAX_SEGMENTS`` segments, below ``LONG_KERNELSHAP_CALLS_PER_SEGMENT``
      calls per segment: the LASSO on random halves (below), from there KernelSHAP (from
      ``LONG_GPSHAP_CALLS_PER_SEGMENT`` up to ``LEXICON_GPSHAP_MAX_CALLS``: GP-SHAP), unless,
      from ``n + 2`` calls up to ``LEXICON_GPSHAP_MAX_CALLS``, :class:`Auto`'s probe of
      ``LEXICON_PROBES`` leave-one-outs finds a word that changes nothing (a lexicon model):
      then GP-SHAP, which pools such words.  On documents of 142-181 words (benchmarks/
      RESULTS.md, sections 17 and 20), MiniLM 0.47-0.60 rel. L2 at 2-4 calls per word where one
      antithetic pair of permutations (2-3 per word) had 1.12-1.18 and GP-SHAP's balanced
      design (from 3) 0.71-0.86, and 0.37-0.42 at 16 where GP-SHAP had 0.69-0.88 (before its
      length scales kept halves of the text correlated: now 0.26-0.33, section 21); VADER, mean
      over the documents at 2-8 calls per word, 0.17-0.30 where it had 0.33-0.71;
    - fewer calls than that (below ``n + 2`` on texts of up to ``GPSHAP_EARLY_MAX_SEGMENTS``
      segments), from ``LASSO_MIN_CALLS`` calls and a quarter of
      a call per segment: the LASSO on random halves (:mod:`.lasso`; benchmarks/RESULTS.md,
      section 16).  Beyond 100 segments from ``n + 2`` to ``2 n`` it replaced KernelSHAP with
      its cross-validated ridge: rel. L2 0.28-0.43 against 0.62-0.77 on synthetic games of
      150-300 segments of which few matter, 0.56-0.80 against 0.71-0.84 where every one does,
      MiniLM on a 150-word text 0.55-0.70 against 0.73-0.82 (GP-SHAP's leave-one-out design,
      its kernel unweighted beyond 100 segments, 0.82-0.91 there);
      faster from 1,000 segments (library time 0.66 against 0.95 ms per call at 1,000 segments
      and 1,500 calls, 3.0 against 7.1 at 3,000 and 4,500), slower below (1.0 against 0.17 at
      300 and 450).  On an LLM's answer from a context of 20-48 sentences, ContextCite's linear datamodeling score 0.81-0.86 at 12-32 calls where
      the partition method, which ran there before, had 0.38-0.54 at 16-32 (ContextCite itself
      0.77-0.85); on synthetic games of which few of 20-48 segments matter, rel. L2 0.36-0.60
      from 0.3 calls per segment against 0.84-0.97; where every segment matters both are no
      better than answering zero (the LASSO 1.04-1.19, the partition method 0.90-0.99 below
      half a call per segment; on MiniLM paragraphs from half a call per word the LASSO is
      ahead, 0.73-0.94 against 0.87-0.99);
    - below that: the coarse-to-fine partition method.
    """
    n = n_players
    if n <= MAX_ENUMERATION_PLAYERS and 2**n <= budget:
        return ExactShapley()
    if n <= GPSHAP_EARLY_MAX_SEGMENTS:
        if GPSHAP().min_budget(n) <= budget <= GPSHAP_MAX_CALLS:
            return GPSHAP()
        if budget >= KERNELSHAP_CALLS_PER_SEGMENT * n:
            return KernelSHAP()
    elif LONG_GPSHAP_CALLS_PER_SEGMENT * n <= budget <= LEXICON_GPSHAP_MAX_CALLS:
        return GPSHAP()
    elif budget >= LONG_KERNELSHAP_CALLS_PER_SEGMENT * n:
        return KernelSHAP()
    if budget >= max(LASSO_MIN_CALLS, LASSO_CALLS_PER_SEGMENT * n):
        return LassoHalves(quadrature=2 if budget >= LASSO_QUADRATURE_CALLS_PER_SEGMENT * n else 1)
    return Partition()


class Auto(Estimator):
    """Picks the most accurate Shapley estimator for the budget and the number of segments
    (see :func:`choose`)."""

    name = "auto"
    efficient = True

    def min_budget(self, n_players: int) -> int:
        return Partition().min_budget(n_players)

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        n = game.n_players
        chosen = choose(n, budget)
        probed, lexicon = 0, None
        if may_be_lexicon(n, budget, chosen):
            probed, lexicon = probe_lexicon(game, rng)
            if lexicon:  # GP-SHAP asks every leave-one-out: the probes are free there
                chosen, probed = GPSHAP(), 0
        result = chosen.estimate(game, budget - probed, rng)
        if lexicon is not None:
            result.info["lexicon_probe"] = "inert words" if lexicon else "no inert word"
        result.info["chosen_method"] = chosen.name
        result.info["chosen_params"] = chosen.get_params()
        return result


def may_be_lexicon(n_players: int, budget: int, chosen: Estimator) -> bool:
    """Whether :class:`Auto` probes for a lexicon model before running ``chosen``: beyond
    ``GPSHAP_EARLY_MAX_SEGMENTS`` segments, from GP-SHAP's minimum ``n + 2`` calls up to
    ``LEXICON_GPSHAP_MAX_CALLS``, where the LASSO would run (below 12 calls per segment; from
    there up to that many calls :func:`choose` gives GP-SHAP already, KernelSHAP only beyond)."""
    return (
        n_players > GPSHAP_EARLY_MAX_SEGMENTS
        and GPSHAP().min_budget(n_players) <= budget <= LEXICON_GPSHAP_MAX_CALLS
        and isinstance(chosen, LassoHalves)
    )


def probe_lexicon(game: Game, rng: np.random.Generator) -> tuple[int, bool]:
    """``(calls spent, whether it looks like a lexicon model)``: the two ends and
    ``LEXICON_PROBES`` random segments left out of the whole text; a lexicon or rule-based
    model leaves most words of a text inert (their answer equals the whole text's, to 1e-12 of
    its scale), a neural model none."""
    n = game.n_players
    left_out = np.ones((LEXICON_PROBES, n), dtype=bool)
    left_out[np.arange(LEXICON_PROBES), rng.choice(n, LEXICON_PROBES, replace=False)] = False
    values = np.asarray(game(np.vstack([extremes(n), left_out])), dtype=np.float64)
    scale = max(float(np.abs(values).max()), 1e-300)
    unchanged = np.abs(values[2:] - values[1]).max(axis=1) <= 1e-12 * scale
    return LEXICON_PROBES, bool(unchanged.any())
