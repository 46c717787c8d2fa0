"""Adapters: every backend as a plain score function ``score(texts) -> (n, k)``.

Heavy dependencies are imported only when an adapter is used.
"""

from .function import FunctionScorer

__all__ = ["FunctionScorer"]
