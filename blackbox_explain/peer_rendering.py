"""shap's and lime's text explainers made to ask for the texts our masker renders.

Left to themselves they render a coalition their own way: shap's Text masker joins the kept
tokens and collapses the whitespace ("good, ." where our Delete masker gives "good,."), lime
keeps the spaces around a removed word.  Those are other texts than the game's, so their
answers belong to another game than the one whose values they are compared with (for an LM,
other tokens and other log-probs).  Both helpers take ``render(keep) -> str``: the coalition's
text as our masker (or a game) renders it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .segmentation import Segmentation

Render = Callable[[np.ndarray], str]

#: lime's mark for a removed word: a character no segment starts with
LIME_SENTINEL = "\x00"


def shap_text_masker(shap: Any, seg: Segmentation, render: Render) -> Any:
    """A ``shap.maskers.Text`` over our segments (its token clustering included) whose masked
    texts are ``render``'s."""
    from .interop import segment_tokenizer

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
