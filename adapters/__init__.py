"""Adapters: every backend as a plain score function ``score(texts) -> (n, k)``.

Heavy dependencies (torch, sentence-transformers, ...) are imported only when an adapter is used.
"""

from .function import FunctionScorer
from .sentence_similarity import SentenceSimilarity

__all__ = ["FunctionScorer", "SentenceSimilarity"]
