"""Local HTTP servers speaking the OpenAI, Anthropic and a plain JSON wire format.

They stand for hosted models that cannot run here; the official SDKs talk to them over real
HTTP on 127.0.0.1.  The "model" behind them is the library's example lexicon sentiment scorer,
so every answer can be recomputed in the tests.  Faults are injected per request.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from blackbox_explain.examples import lexicon_sentiment

KEY = "sk-test-very-secret-key-123"
TOKEN = re.compile(r"\n|[^\S\n]*\S+")
#: what the fake completion model generates, one token at a time
GENERATED = " great"
#: the context length of the fake llama.cpp server (its n_ctx)
N_CTX = 64
#: request fields `transformers serve` (5.25) knows: fields of the OpenAI schema it does not
#: implement (echo, logprobs, top_logprobs) are accepted and silently ignored; any other field is
#: refused with HTTP 400 "Unexpected fields in the request" (seen on a real server, see
#: tests/adapters/test_transformers_serve.py)
SERVE_COMPLETION_FIELDS = {
    "model",
    "prompt",
    "best_of",
    "echo",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "max_tokens",
    "n",
    "presence_penalty",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "suffix",
    "temperature",
    "top_p",
    "user",
}
SERVE_CHAT_FIELDS = {
    "model",
    "messages",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "metadata",
    "n",
    "presence_penalty",
    "response_format",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
}


def p_positive(text: str) -> float:
    return float(lexicon_sentiment([text])[0, 1])


def predict(prefix: str) -> str:
    """The fake completion model's most likely next token: it counts ("..., 7," -> " 8,"),
    else it says " great"."""
    match = re.search(r"(\d+),$", prefix)
    return f" {int(match.group(1)) + 1}," if match else GENERATED


def token_logprob(prefix: str, token: str) -> float:
    """The fake completion model's log-prob of ``token`` after ``prefix``."""
    return -0.1 * len(token) - (0.7 if "not" in prefix.split() else 0.0)


