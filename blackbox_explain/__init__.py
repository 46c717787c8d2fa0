"""blackbox-explain: explain any text model with perturbation methods only.

>>> import blackbox_explain as bbx
>>> exp = bbx.explain(lambda texts: [len(t) for t in texts], "a short example", method="exact")
>>> round(float(exp.values.sum()), 6) == round(float(exp.full_value[0] - exp.base_value[0]), 6)
True
"""

from .api import DEFAULT_BUDGET, Explainer, explain
from .cache import Cache, MemoryCache
from .counterfactual import (
    Counterfactual,
    CounterfactualResult,
    Edit,
    FunctionEditor,
    GeneratorEditor,
    MaskerEditor,
    SubstitutionTable,
    counterfactuals,
)
from .dataset import (
    FailedText,
    GlobalExplanation,
    SimilarExamples,
    explain_many,
    similar_examples,
    summarize,
)
from .errors import (
    BlackboxExplainError,
    BudgetError,
    BudgetExhaustedError,
    BudgetTooSmallError,
    CacheError,
    InputError,
    InputTypeError,
    MissingAPIKeyError,
    MissingDependencyError,
    ScorerError,
    ScorerOutputError,
    TooManySegmentsError,
    UnknownNameError,
)
from .estimators import ESTIMATORS, Estimator, get_estimator
from .evaluation import Evaluation, evaluate, plan_evaluation
from .explanation import Explanation
from .game import CoalitionGame
from .maskers import Baseline, Delete, Masker, MaskString, Replace
from .scoring import Scorer
from .segmentation import Segment, Segmentation, segment
from .sqlite_cache import SQLiteCache

__version__ = "0.1.0"

METHODS = tuple(ESTIMATORS)

__all__ = [
    "DEFAULT_BUDGET",
    "ESTIMATORS",
    "METHODS",
    "Baseline",
    "BlackboxExplainError",
    "BudgetError",
    "BudgetExhaustedError",
    "BudgetTooSmallError",
    "Cache",
    "CacheError",
    "CoalitionGame",
    "Counterfactual",
    "CounterfactualResult",
    "Delete",
    "Edit",
    "Estimator",
    "Evaluation",
    "Explainer",
    "Explanation",
    "FailedText",
    "FunctionEditor",
    "GeneratorEditor",
    "GlobalExplanation",
    "InputError",
    "InputTypeError",
    "MaskString",
    "Masker",
    "MaskerEditor",
    "MemoryCache",
    "MissingAPIKeyError",
    "MissingDependencyError",
    "Replace",
    "SQLiteCache",
    "Scorer",
    "ScorerError",
    "ScorerOutputError",
    "Segment",
    "Segmentation",
    "SimilarExamples",
    "SubstitutionTable",
    "TooManySegmentsError",
    "UnknownNameError",
    "counterfactuals",
    "evaluate",
    "explain",
    "explain_many",
    "get_estimator",
    "plan_evaluation",
    "segment",
    "similar_examples",
    "summarize",
]
