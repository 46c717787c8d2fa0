"""Hosted-API engine: an explanation against a server with a fixed 200 ms latency.

256 calls at concurrency 16 should take about 256 x 0.2 s / 16 = 3.2 s; the target is within
1.2x of that.  A second explanation of the same text with another method reports its cache hits
and the calls it saved.  The server (tests/fake_api.py) speaks the OpenAI wire format on
127.0.0.1 (in its own process, so it does not share the client's interpreter) and is driven
through the official openai SDK.

    python benchmarks/bench_remote.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import subprocess

from blackbox_explain.adapters import OpenAIChat
from fake_api import KEY

import blackbox_explain as bbx

TEXT = (
    "The hotel room was spacious and clean, but the breakfast was cold, the staff at the front "
    "desk were rude, and the view over the harbour was stunning every single evening of our stay."
)


def main() -> int:
    latency, calls, concurrency = 0.2, 256, 16
    lines = [f"Command: `{' '.join(sys.argv)}`", ""]
    server = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve().parents[1] / "tests" / "fake_api.py"),
            str(latency),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().strip()
        scorer = OpenAIChat(
            "fake-gpt",
            base_url=url + "/v1",
            api_key=KEY,
            labels=["positive", "negative"],
            max_concurrency=concurrency,
        )
        scorer.score(["warm-up: imports the SDK and opens the first connections"])
        scorer.usage.requests = 0
        explainer = bbx.Explainer(scorer)
        started = time.perf_counter()
        first = explainer.explain(TEXT, "kernelshap", calls)
        seconds = time.perf_counter() - started
        first_requests = scorer.usage.requests
        ideal = first.meta["n_calls"] * latency / concurrency
        started = time.perf_counter()
        second = explainer.explain(TEXT, "permutation", calls)
        second_seconds = time.perf_counter() - started
        lines += [
            f"Server latency {latency * 1000:.0f} ms, concurrency {concurrency}.",
            "",
            "| explanation | calls | cache hits | requests seen by the server | seconds | ideal (calls x latency / concurrency) | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|",
            f"| kernelshap, budget {calls} | {first.meta['n_calls']} | {first.meta['n_cache_hits']} | "
            f"{first_requests} | {seconds:.2f} | {ideal:.2f} | {seconds / ideal:.2f}x |",
            f"| then permutation on the same text, budget {calls} | {second.meta['n_calls']} | "
            f"{second.meta['n_cache_hits']} | {scorer.usage.requests - first_requests} | "
            f"{second_seconds:.2f} | {second.meta['n_calls'] * latency / concurrency:.2f} | "
            f"{second_seconds / max(second.meta['n_calls'] * latency / concurrency, 1e-9):.2f}x |",
            "",
            f"The second explanation asked for {second.meta['n_coalitions']} coalitions; "
            f"{second.meta['n_cache_hits']} were answered from the cache, saving that many calls.",
        ]
    finally:
        server.kill()
    report = "\n".join(lines)
    out = Path("benchmarks/out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "remote.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