class FakeAPI(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 stalls concurrent clients

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.fail_plan: list[str | None] = []
        self.drop_logprobs = False
        self.bodies: list[dict] = []
        self.headers_seen: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0
        self.truncate_next = False
        self.reject_blank_chat = False  # as LM Studio and some other servers do
        self.samples = 0
        #: whose documented behaviour the completion and chat endpoints follow:
        #: "openai" (echo + max_tokens=N: the prompt's log-probs, then N generated tokens'),
        #: "llama.cpp" (llama-cpp-python 0.3's server: max_tokens=0 or absent means "no limit",
        #: generate up to the context length; llama_cpp/llama.py, _create_completion), or
        #: "transformers-serve" (max_tokens=0 refused; echo and logprobs ignored)
        self.dialect = "openai"
        self.unlimited_generations = 0
        self.connections: set[tuple[str, int]] = set()  # client (host, port) of each request
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that vanish mid-answer (killed runs, timeouts) are part of the tests

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> FakeAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    server: FakeAPI
    protocol_version = "HTTP/1.1"  # keep-alive, as real API servers do
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        data = self.rfile.read(length)
        if len(data) < length:
            # the client died between its headers and its body (a SIGKILLed run): like a real
            # server, never handle a request that did not arrive whole
            self.close_connection = True
            return
        body = json.loads(data or b"{}")
        server = self.server
        with server.lock:
            server.bodies.append(body)
            server.headers_seen.append(dict(self.headers))
            server.connections.add(self.client_address)
            action = server.fail_plan.pop(0) if server.fail_plan else None
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            time.sleep(server.delay)
            if action == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if action == "429-long":  # an hour, as some providers ask after a quota burst
                self._send(429, {"error": {"message": "slow down"}}, {"retry-after": "3600"})
                return
            if action == "429-bare":
                self._send(429, {"error": {"message": "slow down", "type": "rate_limit"}})
                return
            if action == "503":
                self._send(503, {"error": {"message": "overloaded", "type": "server_error"}})
                return
            if action == "slow":
                time.sleep(1.0)  # longer than the client's timeout in the tests
            if action == "garbage":
                data = b"{this is not json"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if action == "truncated":
                self.server.truncate_next = True
            if action == "429":
                self._send(
                    429,
                    {
                        "error": {
                            "message": "slow down",
                            "type": "rate_limit",
                            "code": "rate_limit_exceeded",
                        }
                    },
                    {"retry-after-ms": "20"},
                )
                return
            if action == "quota":
                self._send(
                    429,
                    {
                        "error": {
                            "message": "You exceeded your quota",
                            "type": "insufficient_quota",
                            "code": "insufficient_quota",
                        }
                    },
                )
                return
            if action == "500":
                self._send(500, {"error": {"message": "internal error", "type": "server_error"}})
                return
            self._route(body)
        finally:
            with server.lock:
                server.in_flight -= 1

    def _authorized(self) -> bool:
        bearer = self.headers.get("Authorization", "")
        return bearer == f"Bearer {KEY}" or self.headers.get("x-api-key") == KEY

    def _route(self, body: dict) -> None:
        path = self.path.split("?", 1)[0]
        if not self._authorized():
            self._send(
                401,
                {
                    "error": {
                        "message": "Incorrect API key provided",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
            )
            return
        if path == "/v1/chat/completions":
            self._chat(body)
        elif path == "/v1/completions":
            self._completions(body)
        elif path == "/v1/messages":
            self._messages(body)
        elif path == "/score":
            p = p_positive(body["inputs"])
            self._send(200, {"result": {"scores": [1 - p, p]}})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def _refuse_unknown_fields(self, body: dict, known: set[str]) -> bool:
        unexpected = set(body) - known
        if self.server.dialect == "transformers-serve" and unexpected:
            self._send(400, {"detail": f"Unexpected fields in the request: {unexpected}"})
            return True
        return False

    def _chat(self, body: dict) -> None:
        if self._refuse_unknown_fields(body, SERVE_CHAT_FIELDS):
            return
        text = body["messages"][-1]["content"]
        if self.server.reject_blank_chat and not text.strip():
            self._send(
                400,
                {
                    "error": {
                        "message": "'messages' array must only contain objects with a "
                        "'content' field that is not empty",
                        "type": "invalid_request_error",
                    }
                },
            )
            return
        p = p_positive(text)
        if body.get("temperature", 0) > 0:  # a sampling model: answers wobble
            with self.server.lock:
                self.server.samples += 1
                wobble = 0.02 * math.sin(self.server.samples * 1.7)
            p = min(max(p + wobble, 0.0), 1.0)
        answer = "positive" if p >= 0.5 else "negative"
        choice: dict = {
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": answer.capitalize() + "."},
            "logprobs": None,
        }
        truncated = self.server.truncate_next
        self.server.truncate_next = False
        if truncated:
            choice["logprobs"] = {"content": []}
        elif (
            body.get("logprobs")
            and not self.server.drop_logprobs
            and self.server.dialect != "transformers-serve"
        ):
            alternatives = [(" positive", 0.9 * p), ("negative", 0.9 * (1 - p)), ("Neutral", 0.05)]
            alternatives = [(t, math.log(max(q, 1e-12))) for t, q in alternatives][
                : body.get("top_logprobs", 20)
            ]
            first = max(alternatives, key=lambda a: a[1])
            choice["logprobs"] = {
                "content": [
                    {
                        "token": first[0],
                        "logprob": first[1],
                        "bytes": list(first[0].encode()),
                        "top_logprobs": [
                            {"token": t, "logprob": lp, "bytes": list(t.encode())}
                            for t, lp in alternatives
                        ],
                    }
                ]
            }
        self._send(
            200,
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1,
                "model": body["model"],
                "choices": [choice],
                "usage": {
                    "prompt_tokens": len(text.split()) + 5,
                    "completion_tokens": 1,
                    "total_tokens": len(text.split()) + 6,
                },
            },
        )

    def _completions(self, body: dict) -> None:
        server = self.server
        if self._refuse_unknown_fields(body, SERVE_COMPLETION_FIELDS):
            return
        prompt = body["prompt"]
        tokens = TOKEN.findall(prompt)
        max_tokens = body.get("max_tokens", 16)  # the OpenAI API's default
        if server.dialect == "transformers-serve" and max_tokens == 0:
            self._send(400, {"detail": "`max_new_tokens` must be greater than 0, but is 0."})
            return
        if server.dialect == "llama.cpp" and (max_tokens is None or max_tokens <= 0):
            with server.lock:
                server.unlimited_generations += 1
            max_tokens = max(N_CTX - len(tokens), 1)  # up to the context length
        generated = GENERATED * max_tokens
        echo = body.get("echo") and server.dialect != "transformers-serve"
        with_logprobs = body.get("logprobs") is not None and server.dialect != "transformers-serve"
        logprobs = None
        if with_logprobs and not server.drop_logprobs:
            shown = (prompt if echo else "") + generated
            start = 0 if echo else len(prompt)
            offsets, values, position = [], [], start
            shown_tokens = TOKEN.findall(shown)
            tops: list[dict | None] = []
            # llama-cpp-python 0.3 (its issue #1983): each value is the log-prob the model
            # gives the token after having seen it, and the alternatives are those of the
            # position after it (shifted by one)
            shifted = server.dialect == "llama.cpp"
            for i, token in enumerate(shown_tokens):
                offsets.append(position)
                context = (prompt if not echo else "") + shown[: position - start]
                seen = context + token if shifted else context
                value = None if echo and i == 0 else token_logprob(seen, token)
                values.append(value)
                if (body.get("logprobs") or 0) >= 1 and value is not None:
                    tops.append({predict(seen): -0.05, token: value})
                else:
                    tops.append(None)
                position += len(token)
            logprobs = {
                "tokens": shown_tokens,
                "token_logprobs": values,
                "text_offset": offsets,
                "top_logprobs": tops if (body.get("logprobs") or 0) >= 1 else None,
            }
        self._send(
            200,
            {
                "id": "cmpl-1",
                "object": "text_completion",
                "created": 1,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "text": (prompt if echo else "") + generated,
                        "logprobs": logprobs,
                        "finish_reason": "length",
                    }
                ],
                "usage": {
                    "prompt_tokens": len(tokens),
                    "completion_tokens": max_tokens,
                    "total_tokens": len(tokens) + max_tokens,
                },
            },
        )

    def _messages(self, body: dict) -> None:
        text = body["messages"][-1]["content"]
        # as Anthropic's API does: an empty or blank user message is a bad request
        if not text.strip():
            message = (
                "messages.0: all messages must have non-empty content except for the optional "
                "final assistant message"
                if not text
                else "messages: text content blocks must contain non-whitespace text"
            )
            self._send(
                400,
                {"type": "error", "error": {"type": "invalid_request_error", "message": message}},
            )
            return
        answer = "Positive." if p_positive(text) >= 0.5 else "It is negative."
        self._send(
            200,
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": answer}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": len(text.split()) + 3, "output_tokens": 2},
            },
        )


def fast_retries():
    """A retry policy that keeps the tests quick."""
    from blackbox_explain.remote import RetryPolicy

    return RetryPolicy(max_retries=3, initial_delay=0.01, max_delay=0.2)


def chat(server: FakeAPI, **options: object):
    """An OpenAIChat on the fake server, in label mode unless ``labels=None`` is given."""
    from blackbox_explain.adapters import OpenAIChat

    options.setdefault("retry", fast_retries())
    options.setdefault("labels", ["positive", "negative"])
    return OpenAIChat("fake-gpt", base_url=server.url + "/v1", api_key=KEY, **options)


if __name__ == "__main__":  # serve from another process: python tests/fake_api.py DELAY
    import sys

    server = FakeAPI()
    server.delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    print(server.url, flush=True)
    server.serve_forever()
