"""Adapters: every backend as a plain score function ``score(texts) -> (n, k)``.

Heavy dependencies (torch, sentence-transformers, ...) are imported only when an adapter is used.
"""

from .function import FunctionScorer
from .hf_causal_lm import HFCausalLM
from .hf_classifier import HFClassifier
from .sentence_similarity import SentenceSimilarity

__all__ = ["FunctionScorer", "HFCausalLM", "HFClassifier", "SentenceSimilarity"]
