"""Interoperation with shap and lime (both optional extras).

- :func:`to_shap` / :func:`from_shap`: convert explanations, so shap's plots work on ours and a
  shap text explanation can be rendered, compared or saved here.
- Every adapter is a plain model function (``adapter(texts) -> (n, k)``), usable directly by
  ``shap.Explainer`` with ``shap.maskers.Text`` and by lime's ``LimeTextExplainer``.
- :func:`shap_text_masker` / :func:`lime_text_reader`: shap's and lime's text explainers made to
  ask for the texts our masker renders (for the delegated methods and the benchmark's peers).
  Left to themselves they render a coalition their own way: shap's Text masker joins the kept
  tokens and collapses the whitespace ("good, ." where our Delete masker gives "good,."), lime
  keeps the spaces around a removed word.  Those are other texts than the game's, so their
  answers belong to another game than the one whose values they are compared with (for an LM,
  other tokens and other log-probs).  Both helpers take ``render(keep) -> str``: the
  coalition's text as our masker (or a game) renders it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputError
from .extras import require
from .segmentation import Segmentation

if TYPE_CHECKING:
    from .explanation import Explanation


def to_shap(exp: Explanation) -> Any:
    """A ``shap.Explanation`` of this explanation: one row per segment, one column per output.

    ``data`` holds each segment with the text up to the next one, so ``"".join(data)`` is the
    original text (minus leading whitespace, which goes with the first segment) — the form shap's
    text plots expect.
    """
    shap = require("shap", "shap", "to_shap()")
    gaps = exp.segmentation.gaps
    data = [seg.text + gaps[i + 1] for i, seg in enumerate(exp.segments)]
    if data:
        data[0] = gaps[0] + data[0]
    return shap.Explanation(
        values=exp.values.copy(),
        base_values=exp.base_value.copy(),
        data=np.array(data, dtype=object),
        feature_names=exp.segmentation.labels(),
        output_names=list(exp.output_names),
        error_std=None if exp.std is None else exp.std.copy(),
    )


def from_shap(shap_exp: Any, output_names: list[str] | None = None) -> Explanation:
    """An :class:`~blackbox_explain.Explanation` from a shap text explanation of one text.

    Tokens are segments; whitespace inside a token's string is left to the gaps.  Empty tokens
    (special tokens of a tokenizer) are dropped; their values must be zero.
    """
    from .explanation import Explanation

    tokens = [str(t) for t in np.asarray(shap_exp.data, dtype=object).ravel()]
    values = np.asarray(shap_exp.values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.shape[0] != len(tokens):
        raise InputError(
            f"a shap explanation of one text was expected: {values.shape[0]} value rows for "
            f"{len(tokens)} tokens"
        )
    text = "".join(tokens)
    spans, rows, position = [], [], 0
    for row, token in enumerate(tokens):
        core = token.strip()
        if core:
            start = position + token.index(core)
            spans.append((start, start + len(core)))
            rows.append(row)
        elif np.any(values[row] != 0):
            raise InputError(f"shap token {row} is empty but has a non-zero value")
        position += len(token)
    if not spans:
        raise InputError("the shap explanation has no non-empty tokens")
    base = np.asarray(shap_exp.base_values, dtype=np.float64).reshape(-1)
    kept = values[rows]
    names = (
        output_names
        or list(getattr(shap_exp, "output_names", None) or [])
        or [f"output_{j}" for j in range(kept.shape[1])]
    )
    return Explanation(
        Segmentation(text, tuple(spans), kind="shap"),
        kept,
        list(names),
        base,
        base + kept.sum(axis=0),
        None,
        {"method": "shap", "source": "shap.Explanation"},
    )


def segment_tokenizer(segmentation: Segmentation) -> Any:
    """A tokenizer function for ``shap.maskers.Text`` whose tokens are our segments."""

    def tokenize(text: str, return_offsets_mapping: bool = True, **_: Any) -> dict[str, Any]:
        if text == segmentation.text:
            offsets = list(segmentation.spans)
        elif text == "":
            offsets = []  # shap asks for the tokens of "" to find special tokens
        else:
            raise InputError("this tokenizer only tokenizes the text it was built for")
        return {"input_ids": list(range(len(offsets))), "offset_mapping": offsets}

    return tokenize


Render = Callable[[np.ndarray], str]

#: lime's mark for a removed word: a character no segment starts with
LIME_SENTINEL = "\x00"


def shap_text_masker(shap: Any, seg: Segmentation, render: Render) -> Any:
    """A ``shap.maskers.Text`` over our segments (its token clustering included) whose masked
    texts are ``render``'s."""

    class RenderingText(shap.maskers.Text):
        def __call__(self, mask: Any, s: str) -> tuple[np.ndarray]:
            keep = np.asarray(self._standardize_mask(mask, s), dtype=bool)
            return (np.array([render(keep)]),)

    return RenderingText(segment_tokenizer(seg), mask_token=0, collapse_mask_token=False)


def lime_text_reader(lime_text: Any, seg: Segmentation, render: Render) -> Callable[[str], str]:
    """For a ``LimeTextExplainer`` whose features are our segments (``bow=False``,
    ``mask_string=LIME_SENTINEL``): reads each text it asks for back into the coalition it
    stands for and returns ``render``'s text of that coalition."""
    words = [s.text for s in seg.segments]
    indexed = lime_text.IndexedString(
        seg.text, split_expression=lambda _t: list(words), bow=False, mask_string=LIME_SENTINEL
    )
    starts = {start: i for i, (start, _) in enumerate(seg.spans)}
    segment_of_piece = {
        int(piece): starts[int(indexed.string_start[piece])] for piece in indexed.positions
    }

    def read(text: str) -> str:
        keep = np.zeros(len(seg), dtype=bool)
        position = 0
        for piece, part in enumerate(indexed.as_list):
            if piece in segment_of_piece:
                if text.startswith(LIME_SENTINEL, position):
                    position += len(LIME_SENTINEL)
                    continue
                keep[segment_of_piece[piece]] = True
            if not text.startswith(part, position):
                raise RuntimeError(f"cannot read lime's text {text!r} as a coalition")
            position += len(part)
        return render(keep)

    return read
