"""Real OpenAI-compatible servers that nobody here wrote, driven through our adapters.

- llama-cpp-python's server (``pip install 'llama-cpp-python[server]'``, an sdist that compiles
  for several minutes; build it with ``CMAKE_ARGS="-DGGML_NATIVE=OFF ..."`` where the native
  build uses instructions the machine does not allow) serving the embedded SmolLM2 GGUF:
  ``OpenAICompletions`` scores a fixed target from ``echo`` + ``logprobs`` with ``max_tokens=1``,
  compared with a direct forward pass of the same weights in transformers; and what the old
  request (``max_tokens=0``) does there.
- ``transformers serve`` (the ``transformers[serving]`` extra) serving the same model as
  float32 safetensors: a text-mode explanation through ``OpenAIChat`` and the two detection paths.

Run: ``python benchmarks/bench_real_servers.py`` (prints a markdown report).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from typing import Any

import numpy as np
from blackbox_explain.adapters import GenerationSimilarity, OpenAIChat, OpenAICompletions
from blackbox_explain.adapters.embedded import smollm2_folder, smollm2_gguf_path

import blackbox_explain as bbx

PAIRS = [
    ("The capital of France is", " Paris"),
    ("Water boils at a temperature of", " 100 degrees"),
    ("The opposite of hot is", " cold"),
    ("A tomato is a", " fruit"),
    ("Two plus two equals", " four"),
]
PREFIX = "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(command: list[str], health: str, port: int):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    log = tempfile.TemporaryFile()  # noqa: SIM115 - a pipe nobody reads would stall the server
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    started = time.monotonic()
    try:
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(log.read().decode(errors="replace")[-2000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1", time.monotonic() - started
    finally:
        process.terminate()
        process.wait(timeout=30)


def direct_target_logprob(
    model: Any, tokenizer: Any, text: str, start: int, shift: int = 0
) -> float:
    """log p(target) by a forward pass: the tokens of ``text`` whose span reaches past
    ``start`` (the same rule as the adapter), each given the tokens before it (``shift=1``:
    given the tokens up to and including itself, the shifted reading)."""
    import torch

    encoded = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([ids])).logits[0].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    return float(
        sum(logprobs[i - 1 + shift, ids[i]] for i in range(1, len(ids)) if offsets[i][1] > start)
    )


def raw_completion(base_url: str, body: dict[str, Any], timeout: float) -> tuple[float, Any]:
    request = urllib.request.Request(
        base_url + "/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return time.monotonic() - started, json.load(answer)
    except OSError as exc:
        return time.monotonic() - started, exc


def served_target_logprob(base_url: str, text: str, start: int) -> tuple[float, float]:
    """log p(target) summed from the server's echoed log-probs (the adapter's rule), and the
    request's seconds."""
    body = {"model": "m", "prompt": text, "max_tokens": 1, "echo": True, "logprobs": 0}
    seconds, answer = raw_completion(base_url, {**body, "temperature": 0}, timeout=120)
    logprobs = answer["choices"][0]["logprobs"]
    picked = [
        v
        for off, tok, v in zip(
            logprobs["text_offset"], logprobs["tokens"], logprobs["token_logprobs"], strict=True
        )
        if off < len(text) and off + max(len(tok), 1) > start and v is not None
    ]
    return float(sum(picked)), seconds


