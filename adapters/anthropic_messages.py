"""Anthropic's Messages API through the official ``anthropic`` SDK.

It returns text only (no log-probabilities), so a model is explained through its answers:
:class:`~blackbox_explain.adapters.GenerationSimilarity` with label parsing (``labels=[...]``) or
embedding similarity.  The key defaults to ``$ANTHROPIC_API_KEY`` and lives only in the client.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from blackbox_explain.errors import InputError
from blackbox_explain.extras import require
from blackbox_explain.redact import redact_url
from blackbox_explain.remote import RemoteScorer, TransientFailure, api_key, classify_status
from blackbox_explain.resolve import label_list


class AnthropicMessages(RemoteScorer):
    """A Claude model as a text generator (``generate``) with the engine's policy.

    ``bind(text, target)`` explains it through :class:`GenerationSimilarity`: with ``labels``, by
    whether each perturbed prompt's answer names the same label; otherwise by the embedding
    similarity of the answers (``similarity=`` overrides).

    ``empty_prompt`` is sent in place of a prompt with every segment removed (the empty
    coalition every Shapley method asks about): the API refuses an empty or blank user message.
    It is part of the cache key; pick another placeholder if ``"."`` means something to your
    task.
    """

    env_key = "ANTHROPIC_API_KEY"
    scalarizers = ("generation similarity",)

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        labels: Sequence[str] | None = None,
        similarity: str | None = None,
        system_prompt: str | None = None,
        max_tokens: int = 64,
        temperature: float | None = None,
        sample_index: int = 0,
        timeout: float = 60.0,
        name: str | None = None,
        empty_prompt: str = ".",
        **engine: Any,
    ) -> None:
        super().__init__(**engine)
        self.model = model
        self.empty_prompt = empty_prompt
        self.base_url = base_url
        self.labels = label_list(labels, "AnthropicMessages")
        self.similarity = similarity or ("label" if labels else "embedding")
        self.system_prompt = system_prompt
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.sample_index = sample_index
        self.timeout = timeout
        self.name = name or f"anthropic:{model}"
        self.output_names = ["answer"]
        self.output_tokens_per_request = max_tokens
        self._api_key = api_key

    @property
    def fingerprint(self) -> str:
        # answers are samples unless temperature is 0: they are cached per sample index
        """The cache key of this scorer's answers: all that changes them, never the API key."""
        sample = None if self.temperature == 0 else self.sample_index
        return json.dumps(
            [
                "anthropic-messages",
                redact_url(self.effective_base_url),
                self.model,
                self.system_prompt,
                self.max_tokens,
                self.temperature,
                sample,
                self.empty_prompt,
            ]
        )

    @property
    def effective_base_url(self) -> str:
        """Where requests go: ``base_url``, else ``$ANTHROPIC_BASE_URL`` (as the SDK reads it),
        else Anthropic's API; part of the cache key."""
        return self.base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"

    def __repr__(self) -> str:
        shown = None if self.base_url is None else redact_url(self.base_url)
        return f"AnthropicMessages(model={self.model!r}, base_url={shown!r})"

    async def _open(self) -> None:
        self._sdk = require("anthropic", "api", "Anthropic models")
        key = api_key(self._api_key, self.env_key)
        self._client = self._sdk.AsyncAnthropic(
            api_key=key, base_url=self.base_url, max_retries=0, timeout=self.timeout
        )

    async def _close(self) -> None:
        await self._client.close()

    async def _generate_one(self, text: str) -> tuple[str, int, int]:
        sdk = self._sdk
        if not text.strip():  # every segment removed: the API refuses a blank message
            self._check_empty_prompt()
            text = self.empty_prompt
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": [{"role": "user", "content": text}],
        }
        if self.temperature is not None:  # not a typed SDK argument in every version
            kwargs["extra_body"] = {"temperature": self.temperature}
        if self.system_prompt:
            kwargs["system"] = self.system_prompt
        try:
            response = await self._client.messages.create(**kwargs)
        except (sdk.APITimeoutError, sdk.APIConnectionError) as exc:
            raise TransientFailure(f"{type(exc).__name__}: {exc}") from exc
        except sdk.APIStatusError as exc:
            raise classify_status(exc.status_code, str(exc), exc.response.headers) from exc
        answer = "".join(
            block.text for block in response.content if getattr(block, "type", "") == "text"
        )
        return answer, response.usage.input_tokens, response.usage.output_tokens

    async def _request(self, text: str) -> tuple[np.ndarray, int, int]:
        raise InputError(
            "AnthropicMessages returns text: explain it through bind() / GenerationSimilarity"
        )

    def generate(self, prompts: Sequence[str]) -> list[str]:
        """Answers to many prompts, concurrently, with retries and budgets."""
        answers = self.run(prompts, self._generate_one)
        return [answers[p] for p in prompts]

    def _check_empty_prompt(self) -> None:
        if not isinstance(self.empty_prompt, str) or not self.empty_prompt.strip():
            raise InputError(
                "empty_prompt must be non-blank text (the API refuses a blank message), "
                f"got {self.empty_prompt!r}"
            )

    def bind(self, text: str, target: str | None = None) -> Any:
        """The scorer explaining ``text``: how each perturbed prompt's answer matches ``target``
        (default: the answer to ``text`` itself)."""
        from .generation_similarity import GenerationSimilarity

        self._check_empty_prompt()

        return GenerationSimilarity(self, similarity=self.similarity, labels=self.labels).bind(
            text, target
        )
