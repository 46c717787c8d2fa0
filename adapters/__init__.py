"""Adapters: every backend as a plain score function ``score(texts) -> (n, k)``.

Heavy dependencies (torch, sentence-transformers, ...) are imported only when an adapter is used.
"""

from .anthropic_messages import AnthropicMessages
from .embedded import load_smollm2
from .function import FunctionScorer
from .generation_similarity import FunctionGenerator, GenerationSimilarity
from .hf_causal_lm import HFCausalLM
from .hf_classifier import HFClassifier
from .http_json import HTTPJSON
from .openai_compat import OpenAIChat, OpenAICompletions
from .sentence_similarity import SentenceSimilarity

__all__ = [
    "HTTPJSON",
    "AnthropicMessages",
    "FunctionGenerator",
    "FunctionScorer",
    "GenerationSimilarity",
    "HFCausalLM",
    "HFClassifier",
    "OpenAIChat",
    "OpenAICompletions",
    "SentenceSimilarity",
    "load_smollm2",
]
