"""Hugging Face sequence classifiers as scorers: class probabilities (or logits) per label."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from blackbox_explain.errors import UnknownNameError
from blackbox_explain.scoring import CallableScorer

from .local_files import files_revision
from .torch_runtime import PlacedModel, torch_module, transformers_module

OUTPUTS = ("probabilities", "logits")


class HFClassifier(PlacedModel, CallableScorer):
    """A transformers sequence-classification model as a :class:`~blackbox_explain.Scorer`.

    Outputs one column per label (named from the model's ``id2label``): probabilities by default,
    logits with ``output="logits"``.  Batched with padding under ``torch.inference_mode``.
    Texts longer than ``max_length`` tokens are truncated and *reported*: a warning names how
    many, and ``n_truncated`` counts them.

    Build it with :meth:`from_pretrained` (a local folder), from a model and tokenizer, or
    :meth:`from_pipeline`.

    Parameters
    ----------
    model, tokenizer:
        A loaded ``AutoModelForSequenceClassification`` and its tokenizer.
    output:
        ``"probabilities"`` (default) or ``"logits"``.
    batch_size:
        Texts per forward pass.
    max_length:
        Token limit (default: the tokenizer's ``model_max_length``).
    device:
        Torch device (default: cuda, then mps, then cpu).
    name:
        Display name (default: ``hf-classifier:<model_id>``).
    model_id:
        A stable identifier of the model (set by :meth:`from_pretrained` to the resolved path);
        it keys the persistent cache.  Without it, answers are cached for this process only.
    revision:
        The version of the model's weights, also part of the cache key (set by
        :meth:`from_pretrained` from the files' names, sizes and modification times, so a model
        re-saved in place never gets the old model's cached answers; pass your own, e.g. a
        training step, for a model built in memory).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        output: str = "probabilities",
        batch_size: int = 32,
        max_length: int | None = None,
        device: str | None = None,
        model_id: str | None = None,
        name: str | None = None,
        revision: str | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.output = output
        self.max_batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.model_id = model_id
        self.revision = revision
        self.name = name or f"hf-classifier:{model_id or type(model).__name__}"
        self.n_truncated = 0

    @classmethod
    def from_pretrained(cls, path: str | Path, **options: Any) -> HFClassifier:
        """Load model and tokenizer from a local folder (no hub access is attempted)."""
        transformers = transformers_module()
        folder = str(path)
        options.setdefault("revision", files_revision(folder))
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(folder)
        options.setdefault("model_id", str(Path(folder).resolve()))
        return cls(model, tokenizer, **options)

    @classmethod
    def from_pipeline(cls, pipeline: Any, **options: Any) -> HFClassifier:
        """Wrap a ``transformers.pipeline("text-classification", ...)``."""
        return cls(pipeline.model, pipeline.tokenizer, **options)

    @property
    def output_names(self) -> list[str]:
        """The model's class names (``id2label``)."""
        id2label = getattr(self.model.config, "id2label", None) or {}
        n = int(getattr(self.model.config, "num_labels", len(id2label)))
        return [str(id2label.get(i, f"LABEL_{i}")) for i in range(n)]

    @property
    def fingerprint(self) -> str | None:
        """The cache key of this scorer's answers: all that changes them, never the API key."""
        if self.model_id is None:
            return None
        return json.dumps(
            ["hf-classifier", self.model_id, self.revision, self.output, self.max_length]
        )

    def _limit(self) -> int | None:
        if self.max_length is not None:
            return self.max_length
        limit = getattr(self.tokenizer, "model_max_length", None)
        return int(limit) if isinstance(limit, int) and limit < 1_000_000 else None

    def score(self, texts: list[str]) -> np.ndarray:
        """Class probabilities (or logits, per ``output``) for each text; texts past the token
        limit are truncated, with a warning, and counted in ``n_truncated``."""
        if self.output not in OUTPUTS:
            raise UnknownNameError("classifier output", self.output, OUTPUTS)
        torch = torch_module()
        self._ready()
        limit = self._limit()
        if limit is not None:
            lengths = [len(ids) for ids in self.tokenizer(list(texts))["input_ids"]]
            truncated = sum(length > limit for length in lengths)
            if truncated:
                self.n_truncated += truncated
                warnings.warn(
                    f"{self.name}: {truncated} of {len(texts)} texts exceed {limit} tokens and "
                    "were truncated; their scores ignore the end of the text",
                    stacklevel=2,
                )
        encoded = self.tokenizer(
            list(texts),
            padding=True,
            truncation=limit is not None,
            max_length=limit,
            return_tensors="pt",
        ).to(self.device)
        with torch.inference_mode():
            logits = self.model(**encoded).logits.float()
            values = logits if self.output == "logits" else torch.softmax(logits, dim=-1)
        return values.cpu().numpy().astype(np.float64)

    def __repr__(self) -> str:
        return f"HFClassifier(name={self.name!r}, output={self.output!r}, labels={self.output_names!r})"
