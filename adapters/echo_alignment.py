"""Is a server's echoed prompt log-prob of token i the log-prob of token i, or of the token after?

llama-cpp-python (0.3.36, its issue #1983) returns for each prompt token the log-prob the model
gives it *after having seen it*: the values are shifted by one position, and the log-prob of a
target summed from them is wrong (for SmolLM2, " Paris" after "The capital of France is" reads
-9.06 instead of -0.25).  Nothing in one answer says so.  A probe says it: a counting sequence,
sent once with ``logprobs=1``.  At each position the top alternative is what the model predicts
there; a correct server predicts the token at that position (" 5" where " 5" stands), a shifted
one the token after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PROBE = "\n1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16"


def top_token(alternatives: Any) -> str | None:
    """The most likely token of one position's ``top_logprobs`` (None when absent)."""
    if not isinstance(alternatives, Mapping) or not alternatives:
        return None
    return str(max(alternatives.items(), key=lambda item: float(item[1]))[0])


def alignment(tokens: Sequence[str], top_logprobs: Sequence[Any] | None) -> str:
    """``"aligned"``, ``"shifted"`` (the top alternatives predict the next position's token) or
    ``"unknown"`` (no top alternatives, or no clear signature)."""
    if not top_logprobs or len(top_logprobs) < len(tokens):
        return "unknown"
    here = ahead = 0
    for i in range(1, len(tokens) - 1):
        top = top_token(top_logprobs[i])
        if top is None:
            continue
        here += top == tokens[i]
        ahead += top == tokens[i + 1]
    if here >= 3 and here > 2 * ahead:
        return "aligned"
    if ahead >= 3 and ahead > 2 * here:
        return "shifted"
    return "unknown"
