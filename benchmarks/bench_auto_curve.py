"""`auto`'s mean error by calls per segment on synthetic games with interactions (exact Shapley
values from their Harsanyi dividends), optionally with GP-SHAP's designs forced, for RESULTS
section 11.

    python benchmarks/bench_auto_curve.py N GAMES SEEDS [DESIGN ...]
"""

import sys

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "tests"))
import numpy as np
from games import interaction_game

import blackbox_explain as bbx

n = int(sys.argv[1])
G = int(sys.argv[2])
S = int(sys.argv[3])
games = [interaction_game(n, k=1, seed=s, order=3 + s % 2) for s in range(G)]


def mean_error(ps, **kw):
    errs = []
    for g in games:
        ex = g.shapley()
        for seed in range(S):
            e = bbx.explain(g, g.text, "gpshap" if kw else "auto", round(ps * n), seed=seed, **kw)
            errs.append(np.linalg.norm(e.values - ex) / np.linalg.norm(ex))
    return np.mean(errs)


pts = [4, 6, 8, 9, 10, 12, 14, 15, 16, 18, 20, 21, 24]
print("auto    ", " ".join(f"{p}:{mean_error(p):.4f}" for p in pts))
for d in sys.argv[4:]:
    print(d.ljust(8), " ".join(f"{p}:{mean_error(p, design=d):.4f}" for p in pts))
