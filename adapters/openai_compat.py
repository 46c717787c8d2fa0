"""OpenAI-compatible servers (OpenAI, vLLM, llama.cpp server, Ollama, TGI) through the official
``openai`` SDK.

- :class:`OpenAIChat` with ``labels=[...]``: the probability of each label from the
  ``top_logprobs`` of the first answer token, plus the probability mass that fell outside the
  returned top-k (reported as its own output, never hidden).  Without labels it is a text
  generator, explained through :class:`~blackbox_explain.adapters.GenerationSimilarity`.
- :class:`OpenAICompletions` with a target: the log-probability of the target text after the
  prompt, from ``echo`` + ``logprobs`` (detected on the first answer, not assumed).

Both take ``model``, ``base_url`` and ``api_key`` (default: the ``OPENAI_API_KEY`` environment
variable); the key lives only inside the SDK client, never in a cache key, log or repr.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from blackbox_explain.errors import InputError
from blackbox_explain.extras import require
from blackbox_explain.redact import redact_url
from blackbox_explain.remote import (
    RemoteError,
    RemoteScorer,
    TransientFailure,
    api_key,
    classify_status,
    permanent_error,
)
from blackbox_explain.resolve import check_target, label_list

from .echo_alignment import PROBE, alignment

OTHER = "(other)"


def token_counts(response: Any) -> tuple[int, int]:
    """``(prompt, completion)`` tokens of an answer (0 where the server does not say)."""
    usage = getattr(response, "usage", None)
    return (
        getattr(usage, "prompt_tokens", 0) or 0,
        getattr(usage, "completion_tokens", 0) or 0,
    )


def _openai_call_errors(openai: Any, exc: Exception) -> Exception:
    """Map an SDK exception to a transient or permanent failure."""
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return TransientFailure(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, (openai.APIResponseValidationError, ValueError)):
        # a malformed body (proxy glitch, truncated stream): worth a retry, then reported
        return TransientFailure(f"malformed response: {type(exc).__name__}: {exc}")
    if isinstance(exc, openai.APIStatusError):
        body = getattr(exc, "body", None)
        code = body.get("code") if isinstance(body, dict) else None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = body["error"].get("code", code)
        return classify_status(exc.status_code, str(exc), exc.response.headers, code)
    return exc


class _OpenAIBase(RemoteScorer):
    env_key = "OPENAI_API_KEY"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        temperature: float = 0.0,
        sample_index: int = 0,
        name: str | None = None,
        **engine: Any,
    ) -> None:
        super().__init__(**engine)
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        self.temperature = temperature
        self.sample_index = sample_index
        self.name = name or f"{type(self).__name__}:{model}"
        self._api_key = api_key  # kept out of repr, fingerprint and logs

    def _client(self) -> Any:
        openai = require("openai", "api", "OpenAI-compatible servers")
        key = api_key(self._api_key, self.env_key)
        # our engine retries; the SDK's own retries would hide failures from the budget
        return openai.AsyncOpenAI(
            api_key=key, base_url=self.base_url, max_retries=0, timeout=self.timeout
        )

    async def _open(self) -> None:
        self._sdk = require("openai", "api", "OpenAI-compatible servers")
        self._async_client = self._client()

    async def _close(self) -> None:
        await self._async_client.close()

    async def _call(self, method: Any, **kwargs: Any) -> Any:
        try:
            return await method(**kwargs)
        except Exception as exc:
            mapped = _openai_call_errors(self._sdk, exc)
            if mapped is exc:
                raise
            raise mapped from exc

    def _identity(self) -> list[Any]:
        # temperature > 0 answers are samples: cache them per sample index, never as deterministic
        sample = self.sample_index if self.temperature > 0 else None
        return [
            type(self).__name__,
            redact_url(self.effective_base_url),
            self.model,
            self.temperature,
            sample,
        ]

    @property
    def effective_base_url(self) -> str:
        """Where requests go: ``base_url``, else ``$OPENAI_BASE_URL`` (as the SDK reads it),
        else OpenAI's API; part of the cache key."""
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"

    def __repr__(self) -> str:
        shown = None if self.base_url is None else redact_url(self.base_url)
        return f"{type(self).__name__}(model={self.model!r}, base_url={shown!r})"


