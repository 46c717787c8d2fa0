"""A real third-party OpenAI-compatible server: `transformers serve` (the `transformers[serving]`
extra, same transformers) on 127.0.0.1, serving the embedded SmolLM2 folder, driven through the
official `openai` SDK by our adapters.

What it does, seen on transformers 5.25: chat and completions answer; `logprobs`,
`top_logprobs` and `echo` are accepted and silently ignored; `max_tokens=0` is refused with
HTTP 400; a field outside the OpenAI schema is refused with HTTP 400.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

import blackbox_explain as bbx

pytest.importorskip("fastapi", reason="needs the transformers[serving] extra (make setup)")
pytest.importorskip("uvicorn", reason="needs the transformers[serving] extra (make setup)")
openai = pytest.importorskip("openai")

pytestmark = pytest.mark.slow
PROMPT = "Tomato is fruit"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server():
    from blackbox_explain.adapters.embedded import smollm2_folder

    folder = str(smollm2_folder(progress=False))
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    command = [
        sys.executable,
        "-c",
        "from transformers.cli.transformers import main; main()",
        "serve",
        folder,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        "cpu",
    ]
    log = tempfile.TemporaryFile()  # noqa: SIM115 - a pipe nobody reads would stall the server
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"transformers serve exited: {log.read()[-2000:]!r}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("transformers serve did not start within 120 s")
            time.sleep(0.5)
        yield url + "/v1", folder
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_chat_model_is_explained_through_its_generated_text(server):
    from blackbox_explain.adapters import GenerationSimilarity, OpenAIChat

    base_url, folder = server
    chat = OpenAIChat(folder, base_url=base_url, api_key="none", max_tokens=4, max_concurrency=2)
    model = GenerationSimilarity(chat, similarity="exact")
    exp = bbx.explain(model, PROMPT, method="exact", budget=8)
    # temperature 0: the answer generated to be explained is the full prompt's answer, so the
    # 2**3 coalitions cost 8 requests in all
    assert exp.full_value[0] == 1.0 and exp.meta["n_calls"] == chat.usage.requests == 8
    assert exp.meta["target"] and chat.usage.input_tokens > 0


def test_label_mode_on_a_server_without_logprobs_is_a_clear_error(server):
    from blackbox_explain.adapters import OpenAIChat

    base_url, folder = server
    chat = OpenAIChat(folder, base_url=base_url, api_key="none", labels=["yes", "no"])
    with pytest.raises(bbx.ScorerError, match=r"returned no logprobs.*OpenAIChat without labels"):
        bbx.explain(chat, PROMPT, method="exact", budget=8)
    assert chat.usage.requests == 1  # detected on the first answer, not retried


def test_a_completions_target_on_a_server_ignoring_echo_is_a_clear_error(server):
    from blackbox_explain.adapters import OpenAICompletions

    base_url, folder = server
    base = OpenAICompletions(folder, base_url=base_url, api_key="none")
    with pytest.raises(bbx.ScorerError) as caught:
        bbx.explain(base, "The capital of France is", target=" Paris", method="exact", budget=64)
    message = str(caught.value)
    assert "did not echo the prompt" in message and "returned no logprobs" in message
    assert "HTTP 400" not in message  # max_tokens=1 is accepted (0 was refused)
