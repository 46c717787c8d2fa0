"""Inert segments pooled into one: a lexicon model's words that change nothing.

A segment whose removal changes no answer, alone or left out of the whole text (a word outside
VADER's lexicon, :func:`~.answers.inert_players`), is almost always a dummy: it changes
nothing anywhere.  Every inert segment of a text becomes one pooled segment, the others stay
as they are, and an estimator runs on that smaller game with the rest of the budget (the
answers asked to find the inert segments are its ends, singletons and leave-one-outs: free).
Whatever value the pool gets is shared evenly among its members; a dummy's is 0.  Before
pooling, a few pairs of coalitions that differ only in which inert segments they hold check
that assumption (a word that counts only in company, with some others gone, fails it); if one
pair's answers differ, the game goes to the fallback estimator instead.

On VADER, which leaves most words of a text inert, GP-SHAP gave such texts to KernelSHAP's
regression alone (exact on sparse games of low order, but a long text's compound score
saturates: interactions of every order).  Pooled: section 2's paragraphs of 47-54 words, mean
relative L2 at 110-400 calls 0.071 -> 0.013; documents of 142-181 words, `auto` at 2-12 calls
per word 0.16-0.30 on average where it had 0.23-0.71; a 12-word lexicon sentence exact from
40 calls (KernelSHAP's regression 0.03-0.15 max error at 30-100); benchmarks/RESULTS.md,
section 17.  VADER's inert words are not always dummies (a negation or booster that counts
once the words between it and a sentiment word are gone): the checks catch some of those.
Where every answer is one of two values (a label scored 0 or 1) nothing is pooled
(:func:`~.answers.dummy_candidates`): a label that flips at neither end says nothing of the
coalitions between, and the checks, which split the inert segments in halves, rarely see them.
"""

from __future__ import annotations

import numpy as np

from ..game import Game, GroupedGame
from .base import Estimate, Estimator

#: pairs of coalitions that check the pooled segments are dummies before pooling them: one
#: pair per 8 calls left up to this many, and beyond that up to a sixteenth of the calls left
#: (:func:`check_pairs`), asked this many at a time until one pair's answers differ.  Eight
#: alone missed half of VADER's news report's first half (97 words, 91 inert; the pool and
#: no pool differed in 6 of 32 random contexts): pooled at every budget, its rel. L2 stayed
#: 0.193 from 12 to 32 calls per word (modelled, 0.050-0.053); benchmarks/RESULTS.md, section 21
CHECK_PAIRS = 8
UNCHECKED_NOTE = (
    "segments that changed nothing alone or left out were pooled and share the pool's value; "
    "too few calls were left to check that they change nothing anywhere, so they have none"
)


def pool_inert(
    estimator: Estimator,
    fallback: Estimator,
    game: Game,
    budget: int,
    rng: np.random.Generator,
    asked: tuple[np.ndarray, np.ndarray],
    inert: np.ndarray,
) -> Estimate:
    """``estimator`` on the game whose inert segments (``inert``, a boolean mask, some but not
    all true) are pooled into one last segment, within ``budget`` calls of which ``asked`` (the
    ends, every singleton and every leave-one-out, with their answers) were spent.

    The pooled game's ends, active singletons and active leave-one-outs are among ``asked``, so
    the estimator gets them free on top of what is left.  With at least 8 calls left, pairs of
    coalitions (:func:`dummy_checks`, as many as :func:`check_pairs` allows, ``CHECK_PAIRS`` at
    a time) first check that the inert segments are dummies; once a pair's answers differ,
    ``fallback`` gets the game instead.

    Each pooled segment gets the pool's value divided evenly, and a standard error of the
    pool's divided likewise plus the pool's whole value in quadrature (its members' values
    might not be equal): 0 when the pool is worth nothing.  Without a check they have none
    (NaN, ``std_note`` says why).  Never reported exact: the pooling is an assumption, checked
    or not.  The estimate's ``info`` says how many segments were pooled and how many pairs
    checked them.
    """
    masks, values = asked
    n = masks.shape[1]
    active = np.flatnonzero(~inert)
    pool = np.flatnonzero(inert)
    left = budget - len(masks)
    pairs = check_pairs(left)
    if pairs:
        checks = dummy_checks(rng, inert, pairs)
        scale = max(float(np.abs(values).max()), 1e-300)
        for start in range(0, len(checks), 2 * CHECK_PAIRS):
            rows = checks[start : start + 2 * CHECK_PAIRS]
            answers = np.asarray(game(rows), dtype=np.float64)
            left -= len(rows)
            if np.abs(answers[0::2] - answers[1::2]).max() > 1e-12 * scale:
                checked = start + len(rows)
                estimate = fallback.estimate(game, budget - checked, rng)
                estimate.info.update(
                    {
                        "inert_segments": len(pool),
                        "pooled_inert": False,
                        "dummy_checks": checked // 2,
                    }
                )
                return estimate
    pooled = GroupedGame(game, [[int(i)] for i in active] + [pool.tolist()], set())
    free = 2 + 2 * len(active)
    inner = estimator.estimate(pooled, left + free, rng)
    a, k = len(active), inner.values.shape[1]
    pool_value = inner.values[a]
    values = np.zeros((n, k))
    values[active] = inner.values[:a]
    values[pool] = pool_value / len(pool)
    inner_std = np.zeros_like(inner.values) if inner.std is None else inner.std
    std = np.zeros((n, k))
    std[active] = inner_std[:a]
    info = dict(inner.info)
    info.update({"inert_segments": len(pool), "pooled_inert": True, "exact": False})
    info["dummy_checks"] = pairs
    if pairs:
        std[pool] = np.sqrt((inner_std[a] / len(pool)) ** 2 + pool_value**2)
    else:
        std[pool] = np.nan
        info["std_note"] = UNCHECKED_NOTE
    return Estimate(values, inner.base_value, inner.full_value, std, info)


def check_pairs(left: int) -> int:
    """How many pairs of coalitions check the inert segments with ``left`` calls left: one per
    8 calls up to ``CHECK_PAIRS``, then up to a sixteenth of the calls."""
    return max(min(CHECK_PAIRS, left // 8), left // 32)


def dummy_checks(rng: np.random.Generator, inert: np.ndarray, pairs: int) -> np.ndarray:
    """``(2 pairs, n)``: pairs of coalitions alike in the active segments (a random half of
    them); in the inert ones, alternately a random part against the rest (whether its members
    differ) and all against none (the pool's own effect).  If the inert segments are dummies,
    both of a pair have the same answer."""
    n = len(inert)
    rows = np.zeros((2 * pairs, n), dtype=bool)
    for p in range(pairs):
        active_half = (rng.random(n) < 0.5) & ~inert
        part = inert if p % 2 else (rng.random(n) < 0.5) & inert
        rows[2 * p] = active_half | part
        rows[2 * p + 1] = active_half | (inert & ~part)
    return rows
