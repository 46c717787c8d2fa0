"""GP-SHAP between 192 and 512 coalitions: the posterior of all the answers on the whole
hyperparameter grid against only the points whose blocks' likelihood comes near the best
(``gp_fit.likely_points``), for RESULTS section 36.

    python benchmarks/bench_grid_points.py              # about 4 min on 2 cores
    python benchmarks/bench_grid_points.py --groups saturating,additive

Each group's GP-SHAP fits are captured as ``bench_coverage.py`` runs them (MiniLM's recorded
sentences and paragraphs, the tiny LM, saturating and synthetic games; up to ``--fits`` per
group) or, for ``additive``, as ``bench_library_time.py --mid`` does (a sum of word weights on
60 / 100 / 250 words at ~500 calls). Each fit is then computed both ways in the same process:
the whole grid (the code before section 36) and the likely points alone (``fit_columns``). The
table gives the points kept, the weight the others have by all the answers, how far the values
and standard errors move, and the fits' CPU time (the faster of two runs).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import inspect
import io
import sys
import time
from pathlib import Path

import numpy as np

import blackbox_explain as bbx
import blackbox_explain.estimators.gpshap as gpshap_module
from blackbox_explain.estimators.gp_fit import (
    averaged_points,
    fit_columns,
    likelihood_blocks,
    likely_points,
    summed_log_likelihoods,
)
from blackbox_explain.estimators.gp_grid import posterior_grid
from blackbox_explain.estimators.gp_kernel import noise_ratios

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

#: the ``bench_coverage.py`` arguments whose GP-SHAP fits each group captures
GROUPS = {
    "minilm": ["minilm", "--methods", "gpshap", "--per-segment", "24,32", "--seeds", "2"],
    "paragraphs": ["paragraphs", "--methods", "gpshap", "--per-segment", "8,10", "--seeds", "2"],
    "saturating": ["saturating", "--methods", "gpshap", "--per-segment", "12,16", "--seeds", "2"],
    "synthetic": ["synthetic", "--methods", "gpshap", "--per-segment", "24,32", "--seeds", "3"],
    "tiny": ["tiny", "--methods", "gpshap", "--per-segment", "24,32", "--seeds", "2"],
}


@contextlib.contextmanager
def captured_fits(store: list, limit: int):
    """Record the arguments of GP-SHAP's fits of ``max_fit_points`` to :func:`averaged_points`
    coalitions (up to ``limit``), passing every call through."""
    original = gpshap_module.fit_columns
    signature = inspect.signature(original)

    def recording(*args, **kwargs):
        bound = signature.bind(*args, **kwargs).arguments
        masks, most = bound["masks"], bound["max_fit_points"]
        if most < len(masks) <= averaged_points(most) and len(store) < limit:
            kw = {
                key: bound[key]
                for key in ("calibration", "noise_floor", "exact_answers", "additive_shares")
                if key in bound
            }
            store.append(
                (
                    masks,
                    bound["values"],
                    bound["modelled"],
                    bound["relevance"],
                    bound["size_ratios"],
                    most,
                    kw,
                )
            )
        return original(*args, **kwargs)

    gpshap_module.fit_columns = recording
    try:
        yield
    finally:
        gpshap_module.fit_columns = original


def additive_fits(store: list, limit: int) -> None:
    """``bench_library_time.py --mid``'s three texts, a sum of word weights as the model."""
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(300)]
    weights = {w: rng.normal() for w in vocab}

    def model(texts):
        return np.array([[sum(weights.get(w, 0.0) for w in x.split()) / 100] for x in texts])

    with captured_fits(store, limit):
        for n, budget in ((60, 500), (100, 500), (250, 510)):
            text = " ".join(rng.choice(vocab, size=n))
            bbx.explain(model, text, method="gpshap", budget=budget, progress=False)


