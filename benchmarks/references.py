"""Reference explanations saved once, next to the answers they were computed from.

Long texts have no exact Shapley values here, so the benchmarks measure against KernelSHAP runs
of many calls (16,384-65,536), their answers recorded in ``benchmarks/out/<name>.sqlite``.
Re-deriving a reference from the recorded answers works only while KernelSHAP asks the same
coalitions: a change of its plan sent the benchmarks back to the model (MiniLM's documents:
about 40 min).  So each reference explanation is saved the first time it is computed, in
``benchmarks/out/<name>.references.json`` (the explanation's JSON, keyed by method, calls, seed
and text), and read from there afterwards.  Delete that file to recompute them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import blackbox_explain as bbx


def reference_run(recorded, text: str, calls: int, seed: int) -> bbx.Explanation:
    """KernelSHAP on ``text`` with ``calls`` calls and ``seed``, through ``recorded`` (a
    ``bench_long_texts.Recorded``): the saved explanation if there is one, else computed and
    saved."""
    path = references_file(recorded)
    saved = json.loads(path.read_text()) if path.exists() else {}
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    key = f"kernelshap {calls} calls seed {seed} text {digest}"
    if key in saved:
        return bbx.Explanation.from_dict(saved[key])
    explanation = bbx.explain(recorded, text, "kernelshap", calls, seed=seed, progress=False)
    saved[key] = explanation.to_dict()
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(saved))
    os.replace(partial, path)
    return explanation


def references_file(recorded) -> Path:
    """``<answers file without .sqlite>.references.json``, beside the recorded answers."""
    answers = Path(recorded.cache.path)
    return answers.with_name(answers.stem + ".references.json")
