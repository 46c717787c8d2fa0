"""Counterfactual explanations: the smallest edit of the input that changes the model's answer.

- :mod:`.search`: :func:`counterfactuals`, the search over edit sizes (exhaustive, then a beam);
- :mod:`.editors`: what edits are proposed (deletions, a substitution table, a function);
- :mod:`.goal`: when a scored text counts as a counterfactual;
- :mod:`.result`: what the search returns, with its JSON round trip.
"""

from .editors import Editor, FunctionEditor, GeneratorEditor, MaskerEditor, SubstitutionTable
from .goal import Goal
from .result import Counterfactual, CounterfactualResult, Edit, diff_text
from .search import apply_edits, counterfactuals

__all__ = [
    "Counterfactual",
    "CounterfactualResult",
    "Edit",
    "Editor",
    "FunctionEditor",
    "GeneratorEditor",
    "Goal",
    "MaskerEditor",
    "SubstitutionTable",
    "apply_edits",
    "counterfactuals",
    "diff_text",
]