class OpenAIChat(_OpenAIBase):
    """Chat completions: label probabilities (``labels=[...]``) or generated text.

    Parameters
    ----------
    model, base_url, api_key:
        The endpoint; ``api_key`` defaults to ``$OPENAI_API_KEY``.
    labels:
        Label mode: the first answer token's probability of each label (leading spaces and
        case are ignored when matching tokens); an extra output ``(other)`` holds the mass
        outside the returned top-k.
    top_logprobs:
        How many alternatives to ask for (servers allow up to 20).
    system_prompt, max_tokens, temperature:
        Request parameters (``max_tokens`` for generation).
    empty_prompt:
        Sent in place of a prompt with every segment removed, for servers that refuse a blank
        message (LM Studio and some others; OpenAI's API accepts it).  Part of the cache key.
    max_concurrency, retry, requests_per_minute, tokens_per_minute, prices, max_cost,
    max_total_tokens:
        The engine's policy (see :class:`~blackbox_explain.remote.RemoteScorer`).
    """

    scalarizers = ("label probability", "generation similarity")

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        labels: Sequence[str] | None = None,
        top_logprobs: int = 20,
        system_prompt: str | None = None,
        max_tokens: int = 64,
        empty_prompt: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, base_url, api_key, **options)
        self.empty_prompt = empty_prompt
        self.labels = label_list(labels, "OpenAIChat")
        self.top_logprobs = top_logprobs
        self.system_prompt = system_prompt
        self.max_tokens = max_tokens
        self.output_names = [*self.labels, OTHER] if self.labels else []
        self.target = {"labels": self.labels} if self.labels else None
        self.scalarizer = "label probability (top_logprobs of the first token)"

    @property
    def fingerprint(self) -> str:
        # max_tokens shapes generated answers only; label mode always asks for one token
        """The cache key of this scorer's answers: all that changes them, never the API key."""
        length = None if self.labels else self.max_tokens
        key = [*self._identity(), self.labels, self.top_logprobs, self.system_prompt, length]
        if self.empty_prompt is not None:  # (absent otherwise: earlier caches keep their keys)
            key.append(["empty_prompt", self.empty_prompt])
        return json.dumps(key)

    def output_tokens_of(self, request: Any) -> int:
        """Generation asks for up to ``max_tokens``; label mode for one token."""
        return self.max_tokens if request == self._generate_one else 1

    def _messages(self, text: str) -> list[dict[str, str]]:
        if self.empty_prompt is not None and not text.strip():
            text = self.empty_prompt  # a server that refuses a blank message (not OpenAI's)
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return [*messages, {"role": "user", "content": text}]

    def bind(self, text: str, target: Any = None) -> Any:
        """Label mode: this scorer.  Otherwise: similarity of generated answers (see
        :class:`~blackbox_explain.adapters.GenerationSimilarity`; ``target`` is the answer)."""
        if self.labels:
            if target is not None:
                raise InputError(
                    "OpenAIChat is in label mode; a fixed target needs OpenAICompletions"
                )
            return self
        from .generation_similarity import GenerationSimilarity

        return GenerationSimilarity(self).bind(text, target)

    async def _request(self, text: str) -> tuple[np.ndarray, int, int]:
        if not self.labels:
            raise InputError(
                "OpenAIChat scores need labels=[...]; without them, explain it with "
                "GenerationSimilarity (bbx.explain does this through bind)"
            )
        response = await self._call(
            self._async_client.chat.completions.create,
            model=self.model,
            messages=self._messages(text),
            max_tokens=1,
            temperature=self.temperature,
            logprobs=True,
            top_logprobs=self.top_logprobs,
        )
        choice = response.choices[0]
        content = getattr(getattr(choice, "logprobs", None), "content", None)
        if not content:
            raise permanent_error(
                None,
                f"the server at {redact_url(self.effective_base_url)} returned no logprobs for "
                f"model {self.model!r} (detected, not assumed); explain it through generated text "
                "instead: OpenAIChat without labels, or GenerationSimilarity(similarity='label')",
                "unsupported",
            )
        alternatives = content[0].top_logprobs or []
        probs = np.zeros(len(self.labels) + 1)
        listed = 0.0
        for alt in alternatives:
            p = math.exp(alt.logprob)
            listed += p
            token = alt.token.strip().lower()
            for j, label in enumerate(self.labels):
                if token and token == label.strip().lower():
                    probs[j] += p
        probs[-1] = max(0.0, 1.0 - listed)
        return (probs, *token_counts(response))

    async def _generate_one(self, text: str) -> tuple[str, int, int]:
        response = await self._call(
            self._async_client.chat.completions.create,
            model=self.model,
            messages=self._messages(text),
            max_tokens=self.max_tokens,
            temperature=self.temperature,
        )
        return (response.choices[0].message.content or "", *token_counts(response))

    def generate(self, prompts: Sequence[str]) -> list[str]:
        """Answers to many prompts, through the same concurrency, retries and budgets; on a
        final failure the answers received so far travel with the error (``partial_answers``)."""
        answers = self.run(prompts, self._generate_one)
        return [str(answers[p]) for p in prompts]


