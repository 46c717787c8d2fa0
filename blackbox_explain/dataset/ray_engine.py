"""``explain_many(..., engine="ray")``: the same explanations on a Ray cluster (extra ``ray``).

Ray Data reads the texts; a pool of actors holds the model (one per GPU with ``num_gpus=``, or
a hosted API's scorer with its own concurrency) and explains a few texts per call, exactly as
the local engine does (same seeds, same values); the results stream back to this process, which
appends each to ``out`` as it arrives, so a run is resumable the same way.  We schedule nothing
ourselves: Ray does.

Point it at a cluster with ``ray_address="ray://head:10001"`` (or ``RAY_ADDRESS``); without one
a local Ray instance is started.  A local model travels to the actors as Ray ships any object;
a model spec string (``"minilm-sentiment"``, ``"hf-classifier:/path"``, as on the command line)
or a :class:`~blackbox_explain.cli.models.ModelSpec` (a spec with its labels and hosted-API
options) is loaded by each actor instead, which is what a GPU cluster wants.  A hosted API goes
as a ``ModelSpec``: its money and token caps, rate limits and ``max_concurrency`` are divided
among the actors, so that together they hold; a hosted-API scorer object is refused (its open
connections cannot travel, and each actor would get the whole cap).
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from .. import errors
from ..errors import BlackboxExplainError, InputError, UnknownNameError
from ..explanation import FAILURE_FORMAT, Explanation
from ..extras import require
from ..resolve import remote_scorer_of
from .many import LOCAL_WORKERS, DatasetProgress
from .records import FailedText, ResultsFile, TextRecord

#: the ``format`` of what an actor sends back for each text when it cannot set up (its model
#: spec does not load there)
ACTOR_FAILURE = "blackbox-explain-ray-actor-failure"


def actor_error(class_name: str, message: str) -> BlackboxExplainError:
    """The library error an actor met setting up, rebuilt here: the same class (its plain
    message constructor; :class:`InputError` for one that takes other arguments)."""
    found = getattr(errors, class_name, None)
    if not (isinstance(found, type) and issubclass(found, BlackboxExplainError)):
        found = BlackboxExplainError
    if found is UnknownNameError:
        found = InputError
    return found(f"on the Ray actors: {message}")


class ExplainActor:
    """A Ray actor holding the model: explains the texts of each batch it is given."""

    def __init__(
        self,
        model: Any,
        method: str,
        budget: int,
        cache: str | None,
        options: dict[str, Any],
    ) -> None:
        self.settings = (model, method, budget, cache, options)
        self.run: Any = None
        self.failure: str | None = None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Explain every row (``id``, ``text``, ``fields`` as JSON) into one JSON result line."""
        from .many import LocalRun

        if self.run is None and self.failure is None:
            model, method, budget, cache, options = self.settings
            try:
                if hasattr(model, "shared_by"):  # a ModelSpec: loaded here, in the actor
                    model = model.load()
                self.run = LocalRun(model, method, budget, cache, None, None, options)
            except BlackboxExplainError as exc:
                # sent back as data: Ray's task errors would keep only its traceback's text
                self.failure = json.dumps(
                    {"format": ACTOR_FAILURE, "error_class": type(exc).__name__, "error": str(exc)}
                )
        ids = [str(i) for i in batch["id"]]
        if self.run is None:
            lines = [self.failure] * len(ids)
        else:
            records = [
                TextRecord(i, str(t), json.loads(str(f)))
                for i, t, f in zip(ids, batch["text"], batch["fields"], strict=True)
            ]
            results = self.run.explain(records, workers=None, progress=False, on_result=None)
            lines = [results[r.id].to_json() for r in records]
        return {"id": np.array(ids, dtype=object), "line": np.array(lines, dtype=object)}


def explain_on_ray(
    model: Any,
    records: list[TextRecord],
    method: str,
    budget: int,
    cache: Any,
    results_file: ResultsFile | None,
    progress: bool | None,
    workers: int | None,
    options: dict[str, Any],
    ray_address: str | None = None,
    num_gpus: float | None = None,
) -> dict[str, Explanation | FailedText]:
    """Explain ``records`` on Ray; results by id (see the module docstring)."""
    ray = require("ray", "ray", "explain_many(engine='ray')")
    if not records:
        return {}
    if cache is not None and not isinstance(cache, (str, os.PathLike)):
        raise InputError("engine='ray' shares a cache by its path (an SQLite file), not an object")
    pool = workers or 2
    model = actor_model(model, pool)
    if not ray.is_initialized():
        address = ray_address or os.environ.get("RAY_ADDRESS")
        # a local instance listens on the loopback interface only
        local = {} if address else {"_node_ip_address": "127.0.0.1"}
        ray.init(address=address, include_dashboard=False, ignore_reinit_error=True, **local)
    rows = [{"id": r.id, "text": r.text, "fields": json.dumps(r.fields)} for r in records]
    dataset = ray.data.from_items(rows)
    mapped = dataset.map_batches(
        ExplainActor,
        fn_constructor_args=(model, method, budget, None if cache is None else str(cache), options),
        batch_size=texts_per_call(model),
        concurrency=pool,
        num_gpus=num_gpus,
        batch_format="numpy",
    )
    results: dict[str, Explanation | FailedText] = {}
    bar = DatasetProgress(len(records), progress, None)
    try:
        for row in mapped.iter_rows():
            take_result(row, results, results_file, bar)
    finally:
        bar.close()
    return results


def take_result(
    row: dict[str, Any],
    results: dict[str, Explanation | FailedText],
    results_file: ResultsFile | None,
    bar: DatasetProgress,
) -> None:
    """One actor's result: kept, written to ``out`` and counted."""
    line = str(row["line"])
    data = json.loads(line)
    if data.get("format") == ACTOR_FAILURE:
        raise actor_error(data["error_class"], data["error"])
    if data.get("format") == FAILURE_FORMAT:
        result: Explanation | FailedText = FailedText(data["id"], data["text"], data["error"])
    else:
        result = Explanation.from_dict(data)
    results[str(row["id"])] = result
    if results_file is not None:
        results_file.write(line)
    bar.finished(result)


def actor_model(model: Any, actors: int) -> Any:
    """What each of ``actors`` actors gets: a spec string as a ``ModelSpec``, a ``ModelSpec``
    with its caps divided among them, a local model as it is; a hosted-API scorer is refused."""
    from ..cli.models import ModelSpec

    if isinstance(model, str):
        model = ModelSpec(model)
    if isinstance(model, ModelSpec):
        return model.shared_by(actors)
    if remote_scorer_of(model) is not None:
        raise InputError(
            "engine='ray' cannot ship a hosted-API scorer to its actors (its open connections "
            "cannot travel, and each actor would get the whole money and token cap): pass a "
            "ModelSpec instead, e.g. ModelSpec('openai-chat:MODEL', labels=(...), "
            "api={'base_url': ..., 'max_cost': ...}) from blackbox_explain.cli.models"
        )
    return model


def texts_per_call(model: Any) -> int:
    """Texts each actor explains at once: enough to keep a hosted API's request slots full
    (four per slot, as the local engine), else as many as the local engine keeps in flight
    (their coalitions share the model's batches)."""
    api = getattr(model, "api", None) or {}
    return 4 * int(api.get("max_concurrency") or 8) if api else LOCAL_WORKERS
