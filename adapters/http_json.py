"""Any in-house HTTP JSON endpoint as a scorer: a URL, a request template, a path to the scores."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from blackbox_explain.errors import InputError, InputTypeError
from blackbox_explain.extras import require
from blackbox_explain.redact import public_headers, redact_url, scrub, url_secrets
from blackbox_explain.remote import RemoteError, RemoteScorer, TransientFailure, classify_status

PLACEHOLDER = "{text}"


def fill(template: Any, text: str) -> Any:
    """The template with every string ``"{text}"`` replaced by the text (JSON-safe)."""
    if isinstance(template, str):
        return text if template == PLACEHOLDER else template.replace(PLACEHOLDER, text)
    if isinstance(template, Mapping):
        return {k: fill(v, text) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, text) for v in template]
    return template


def has_placeholder(template: Any) -> bool:
    """Whether some string in the template contains ``"{text}"`` (what :func:`fill` fills)."""
    if isinstance(template, str):
        return PLACEHOLDER in template
    if isinstance(template, Mapping):
        return any(has_placeholder(v) for v in template.values())
    if isinstance(template, list):
        return any(has_placeholder(v) for v in template)
    return False


def extract(data: Any, path: str) -> Any:
    """Follow a dotted path (``"result.scores"``, ``"choices.0.probs"``) into parsed JSON."""
    current = data
    for part in [p for p in path.split(".") if p]:
        if isinstance(current, list):
            try:
                current = current[int(part)]
            except (ValueError, IndexError) as exc:
                raise RemoteError(
                    f"the response has no item {part!r} on the path {path!r}"
                ) from exc
        elif isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            raise RemoteError(f"the response has no field {part!r} on the path {path!r}")
    return current


class HTTPJSON(RemoteScorer):
    """POST ``request_template`` (with ``"{text}"`` filled in) to ``url``; read the scores at
    ``scores_path`` (a number or a list of numbers).

    ``api_key`` (default ``$HTTPJSON_API_KEY`` if set) is sent as ``Authorization: Bearer ...``
    and never stored anywhere else.
    """

    env_key = "HTTPJSON_API_KEY"
    scalarizers = ("scores",)
    scalarizer = "scores from the JSON answer"

    def __init__(
        self,
        url: str,
        request_template: Mapping[str, Any],
        scores_path: str,
        output_names: Sequence[str],
        headers: Mapping[str, str] | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        name: str | None = None,
        **engine: Any,
    ) -> None:
        super().__init__(**engine)
        self.url = url
        self.request_template = request_template
        self.scores_path = scores_path
        # as given (a string of names included) until check_policy has checked it
        self.output_names = cast(list[str], output_names)
        self.headers = headers or {}
        self.timeout = timeout
        self.name = name or f"http-json:{redact_url(url)}"
        self._api_key = api_key

    def check_policy(self) -> None:
        """Clear errors for a request template, scores path or output names that cannot work,
        before any request is sent (a template without ``"{text}"`` would send every text the
        same request: each answer paid for, and every value 0)."""
        super().check_policy()
        if not isinstance(self.request_template, Mapping):
            raise InputTypeError(
                'request_template must be a JSON object (a dict) with "{text}" where the text '
                f"goes, got {type(self.request_template).__name__}"
            )
        if not has_placeholder(self.request_template):
            raise InputError(
                f"request_template {json.dumps(self.request_template)[:120]} has no string "
                f"containing {PLACEHOLDER}: every text would be sent the same request"
            )
        if not isinstance(self.scores_path, str) or not self.scores_path:
            raise InputError(f"scores_path must be a dotted path, got {self.scores_path!r}")
        names = self.output_names
        if isinstance(names, str) or not all(isinstance(n, str) for n in names) or not names:
            raise InputTypeError(
                f"output_names must be a list of one name per score, got {names!r}"
            )
        if not isinstance(self.headers, Mapping):
            raise InputTypeError(f"headers must be a dict, got {type(self.headers).__name__}")

    @property
    def fingerprint(self) -> str:
        """The cache key of this scorer's answers: all that changes them, never the API key."""
        key: list[Any] = [
            "http-json",
            redact_url(self.url),
            self.request_template,
            self.scores_path,
            list(self.output_names),
        ]
        headers = public_headers(dict(self.headers))
        if headers:  # (absent otherwise: earlier caches keep their keys)
            key.append(["headers", headers])
        return json.dumps(key, sort_keys=True)

    def __repr__(self) -> str:
        return f"HTTPJSON(url={redact_url(self.url)!r}, scores_path={self.scores_path!r})"

    async def _open(self) -> None:
        httpx = require("httpx", "api", "HTTP JSON endpoints")
        headers = dict(self.headers)
        key = self._api_key or os.environ.get(self.env_key)  # optional for in-house endpoints
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._httpx = httpx
        self._client = httpx.AsyncClient(headers=headers, timeout=self.timeout)

    async def _close(self) -> None:
        await self._client.aclose()

    async def _request(self, text: str) -> tuple[np.ndarray, int, int]:
        httpx = self._httpx
        try:
            response = await self._client.post(self.url, json=fill(self.request_template, text))
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            detail = scrub(str(exc), url_secrets(self.url))
            raise TransientFailure(f"{type(exc).__name__}: {detail}") from exc
        if response.status_code >= 400:  # a server may echo the URL, secrets and all
            detail = scrub(response.text[:200], url_secrets(self.url))
            raise classify_status(response.status_code, detail, response.headers)
        try:
            data = response.json()
        except ValueError as exc:
            raise RemoteError(
                f"{redact_url(self.url)} did not answer JSON: "
                f"{scrub(response.text[:120], url_secrets(self.url))!r}"
            ) from exc
        scores = np.atleast_1d(np.asarray(extract(data, self.scores_path), dtype=np.float64))
        if scores.shape != (len(self.output_names),):
            raise InputError(
                f"{redact_url(self.url)} returned {scores.shape[0]} scores at {self.scores_path!r}; "
                f"expected {len(self.output_names)} ({self.output_names})"
            )
        return scores, 0, 0
