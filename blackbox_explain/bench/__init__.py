"""``blackbox-explain bench``: what explanations cost and how good they are, on your model.

- :mod:`.grid`: :func:`run_bench`, every method (and peer) at every budget and seed;
- :mod:`.plan`: :func:`plan_bench`, the same run's calls, tokens and cost, no call made;
- :mod:`.store`: the model's answers, asked once and replayed, and its measured time;
- :mod:`.peers`: shap, lime and Captum run on our segments and deletion baseline;
- :mod:`.result`: the cells, the summary, the headline and the files written.
"""

from .grid import run_bench
from .plan import BenchPlan, plan_bench
from .result import BenchResult, Cell, format_interval, ratio_interval
from .store import AnswerStore, ModelClock, SummedOutputs

__all__ = [
    "AnswerStore",
    "BenchPlan",
    "BenchResult",
    "Cell",
    "ModelClock",
    "SummedOutputs",
    "format_interval",
    "plan_bench",
    "ratio_interval",
    "run_bench",
]
