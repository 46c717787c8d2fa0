"""Explaining a dataset: many texts at once (:mod:`.many`), their streamed, resumable results
(:mod:`.records`), shared batches for local models (:mod:`.batching`), Ray (:mod:`.ray_engine`), and the
global view of the results (:mod:`.summary`)."""

from .many import explain_many
from .records import FailedText, TextRecord
from .summary import GlobalExplanation, WordStat, summarize

__all__ = [
    "FailedText",
    "GlobalExplanation",
    "TextRecord",
    "WordStat",
    "explain_many",
    "summarize",
]