class OpenAICompletions(_OpenAIBase):
    """Legacy completions: the log-probability of a fixed target after each prompt, from
    ``echo=True`` + ``logprobs`` (vLLM and others support it; detected on the first answer).

    One output, ``log p(target)``: the sum over the target's tokens (a prompt's last word can
    merge with the target's first, so per-token outputs would not line up across prompts).

    ``prefix`` is fixed text sent before every prompt and never masked (default a newline): with
    an empty prompt the target's first token would otherwise have no context, and servers return
    no log-prob for a text's first token.
    """

    scalarizers = ("target log-prob",)

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        target: str | None = None,
        max_tokens: int = 32,
        prefix: str = "\n",
        **options: Any,
    ) -> None:
        super().__init__(model, base_url, api_key, **options)
        self.target = target
        self.prefix = prefix
        self.max_tokens = max_tokens
        self.output_names = ["log p(target)"]
        self.scalarizer = "target log-prob (echo + logprobs)"
        self.output_tokens_per_request = 1  # max_tokens=1 (see _request)
        #: calls made before any coalition: the completion that found the answer to explain
        self.binding_calls = 0
        #: what the echo-alignment probe found about the server (shared by bound copies)
        self._echo_verdict: dict[str, str] = {}

    @property
    def fingerprint(self) -> str:
        """The cache key of this scorer's answers: all that changes them, never the API key."""
        return json.dumps([*self._identity(), self.prefix, self.target])

    def request_bound(self, text: str, request: Any) -> tuple[int, int]:
        """Scoring sends prefix + prompt + target (one generated token); a completion the
        prompt alone (up to ``max_tokens``)."""
        if request == self._complete_one:
            return len(text.encode("utf-8")) + 8, self.max_tokens
        sent = self.prefix + text + (self.target or "")
        return len(sent.encode("utf-8")) + 8, 1

    def bind(self, text: str, target: str | None = None) -> OpenAICompletions:
        """A copy scoring ``target`` (default: the greedy completion of ``text``)."""
        check_target(target, "OpenAICompletions")  # before the echo check's paid request
        # a copy shares the policy, the usage and the rate limiter (one budget for both), and
        # keeps every setting, prefix included; it opens its own client on its first call
        bound = copy.copy(self)
        bound.target = target
        bound.binding_calls = bound.check_echo_alignment()
        if target is None:
            bound.target = bound.complete(text)
            bound.binding_calls += 1
        if not bound.target:
            raise InputError("the target is empty; give target=")
        return bound

    async def _complete_one(self, text: str) -> tuple[str, int, int]:
        response = await self._call(
            self._async_client.completions.create,
            model=self.model,
            prompt=text,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
        )
        return (response.choices[0].text, *token_counts(response))

    def check_echo_alignment(self) -> int:
        """Once per server (shared by every bound copy): a probe with ``logprobs=1`` telling
        whether the echoed log-prob of each prompt token is that token's, or the next token's
        (llama-cpp-python, see :mod:`.echo_alignment`); a shifted server is a clear error
        before any coalition is paid for.  Returns the requests it sent (0 or 1)."""
        verdict = self._echo_verdict
        if "alignment" in verdict:
            sent = 0
        else:
            answer = self.run([PROBE], self._probe_one)[PROBE]
            verdict["alignment"] = alignment(*answer)
            sent = 1
        if verdict["alignment"] == "shifted":
            raise permanent_error(
                None,
                f"the server at {redact_url(self.effective_base_url)} returns each echoed prompt "
                "token's log-prob as the model gives it after having seen that token (shifted by "
                "one position, as llama-cpp-python's server does: its issue #1983), so a "
                "target's log-prob summed from them would be wrong. Use a server whose echoed "
                "log-probs are aligned (vLLM, OpenAI), or explain the generated answer instead: "
                "OpenAIChat without labels (GenerationSimilarity)",
                "unsupported",
            )
        return sent

    async def _probe_one(self, text: str) -> tuple[tuple[list[str], list[Any] | None], int, int]:
        response = await self._echo(text, logprobs=1)
        logprobs = getattr(response.choices[0], "logprobs", None)
        tokens = list(getattr(logprobs, "tokens", None) or [])
        top = getattr(logprobs, "top_logprobs", None)
        return ((tokens, None if top is None else list(top)), *token_counts(response))

    async def _echo(self, prompt: str, logprobs: int) -> Any:
        """The prompt echoed with its tokens' log-probs (``logprobs`` alternatives each) and
        one generated token, greedily."""
        return await self._call(
            self._async_client.completions.create,
            model=self.model,
            prompt=prompt,
            max_tokens=1,
            echo=True,
            logprobs=logprobs,
            temperature=0.0,
        )

    def complete(self, prompt: str) -> str:
        """The greedy completion of one prompt."""
        return str(self.run([prompt], self._complete_one)[prompt])

    async def _request(self, text: str) -> tuple[np.ndarray, int, int]:
        if not self.target:
            raise InputError("OpenAICompletions needs a target (bind it, or target=...)")
        full = self.prefix + text + self.target
        # max_tokens=1, as lm-eval does: llama-cpp-python reads 0 as "no limit" (it would
        # generate up to the context length), transformers serve refuses 0 (HTTP 400), and
        # vLLM releases before mid-2024 crashed on it.  The one generated token lies after the
        # target's span and is never counted.
        response = await self._echo(full, logprobs=0)
        choice = response.choices[0]
        logprobs = getattr(choice, "logprobs", None)
        offsets = getattr(logprobs, "text_offset", None)
        values = getattr(logprobs, "token_logprobs", None)
        if not offsets or not values or len(offsets) != len(values):
            raise permanent_error(None, self._missing_logprobs(choice, full), "unsupported")
        start = len(self.prefix) + len(text)
        end = len(full)
        if offsets[0] >= start:
            raise RemoteError(
                "the target starts the request, so its first token has no log-prob; "
                "give prefix= (fixed text before every prompt)"
            )
        tokens = getattr(logprobs, "tokens", None) or [""] * len(offsets)
        # the tokens holding target text: also one merged across the prompt/target boundary,
        # never one after the target (the generated token)
        picked = [
            v
            for off, tok, v in zip(offsets, tokens, values, strict=True)
            if off < end and off + max(len(tok), 1) > start and v is not None
        ]
        if not picked:
            raise RemoteError(f"no target tokens found in the echoed answer for {text[:60]!r}")
        return (np.array([float(sum(picked))]), *token_counts(response))

    def _missing_logprobs(self, choice: Any, sent: str) -> str:
        """What the server did not return, and what to use instead."""
        returned = str(getattr(choice, "text", "") or "")
        missing = []
        if not returned.startswith(sent):
            missing.append("did not echo the prompt (echo=True ignored)")
        if getattr(choice, "logprobs", None) is None:
            missing.append("returned no logprobs (logprobs=0 ignored)")
        else:
            missing.append("returned no per-token log-probs of the prompt")
        where = redact_url(self.effective_base_url)
        return (
            f"the server at {where} {' and '.join(missing)} for model {self.model!r} (detected, "
            "not assumed), so it cannot score a fixed target; transformers serve, for one, "
            "ignores both. Use a server that echoes aligned prompt log-probs (vLLM, OpenAI), "
            "or explain the generated answer instead: OpenAIChat without labels "
            "(GenerationSimilarity)"
        )
