"""Explaining a dataset: many explanations in flight at once, streamed, resumable.

Each text is explained exactly as :func:`~blackbox_explain.explain` would explain it alone (the
same seed, the same method, the same budget), so the values are the same; what changes is that
many run at once.  For a hosted API their requests share the scorer's one ``max_concurrency``
pool (an adaptive method asks a few coalitions per round, so one text alone leaves the pool
mostly idle); for a local model the batches of many texts go to the model together
(:class:`~blackbox_explain.dataset.batching.SharedBatches`).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from threadpoolctl import threadpool_limits

from ..api import DEFAULT_BUDGET, Explainer
from ..cache import Cache
from ..errors import BudgetExhaustedError, InputError, InputTypeError
from ..explanation import Explanation
from ..progress import Progress
from ..remote.slots import explanation_scope
from ..resolve import check_batch_size, check_budget, remote_scorer_of, resolve_cache
from ..scoring import as_scorer
from .batching import SharedBatches
from .records import FailedText, ResultsFile, TextRecord, read_done, text_records

Result = Explanation | FailedText
ENGINES = ("local", "ray")
#: explanations in flight at once for a local model: their coalitions share the model's batches
#: (MiniLM, 200 texts, auto at 64 calls: mean batch 34 rows and 16.5 s with 4 in flight, 54 rows
#: and 13.3 s with 16; benchmarks/RESULTS.md section 7)
LOCAL_WORKERS = 16


def explain_many(
    model: Any,
    texts: Sequence[str | Mapping[str, Any]],
    method: str = "auto",
    budget: int = DEFAULT_BUDGET,
    *,
    ids: Sequence[Any] | None = None,
    out: str | os.PathLike[str] | None = None,
    cache: Cache | str | os.PathLike[str] | None = None,
    engine: str = "local",
    progress: bool | None = None,
    workers: int | None = None,
    batch_size: int | None = None,
    on_result: Callable[[Result], None] | None = None,
    ray_address: str | None = None,
    num_gpus: float | None = None,
    evaluate: bool | Mapping[str, Any] = False,
    examples: Sequence[str] | Mapping[str, Any] | None = None,
    **options: Any,
) -> list[Result]:
    """Explain every text; the results in input order, a failed text as a :class:`FailedText`.

    Parameters
    ----------
    model:
        As for :func:`~blackbox_explain.explain`.
    texts:
        Strings, or records ``{"text": ..., "id": ..., <other fields>}``; the other fields (a
        cohort, a gold ``label``) are kept in each explanation's ``meta["record"]`` for
        the dataset view.
    method, budget, **options:
        As for :func:`~blackbox_explain.explain` (``seed``, ``granularity``, ``masker``,
        ``target``, method options), the same for every text.
    ids:
        One id per text (default: a record's ``id``, else its position); given twice is an
        error before any call.
    out:
        A JSON-lines file each result is appended to as it finishes; a rerun with the same
        file skips the ids already explained there (with ``cache=``, nothing is paid twice).
    cache:
        Shared by every text (``None``: one in-memory cache for the run).
    engine:
        ``"local"`` (threads in this process) or ``"ray"`` (a Ray cluster; see
        :mod:`blackbox_explain.dataset.ray_engine`).
    progress:
        One bar over the texts: done/total, calls, cost so far, time left (``None``: on a
        terminal).
    workers:
        Explanations in flight at once (default: four times a hosted API's ``max_concurrency``,
        else 16, whose coalitions share a local model's batches).
    on_result:
        Called with each result as it finishes (in completion order; local engine).
    ray_address, num_gpus:
        For ``engine="ray"``: the cluster (default ``$RAY_ADDRESS``, else a local instance) and
        the GPUs each model actor takes.
    evaluate:
        Also measure each explanation's faithfulness as it finishes, through the same engine
        and cache (:func:`~blackbox_explain.evaluate`; a mapping: its options, e.g.
        ``{"output": "positive", "loo": False}``), kept in ``meta["evaluation"]`` (an
        evaluation that fails: ``meta["evaluation_error"]``; the explanation is kept).  Local
        engine.
    examples:
        A corpus (texts), or a mapping of :func:`~blackbox_explain.similar_examples`' options
        with its ``"corpus"``: each explanation also gets the corpus texts nearest to its own
        and the model's labels for them, in ``meta["examples"]`` (which the HTML report shows;
        one that fails: ``meta["examples_error"]``).  The corpus is embedded once, before the
        first text.  Local engine.
    """
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    evaluation = evaluation_options(evaluate, options)
    neighbours = examples_options(examples)
    if (evaluation is not None or neighbours is not None) and engine == "ray":
        raise InputError("evaluate= and examples= run with the local engine (engine='local')")
    check_shared_options(method, budget, options)
    check_batch_size(batch_size)
    records = text_records(texts, ids)
    results_file = None if out is None else ResultsFile(out)
    if results_file is not None:
        results_file.check_writable()  # before any call is paid for
    done = {} if results_file is None else read_done(results_file.path)
    todo = [r for r in records if r.id not in done]
    if engine == "ray":
        from .ray_engine import explain_on_ray

        fresh = explain_on_ray(
            model,
            todo,
            method,
            budget,
            cache,
            results_file,
            progress,
            workers,
            options,
            ray_address=ray_address,
            num_gpus=num_gpus,
        )
    else:
        run = LocalRun(
            model, method, budget, cache, results_file, batch_size, options, evaluation, neighbours
        )
        fresh = run.explain(todo, workers, progress, on_result)
    finished = {**done, **fresh}
    return [finished[r.id] for r in records if r.id in finished]


class LocalRun:
    """One :func:`explain_many` on this machine: a pool of threads, one explanation each."""

    def __init__(
        self,
        model: Any,
        method: str,
        budget: int,
        cache: Cache | str | os.PathLike[str] | None,
        results_file: ResultsFile | None,
        batch_size: int | None,
        options: dict[str, Any],
        evaluation: dict[str, Any] | None = None,
        examples: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.method = method
        self.budget = budget
        self.cache = cache
        self.results_file = results_file
        self.batch_size = batch_size
        self.options = options
        self.evaluation = evaluation
        self.examples = examples

    def explain(
        self,
        records: list[TextRecord],
        workers: int | None,
        progress: bool | None,
        on_result: Callable[[Result], None] | None,
    ) -> dict[str, Result]:
        """Explain ``records`` with ``workers`` in flight; results by id."""
        remote = remote_scorer_of(self.model)
        shared = self._shared_model(remote)
        explainer = Explainer(
            shared, cache=resolve_cache(self.cache), batch_size=self.batch_size, progress=False
        )
        if workers is None:
            workers = 4 * int(remote.max_concurrency) if remote is not None else LOCAL_WORKERS
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise InputError(f"workers must be a whole number >= 1, got {workers!r}")
        examples = None
        if self.examples is not None and records:  # the corpus embedded once, not per thread
            examples = prepared_examples(self.examples, explainer.cache, progress)
        bar = DatasetProgress(len(records), progress, remote)
        results: dict[str, Result] = {}
        stop: list[BaseException] = []
        # the estimators' linear algebra is small: BLAS threads spinning between its calls took
        # the cores from a local model's own threads (MiniLM ran at half speed)
        with (
            threadpool_limits(limits=1, user_api="blas"),
            ThreadPoolExecutor(max_workers=min(workers, max(len(records), 1))) as pool,
        ):
            pending: dict[Future[Result | None], TextRecord] = {}
            queue = list(reversed(records))
            while queue or pending:
                while queue and len(pending) < workers and not stop:
                    record = queue.pop()
                    job = pool.submit(self._one, explainer, record, stop, examples)
                    pending[job] = record
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    record = pending.pop(future)
                    result = future.result()
                    if result is None:
                        continue  # not started: the run was stopped
                    results[record.id] = result
                    if self.results_file is not None:
                        self.results_file.write(result.to_json())
                    bar.finished(result)
                    if on_result is not None:
                        on_result(result)
        bar.close()
        if stop:
            failure = stop[0]
            failure.partial_results = results  # type: ignore[attr-defined]
            raise failure
        return results

    def _shared_model(self, remote: Any) -> Any:
        """The model as every thread uses it: a local scorer behind shared batches (a model
        that binds a scorer per text, or a hosted API, as it is)."""
        if remote is not None or hasattr(self.model, "bind"):
            return self.model
        scorer = as_scorer(self.model)
        if getattr(scorer, "streams_results", False):
            return scorer
        limit = getattr(scorer, "max_batch_size", None) or self.batch_size or 64
        return SharedBatches(scorer, max_batch_size=int(limit))

    def _one(
        self,
        explainer: Explainer,
        record: TextRecord,
        stop: list[BaseException],
        examples: dict[str, Any] | None = None,
    ) -> Result | None:
        if stop:
            return None
        try:
            with explanation_scope():  # the texts furthest behind get the next request slots
                exp = explainer.explain(record.text, self.method, self.budget, **self.options)
        except BudgetExhaustedError as exc:
            # a hard cap of the model (money, tokens): every later text would stop there too
            stop.append(exc)
            return FailedText(record.id, record.text, f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            return FailedText(record.id, record.text, f"{type(exc).__name__}: {exc}")
        exp.meta["id"] = record.id
        if record.fields:
            exp.meta["record"] = dict(record.fields)
        if self.evaluation is not None:
            try:
                with explanation_scope():
                    measured = explainer.evaluate(exp, **self.evaluation)
                exp.meta["evaluation"] = measured.to_dict()
            except BudgetExhaustedError as exc:
                stop.append(exc)  # the explanation was paid for: it is kept
                exp.meta["evaluation_error"] = f"{type(exc).__name__}: {exc}"
            except Exception as exc:
                exp.meta["evaluation_error"] = f"{type(exc).__name__}: {exc}"
        if examples is not None:
            from .neighbours import similar_examples

            try:
                with explanation_scope():
                    found = similar_examples(  # the explanations' batches and cache
                        explainer.model,
                        record.text,
                        cache=explainer.cache,
                        progress=False,
                        **examples,
                    )
                found.attach(exp)
            except BudgetExhaustedError as exc:
                stop.append(exc)
                exp.meta["examples_error"] = f"{type(exc).__name__}: {exc}"
            except Exception as exc:
                exp.meta["examples_error"] = f"{type(exc).__name__}: {exc}"
        return exp


def evaluation_options(
    evaluate: bool | Mapping[str, Any], options: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The options each explanation's evaluation gets (the explanation's masker, unless
    given), or ``None`` for no evaluation; an :class:`InputError` for anything but a bool or
    a mapping of :func:`~blackbox_explain.evaluate`'s options."""
    from ..evaluation import evaluate as evaluate_function

    if evaluate is False or evaluate is None:
        return None
    if evaluate is True:
        chosen: dict[str, Any] = {}
    elif isinstance(evaluate, Mapping):
        chosen = dict(evaluate)
    else:
        raise InputTypeError(
            f"evaluate must be True, False or a dict of evaluate()'s options, got "
            f"{type(evaluate).__name__}"
        )
    check_keywords(chosen, evaluate_function, "evaluate", ("explanation", "model", "cache"))
    chosen.setdefault("masker", options.get("masker", "delete"))
    chosen.setdefault("progress", False)
    return chosen


def check_keywords(
    chosen: Mapping[str, Any], function: Callable[..., Any], name: str, fixed: Sequence[str]
) -> None:
    """An :class:`InputError` naming the keys of ``chosen`` that ``function`` has no parameter
    for (its ``fixed`` ones, given by the run itself, excluded)."""
    import inspect

    accepted = set(inspect.signature(function).parameters) - set(fixed)
    unknown = sorted(set(chosen) - accepted)
    if unknown:
        raise InputError(f"{name} has no option {unknown}; its options: {sorted(accepted)}")


def examples_options(examples: Sequence[str] | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """:func:`~blackbox_explain.similar_examples`' options for every text (``k`` 3 unless
    given), or ``None``; an :class:`InputError` for a corpus that is not texts or options it
    does not have."""
    from .neighbours import similar_examples

    if examples is None:
        return None
    chosen: dict[str, Any] = (
        dict(examples) if isinstance(examples, Mapping) else {"corpus": examples}
    )
    corpus = chosen.get("corpus")
    if isinstance(corpus, str) or not isinstance(corpus, Sequence) or not corpus:
        raise InputTypeError("examples needs a corpus: a non-empty list of texts")
    if not all(isinstance(t, str) for t in corpus):
        raise InputTypeError("examples' corpus must be texts (str)")
    check_keywords(chosen, similar_examples, "examples", ("model", "text", "cache"))
    chosen.setdefault("k", 3)
    chosen.pop("progress", None)
    return chosen


def prepared_examples(
    examples: dict[str, Any], cache: Any, progress: bool | None
) -> dict[str, Any]:
    """``examples`` with the embedder loaded once and the corpus embedded into ``cache``."""
    from .neighbours import embeddings, shared_embedder

    embedder = shared_embedder(examples.get("embedder"))
    embeddings(list(dict.fromkeys(examples["corpus"])), embedder, cache, progress)
    return {**examples, "embedder": embedder}


def check_shared_options(method: Any, budget: int, options: dict[str, Any]) -> None:
    """What every text shares, checked once before any call (each text would otherwise fail
    alone with the same error): the budget, the masker and the method with its options."""
    import inspect

    from ..estimators import get_estimator
    from ..maskers import get_masker

    check_budget(budget)
    get_masker(options.get("masker", "delete"))
    shared = set(inspect.signature(Explainer.explain).parameters)
    get_estimator(method, **{k: v for k, v in options.items() if k not in shared})


class DatasetProgress:
    """The bar of a dataset run: texts done of total, calls, cost so far and time left."""

    def __init__(self, total: int, enabled: bool | None, remote: Any) -> None:
        self.bar = Progress(total, "explaining", enabled, unit="texts")
        self.remote = remote
        self.calls = 0
        self.failed = 0
        self.started = time.perf_counter()
        self._lock = threading.Lock()

    def finished(self, result: Result) -> None:
        """Count one finished text."""
        with self._lock:
            if isinstance(result, Explanation):
                self.calls += int(result.meta.get("n_calls", 0))
            else:
                self.failed += 1
            self.bar.update(1, detail=self.detail(self.bar.done + 1))

    def detail(self, done: int) -> str:
        """Calls, cost, failures and time left once ``done`` texts are finished, for the bar."""
        parts = [f"{self.calls} calls"]
        if self.remote is not None:
            parts.append(f"cost {self.remote.usage.cost:.4g}")
        if self.failed:
            parts.append(f"{self.failed} failed")
        total = self.bar.total
        if 0 < done < total:
            left = (time.perf_counter() - self.started) / done * (total - done)
            parts.append(f"{math.ceil(left)} s left")
        return ", ".join(parts)

    def close(self) -> None:
        """Finish the bar."""
        self.bar.close()
