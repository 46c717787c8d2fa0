"""Library time per call on long texts: `auto` on 1,000 and 5,000 segments against a cheap
numpy model (its own time measured and taken off), for RESULTS section 12.

    python benchmarks/bench_library_time.py [CASES]
"""

import sys
import time

import numpy as np

import blackbox_explain as bbx

rng = np.random.default_rng(0)
vocab = [f"w{i}" for i in range(300)]
weights = {w: rng.normal() for w in vocab}
model_time = [0.0]


def model(texts):
    t = time.perf_counter()
    out = np.array([[sum(weights.get(w, 0.0) for w in x.split()) / 100] for x in texts])
    model_time[0] += time.perf_counter() - t
    return out


for n, budget, method in [
    (1000, 1024, "auto"),
    (1000, 4096, "auto"),
    (5000, 1024, "auto"),
    (5000, 10240, "auto"),
][: int(sys.argv[1]) if len(sys.argv) > 1 else 4]:
    text = " ".join(rng.choice(vocab, size=n))
    model_time[0] = 0.0
    t = time.perf_counter()
    e = bbx.explain(model, text, method=method, budget=budget, progress=False)
    total = time.perf_counter() - t
    calls = e.meta["n_calls"]
    print(
        f"n={n} budget={budget} {method} -> {e.meta.get('method')} calls={calls} total={total:.2f}s model={model_time[0]:.2f}s library={1000 * (total - model_time[0]) / calls:.2f} ms/call"
    )
