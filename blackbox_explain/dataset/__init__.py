"""Explaining a dataset: many texts at once (:mod:`.many`), their streamed, resumable results
(:mod:`.records`), shared batches for local models (:mod:`.batching`)."""

from .many import explain_many
from .records import FailedText, TextRecord

__all__ = ["FailedText", "TextRecord", "explain_many"]