def whole_grid(masks, values, relevance, size_ratios, max_fit_points, kw):
    """The code before section 36: the posterior on every grid point, the variance weighed by
    the blocks' likelihood; returns (values, variance, block weights, grid)."""
    floor = kw.get("noise_floor", 0.0)
    shares = kw.get("additive_shares", (0.0,))
    grid = posterior_grid(
        masks,
        values,
        relevance,
        kw.get("calibration"),
        size_ratios,
        kw.get("exact_answers", False),
        shares,
    )
    phi, _, _, _ = grid.average(floor)
    blocks = likelihood_blocks(len(masks), max_fit_points, np.random.default_rng(0))
    weights = summed_log_likelihoods(
        masks, values, relevance, size_ratios, noise_ratios(), shares, blocks
    )
    mean, variance, _, _ = dataclasses.replace(grid, log_weights=weights).average(floor)
    return phi, variance + (mean - phi) ** 2, weights, grid


def compare(fit) -> tuple:
    """(points kept, their number, weight left out, values' change, standard errors' change,
    CPU s whole grid, CPU s likely points) for one captured fit."""
    masks, values, modelled, relevance, size_ratios, max_fit_points, kw = fit
    values = values[:, modelled]
    timings = {"whole": [], "likely": []}
    for _ in range(2):
        start = time.process_time()
        phi_whole, variance_whole, block_weights, grid = whole_grid(
            masks, values, relevance, size_ratios, max_fit_points, kw
        )
        timings["whole"].append(time.process_time() - start)
        start = time.process_time()
        phi, variance, _, _ = fit_columns(
            masks,
            values,
            np.ones(values.shape[1], bool),
            np.random.default_rng(0),
            relevance,
            size_ratios,
            max_fit_points,
            **kw,
        )
        timings["likely"].append(time.process_time() - start)
    points = likely_points(block_weights, kw.get("noise_floor", 0.0))
    kept = grid.noises >= kw.get("noise_floor", 0.0)
    log_weights = grid.log_weights[:, :, kept]
    weights = np.exp(log_weights - log_weights.max(axis=(0, 1, 2)))
    left_out = float((weights[~points].sum(axis=(0, 1)) / weights.sum(axis=(0, 1, 2))).max())
    moved = float(np.linalg.norm(phi - phi_whole) / max(np.linalg.norm(phi_whole), 1e-300))
    sd, sd_whole = np.sqrt(variance), np.sqrt(variance_whole)
    sd_moved = float(np.max(np.abs(sd - sd_whole) / np.maximum(sd_whole, 1e-300)))
    return (
        int(points.sum()),
        points.size,
        left_out,
        moved,
        sd_moved,
        min(timings["whole"]),
        min(timings["likely"]),
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--groups",
        default=",".join([*GROUPS, "additive"]),
        help=f"of {', '.join([*GROUPS, 'additive'])}, comma-separated (default: all)",
    )
    parser.add_argument("--fits", type=int, default=24, help="fits captured per group (24)")
    args = parser.parse_args()
    import bench_coverage

    print(
        "| group | fits | coalitions | points kept (of 20) | weight left out, max "
        "| values moved, max | std moved, max | CPU s, whole grid | likely points | ratio |"
    )
    print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for group in args.groups.split(","):
        store: list = []
        if group == "additive":
            additive_fits(store, args.fits)
        else:
            saved = sys.argv
            sys.argv = ["bench_coverage.py", *GROUPS[group]]
            try:
                with captured_fits(store, args.fits), contextlib.redirect_stdout(io.StringIO()):
                    bench_coverage.main()
            finally:
                sys.argv = saved
        rows = np.array([compare(fit) for fit in store])
        sizes = [len(fit[0]) for fit in store]
        print(
            f"| {group} | {len(rows)} | {min(sizes)}-{max(sizes)} "
            f"| {int(rows[:, 0].min())}-{int(rows[:, 0].max())} | {rows[:, 2].max():.1e} "
            f"| {rows[:, 3].max():.1e} | {rows[:, 4].max():.1e} | {rows[:, 5].sum():.2f} "
            f"| {rows[:, 6].sum():.2f} | {rows[:, 6].sum() / rows[:, 5].sum():.2f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