def llama_cpp_section() -> list[str]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = smollm2_folder(progress=False)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype="float32")
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf_path()),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "512", "--logits_all", "true",
    ]  # fmt: skip
    lines = ["## llama-cpp-python server (SmolLM2-135M-Instruct Q4_1 GGUF)", ""]
    with server(command, "/v1/models", port) as (base_url, startup):
        lines += [
            f"started in {startup:.1f} s",
            "",
            "| prompt | target | server log p | transformers log p | same, shifted one token "
            "| s/request |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for prompt, target in PAIRS:
            text, start = PREFIX + prompt + target, len(PREFIX + prompt)
            served, seconds = served_target_logprob(base_url, text, start)
            direct = direct_target_logprob(model, tokenizer, text, start, shift=0)
            shifted = direct_target_logprob(model, tokenizer, text, start, shift=1)
            lines.append(
                f"| {prompt} | {target.strip()} | {served:.3f} | {direct:.3f} | {shifted:.3f} | "
                f"{seconds:.2f} |"
            )
        scorer = OpenAICompletions("smollm2", base_url=base_url, api_key="none", prefix=PREFIX)
        try:
            bbx.explain(scorer, PAIRS[0][0], target=PAIRS[0][1], method="exact", budget=33)
            verdict = "explained (no shift detected)"
        except bbx.BlackboxExplainError as exc:
            verdict = f"refused after {scorer.usage.requests} request: {str(exc)[:200]}..."
        body = {
            "model": "smollm2", "prompt": PREFIX + PAIRS[0][0] + PAIRS[0][1], "echo": True,
            "logprobs": 0, "temperature": 0,
        }  # fmt: skip
        seconds, answer = raw_completion(base_url, {**body, "max_tokens": 0}, timeout=120)
        if isinstance(answer, dict):
            usage = answer.get("usage", {})
            described = (
                f"generated {usage.get('completion_tokens')} tokens (no limit) in {seconds:.1f} s"
            )
        else:
            described = f"no answer within {seconds:.0f} s ({answer})"
        seconds_one, _ = raw_completion(base_url, {**body, "max_tokens": 1}, timeout=120)
        lines += [
            "",
            "The server's echoed log-probs equal the transformers forward pass shifted by one "
            "token (each token's log-prob after the model has seen it; llama-cpp-python issue "
            "#1983), up to Q4_1 against its float32 dequantisation.",
            f"`bbx.explain(OpenAICompletions(...), target=...)`: {verdict}",
            f"The old request, `max_tokens=0` with `echo`: {described}; with `max_tokens=1`: "
            f"{seconds_one:.2f} s.",
            "",
        ]
    return lines


def transformers_serve_section() -> list[str]:
    folder = str(smollm2_folder(progress=False))
    port = free_port()
    command = [
        sys.executable, "-c", "from transformers.cli.transformers import main; main()",
        "serve", folder, "--host", "127.0.0.1", "--port", str(port), "--device", "cpu",
    ]  # fmt: skip
    lines = ["## transformers serve (SmolLM2-135M-Instruct, float32)", ""]
    with server(command, "/health", port) as (base_url, startup):
        chat = OpenAIChat(folder, base_url=base_url, api_key="none", max_tokens=8)
        model = GenerationSimilarity(chat, similarity="exact")
        exp = bbx.explain(model, "Is a tomato a fruit?", method="auto", budget=24)
        lines += [
            f"started in {startup:.1f} s",
            "",
            f"- text mode (`OpenAIChat` without labels, exact-match similarity), 'Is a tomato a "
            f"fruit?', budget 24: {exp.meta['n_calls']} calls, {chat.usage.requests} requests "
            f"sent, {exp.meta['elapsed_seconds']:.1f} s; answer {exp.meta['target']!r}",
        ]
        labels = OpenAIChat(folder, base_url=base_url, api_key="none", labels=["yes", "no"])
        try:
            bbx.explain(labels, "Is a tomato a fruit?", method="kernelshap", budget=32)
        except bbx.BlackboxExplainError as exc:
            lines.append(
                f"- label mode: {labels.usage.requests} request, then: {str(exc)[:220]}..."
            )
        base = OpenAICompletions(folder, base_url=base_url, api_key="none")
        try:
            bbx.explain(base, "The capital of France is", target=" Paris", budget=32)
        except bbx.BlackboxExplainError as exc:
            lines.append(f"- completions target: {base.usage.requests} request, then: {exc}")
    return [*lines, ""]


def main() -> None:
    report = ["# Real servers", ""]
    try:
        import llama_cpp  # noqa: F401

        report += llama_cpp_section()
    except ImportError:
        report += ["llama-cpp-python is not installed: its section is skipped", ""]
    report += transformers_serve_section()
    print("\n".join(report))


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
