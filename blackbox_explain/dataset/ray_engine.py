"""``explain_many(..., engine="ray")``: the same explanations on a Ray cluster (extra ``ray``).

Ray Data reads the texts; a pool of actors holds the model (one per GPU with ``num_gpus=``, or
a hosted API's scorer with its own concurrency) and explains one text per call, exactly as the
local engine does (same seeds, same values); the results stream back to this process, which
appends each to ``out`` as it arrives, so a run is resumable the same way.  We schedule nothing
ourselves: Ray does.

Point it at a cluster with ``ray_address="ray://head:10001"`` (or ``RAY_ADDRESS``); without one
a local Ray instance is started.  The model travels to the actors as Ray ships any object; a
model spec string (``"minilm-sentiment"``, ``"hf-classifier:/path"``, as on the command line)
is loaded by each actor instead, which is what a GPU cluster wants.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ..explanation import FAILURE_FORMAT, Explanation
from ..extras import require
from .records import FailedText, ResultsFile, TextRecord


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

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Explain every row (``id``, ``text``, ``fields`` as JSON) into one JSON result line."""
        from .many import LocalRun

        if self.run is None:
            model, method, budget, cache, options = self.settings
            if isinstance(model, str):
                from ..cli.models import load_model

                model = load_model(model)
            self.run = LocalRun(model, method, budget, cache, None, None, options)
        records = [
            TextRecord(str(i), str(t), json.loads(str(f)))
            for i, t, f in zip(batch["id"], batch["text"], batch["fields"], strict=True)
        ]
        results = self.run.explain(records, workers=None, progress=False, on_result=None)
        return {
            "id": np.array([r.id for r in records], dtype=object),
            "line": np.array([results[r.id].to_json() for r in records], dtype=object),
        }


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
        from ..errors import InputError

        raise InputError("engine='ray' shares a cache by its path (an SQLite file), not an object")
    if not ray.is_initialized():
        address = ray_address or os.environ.get("RAY_ADDRESS")
        # a local instance listens on the loopback interface only
        local = {} if address else {"_node_ip_address": "127.0.0.1"}
        ray.init(address=address, include_dashboard=False, ignore_reinit_error=True, **local)
    rows = [{"id": r.id, "text": r.text, "fields": json.dumps(r.fields)} for r in records]
    dataset = ray.data.from_items(rows)
    pool = workers or 2
    mapped = dataset.map_batches(
        ExplainActor,
        fn_constructor_args=(model, method, budget, None if cache is None else str(cache), options),
        batch_size=1,
        concurrency=pool,
        num_gpus=num_gpus,
        batch_format="numpy",
    )
    results: dict[str, Explanation | FailedText] = {}
    for row in mapped.iter_rows():
        line = str(row["line"])
        data = json.loads(line)
        if data.get("format") == FAILURE_FORMAT:
            result: Explanation | FailedText = FailedText(data["id"], data["text"], data["error"])
        else:
            result = Explanation.from_dict(data)
        results[str(row["id"])] = result
        if results_file is not None:
            results_file.write(line)
    return results
