"""Explaining a dataset: many texts at once (:mod:`.many`), their streamed, resumable results
(:mod:`.records`), shared batches for local models (:mod:`.batching`), Ray (:mod:`.ray_engine`), the
global view of the results (:mod:`.summary`) and example-based explanations (:mod:`.neighbours`)."""

from .many import explain_many
from .neighbours import Example, SimilarExamples, similar_examples
from .records import FailedText, TextRecord
from .summary import GlobalExplanation, WordStat, summarize

__all__ = [
    "Example",
    "FailedText",
    "GlobalExplanation",
    "SimilarExamples",
    "TextRecord",
    "WordStat",
    "explain_many",
    "similar_examples",
    "summarize",
]
