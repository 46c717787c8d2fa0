"""How far `auto` is from an oracle that knows each text's spectrum, for RESULTS section 27.

    python benchmarks/bench_oracle.py tiny --budgets 96,128,192,256,384
    python benchmarks/bench_oracle.py minilm --budgets 32,48,64,80,128,192,256,512
    python benchmarks/bench_oracle.py synthetic --players 10 --budgets 64,128

On the recorded 2^n tables of ``bench_auto_curve.py`` (same cases, same cache): each text's
Walsh spectrum (the mean squared coefficient of each interaction order) defines a Gaussian
prior, ``k(S, T)`` a function of ``|S xor T|`` alone (the Krawtchouk transform of the
spectrum); the coalitions are then picked greedily for it, after the two ends and every segment
alone and left out, each time the one whose answer most reduces the summed posterior variance
of the Shapley values (Bayesian experimental design; the same search as
``estimators/variance_design.py`` under the text's own prior instead of a fixed one).  Printed
per budget, mean / median rel. L2 over the texts: the oracle's posterior mean (exact where
asked), GP-SHAP's own fit of the oracle's coalitions, and `auto` (``--seeds`` seeds); then
the share of the exact values within +-1.96 of the oracle's posterior standard deviations.

The oracle is the Bayes-optimal estimator for a game drawn from that Gaussian prior, with a
design near-optimal for it; a real game is not such a draw (a sparse one can be found in fewer
calls by other means), so it is a reference, not a bound.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import blackbox_explain as bbx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from bench_auto_curve import cases  # noqa: E402

from blackbox_explain.estimators.enumeration import (  # noqa: E402
    all_masks,
    shapley_from_table,
    shapley_of_partial_table,
    shapley_weights,
)
from blackbox_explain.estimators.gp_fit import fit_columns  # noqa: E402
from blackbox_explain.estimators.gp_kernel import SIZE_RATIOS, relevance_weights  # noqa: E402
from blackbox_explain.estimators.gpshap import GPSHAP  # noqa: E402


def walsh_spectrum(table: np.ndarray, n: int) -> np.ndarray:
    """``(n + 1,)``: the mean squared Walsh coefficient of each interaction order of a game's
    table (row ``r``: the coalition whose players are the set bits of ``r``)."""
    coefficients = np.asarray(table, dtype=np.float64).copy()
    step = 1
    while step < len(coefficients):  # the fast Walsh-Hadamard transform, in place
        blocks = coefficients.reshape(-1, 2, step)
        low, high = blocks[:, 0, :].copy(), blocks[:, 1, :].copy()
        blocks[:, 0, :], blocks[:, 1, :] = low + high, high - low
        step *= 2
    coefficients /= 2**n
    orders = all_masks(n).sum(axis=1)
    return np.array([np.mean(coefficients[orders == k] ** 2) for k in range(n + 1)])


def covariance_by_distance(spectrum: np.ndarray, n: int) -> np.ndarray:
    """``(n + 1,)``: the prior covariance of two coalitions ``d`` segments apart when the
    Walsh coefficients of order ``k`` are independent with variance ``spectrum[k]`` (the
    Krawtchouk polynomials ``K_k(d)``)."""
    from scipy.special import comb

    krawtchouk = np.array(
        [
            [
                sum((-1) ** j * comb(d, j) * comb(n - d, k - j) for j in range(k + 1))
                for k in range(n + 1)
            ]
            for d in range(n + 1)
        ]
    )
    return np.asarray(krawtchouk @ spectrum)


def gpshap_fit(masks: np.ndarray, answers: np.ndarray) -> np.ndarray:
    """GP-SHAP's values from these coalitions' answers, as its balanced and variance designs
    fit them: the hyperparameter grid averaged over, the residuals added back."""
    values = answers[:, None]
    modelled = np.ones(1, dtype=bool)
    relevance = relevance_weights(masks, values)
    phi, _, residuals, _ = fit_columns(
        masks,
        values,
        modelled,
        np.random.default_rng(0),
        relevance,
        SIZE_RATIOS,
        GPSHAP().max_fit_points,
        exact_answers=True,
    )
    return np.asarray((phi + shapley_of_partial_table(masks, residuals))[:, 0])


def oracle_errors(
    table: np.ndarray, n: int, budgets: list[int]
) -> dict[int, tuple[float, float, np.ndarray]]:
    """For each budget below ``2 ** n``: rel. L2 of the oracle's posterior mean and of GP-SHAP's
    fit on the oracle's coalitions, and which exact values lie within +-1.96 of the oracle's
    posterior standard deviations (its prior is the game's own spectrum: how well a Gaussian
    prior of the right shape covers)."""
    exact = shapley_from_table(table[:, None], n)[:, 0]
    spectrum = walsh_spectrum(table, n)
    spectrum[0] = max(spectrum[0], 10.0 * spectrum[1:].sum())  # the level: barely constrained
    by_distance = covariance_by_distance(spectrum, n)
    ids = np.arange(2**n)
    orders = all_masks(n).sum(axis=1)
    distance = orders[ids[:, None] ^ ids[None, :]]
    covariance = by_distance[distance]  # of the answers, updated as they come
    weights = shapley_weights(all_masks(n))
    cross = weights.T @ covariance  # of the Shapley values with them
    shapley_variance = np.einsum("ri,rs,si->i", weights, covariance, weights)
    asked: list[int] = []
    out: dict[int, tuple[float, float, np.ndarray]] = {}
    full = 2**n - 1
    first = [0, full] + [1 << i for i in range(n)] + [full ^ (1 << i) for i in range(n)]
    wanted = {b for b in budgets if b < 2**n}
    while len(asked) < max(wanted, default=0):
        if len(asked) < len(first):
            pick = first[len(asked)]
        else:
            score = (cross**2).sum(axis=0) / np.clip(np.diag(covariance), 1e-300, None)
            score[asked] = -1.0
            pick = int(np.argmax(score))
        column = covariance[:, pick].copy()
        shapley_variance = shapley_variance - cross[:, pick] ** 2 / column[pick]
        cross -= np.outer(cross[:, pick], column) / column[pick]
        covariance -= np.outer(column, column) / column[pick]
        asked.append(pick)
        if len(asked) in wanted:
            rows = np.array(asked)
            gram = by_distance[distance[np.ix_(rows, rows)]] + 1e-10 * by_distance[0] * np.eye(
                len(rows)
            )
            mean = by_distance[distance[:, rows]] @ np.linalg.solve(gram, table[rows])
            mean[rows] = table[rows]
            oracle = shapley_from_table(mean[:, None], n)[:, 0]
            fit = gpshap_fit(all_masks(n)[rows], table[rows])
            norm = np.linalg.norm(exact)
            std = np.sqrt(np.maximum(shapley_variance, 0.0))
            out[len(asked)] = (
                float(np.linalg.norm(oracle - exact) / norm),
                float(np.linalg.norm(fit - exact) / norm),
                np.abs(oracle - exact) <= 1.96 * std + 1e-12,
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", choices=["synthetic", "saturating", "minilm", "tiny", "smollm2"])
    parser.add_argument("--budgets", required=True, help="calls, comma-separated")
    parser.add_argument("--players", type=int, default=10, help="synthetic games: players (10)")
    parser.add_argument("--games", type=int, default=3, help="synthetic games: games (3)")
    parser.add_argument("--seeds", type=int, default=2, help="`auto`'s seeds per text (2)")
    parser.add_argument("--cache", default=str(HERE / "out" / "auto-curve.sqlite"))
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    found, _ = cases(args)
    rows: dict[int, dict[str, list[float]]] = {
        b: {"auto": [], "oracle": [], "fit": []} for b in budgets
    }
    covered: dict[int, list[bool]] = {b: [] for b in budgets}
    for model, text, exact in found:
        n = len(bbx.segment(text))
        synthetic = args.model in ("synthetic", "saturating")
        cache = None if synthetic else args.cache
        answers = answers_of(model, text, all_masks(n), cache)  # recorded by cases()
        table = answers.sum(axis=1) if args.model == "smollm2" else answers[:, 0]
        total = exact.sum(axis=1) if args.model == "smollm2" else exact[:, 0]
        for budget, (oracle, fit, inside) in oracle_errors(table, n, budgets).items():
            rows[budget]["oracle"].append(oracle)
            rows[budget]["fit"].append(fit)
            covered[budget].extend(inside)
        for budget in budgets:
            if budget >= 2**n:
                continue
            for seed in range(args.seeds):
                exp = bbx.explain(
                    model, text, "auto", budget, seed=seed, cache=cache, progress=False
                )
                estimate = exp.values.sum(axis=1) if args.model == "smollm2" else exp.values[:, 0]
                rows[budget]["auto"].append(
                    float(np.linalg.norm(estimate - total) / np.linalg.norm(total))
                )
    print(
        "| calls | `auto` | oracle: its prior and design | GP-SHAP's fit of the oracle's coalitions "
        "| the oracle's coverage |"
    )
    print("|---:|---|---|---|---:|")
    for budget in budgets:
        cells = [
            f"{np.mean(v):.3f} / {np.median(v):.3f}" if v else "-" for v in rows[budget].values()
        ]
        cells.append(f"{np.mean(covered[budget]):.3f}" if covered[budget] else "-")
        print(f"| {budget} | {' | '.join(cells)} |", flush=True)
    return 0


def answers_of(model: object, text: str, masks: np.ndarray, cache: str | None) -> np.ndarray:
    """The answers at ``masks`` (rendered by the Delete masker), from the cache or the game."""
    from blackbox_explain.bench.store import AnswerStore
    from blackbox_explain.maskers import Delete
    from blackbox_explain.resolve import bind_scorer

    segments = bbx.segment(text)
    texts = [Delete().render(segments, mask) for mask in masks]
    if cache is None:
        return np.asarray(model(texts), dtype=np.float64)  # type: ignore[operator]
    store = AnswerStore(bind_scorer(model, segments.text, None)[0], bbx.SQLiteCache(cache))
    return np.asarray(store.score(texts), dtype=np.float64)


if __name__ == "__main__":
    raise SystemExit(main())
