"""Secrets out of everything we show or store: a URL's secret-bearing parts redacted.

A key can ride in a URL (``?key=...``, ``?sig=...``, ``https://user:password@host``): such a URL
appears in a scorer's name, its repr, the explanation's meta, the HTML report, error messages and
the cache's fingerprint, so every one of them takes :func:`redact_url` of it instead.
"""

from __future__ import annotations

import re
import urllib.parse

REDACTED = "REDACTED"
#: query parameter names that carry secrets (matched as words inside the name, any case)
SECRET_PARAMETER = re.compile(
    r"(key|token|secret|signature|sig|password|passwd|pwd|auth|credential|session|code)",
    re.IGNORECASE,
)
#: request headers that carry secrets; they never reach a cache key, log or repr
SECRET_HEADER = re.compile(r"(auth|key|token|secret|cookie|signature|session)", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` with the values of secret-like query parameters and any password replaced by
    ``REDACTED`` (the rest unchanged, so the endpoint stays recognisable)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{REDACTED}@{host}"
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if any(SECRET_PARAMETER.search(name) for name, _ in query):
        cleaned = [(n, REDACTED if SECRET_PARAMETER.search(n) else v) for n, v in query]
        new_query = urllib.parse.urlencode(cleaned, safe=REDACTED)
    else:
        new_query = parts.query
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, new_query, parts.fragment))


def public_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers that carry no secret (by name), lower-cased and sorted: what may change an
    answer and may be stored."""
    return {k.lower(): v for k, v in sorted(headers.items()) if not SECRET_HEADER.search(k)}


def url_secrets(url: str) -> list[str]:
    """The secret values a URL carries (secret-like query values, a password), longest first."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return [url]
    found = [v for n, v in urllib.parse.parse_qsl(parts.query) if SECRET_PARAMETER.search(n) and v]
    if parts.password:
        found.append(parts.password)
    return sorted(set(found), key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` (a server's error message, say) with every secret replaced by ``REDACTED``,
    raw or percent-encoded."""
    for secret in secrets:
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            text = text.replace(form, REDACTED)
    return text
