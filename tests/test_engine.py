import io
import threading

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionScorer

import blackbox_explain as bbx
from blackbox_explain.cache import InFlight
from blackbox_explain.game import CoalitionGame
from blackbox_explain.progress import Progress
from blackbox_explain.segmentation import Segmentation


class Recorder:
    def __init__(self, fn=None, k=1):
        self.batches = []
        self.fn = fn or (lambda texts: np.array([[len(t)] * k for t in texts], float))

    def __call__(self, texts):
        self.batches.append(list(texts))
        return self.fn(texts)


def make_game(rec, text="a b c d", **kw):
    return CoalitionGame(FunctionScorer(rec, name="recorder"), Segmentation.words(text), **kw)


def test_dedupes_within_and_across_calls():
    rec = Recorder()
    game = make_game(rec, "a a b")
    masks = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 1]], bool)
    values = game(masks)
    assert values[:, 0].tolist() == [1, 1, 1, 5]
    assert sum(len(b) for b in rec.batches) == 2  # "a" and "a a b"
    game(np.array([[0, 1, 0], [0, 0, 1]], bool))
    assert game.stats.n_calls == 3 and game.stats.n_cache_hits == 1


def test_batches_follow_the_smaller_of_game_and_scorer_limit():
    rec = Recorder()
    scorer = FunctionScorer(rec, max_batch_size=3)
    game = CoalitionGame(scorer, Segmentation.words("a b c d e"), batch_size=10)
    from blackbox_explain.estimators.enumeration import all_masks

    game(all_masks(5))
    assert max(len(b) for b in rec.batches) == 3
    assert game.stats.n_batches == len(rec.batches)


def test_budget_is_a_hard_stop():
    rec = Recorder()
    game = make_game(rec, budget=3)
    game(np.array([[1, 0, 0, 0], [0, 1, 0, 0]], bool))
    with pytest.raises(bbx.BudgetExhaustedError, match="budget of 3"):
        game(np.array([[0, 0, 1, 0], [0, 0, 0, 1]], bool))
    assert game.stats.n_calls == 2  # nothing was sent
    game(np.array([[1, 0, 0, 0], [0, 0, 1, 0]], bool))  # one cached, one new: fits
    assert game.stats.n_calls == 3


@pytest.mark.parametrize(
    "fn,match",
    [
        (lambda texts: [[float("nan")] if "c" in t else [1.0] for t in texts], "non-finite.*'c'"),
        (lambda texts: [[float("inf")] for t in texts], "non-finite"),
        (lambda texts: [1.0] * (len(texts) + 1), "rows"),
        (lambda texts: np.ones((len(texts), 2, 2)), "shape"),
        (lambda texts: ["x"] * len(texts), "numeric"),
        # cast to float with a warning alone, the imaginary parts dropped
        (lambda texts: np.ones(len(texts)) * 1j, "complex"),
    ],
)
def test_bad_scorer_output_is_named(fn, match):
    game = make_game(Recorder(fn))
    with pytest.raises(bbx.ScorerOutputError, match=match) as info:
        game(np.eye(4, dtype=bool))
    assert "recorder" in str(info.value)


def test_output_count_must_stay_the_same():
    calls = iter([np.ones((1, 2)), np.ones((1, 3))])
    game = make_game(Recorder(lambda texts: next(calls)))
    game(np.array([[1, 0, 0, 0]], bool))
    with pytest.raises(bbx.ScorerOutputError, match=r"3 outputs.*expected 2"):
        game(np.array([[0, 1, 0, 0]], bool))


def test_nan_batch_keeps_the_valid_answers():
    cache = bbx.MemoryCache()
    game = make_game(
        Recorder(lambda ts: [[np.nan] if t == "c" else [len(t)] for t in ts]), cache=cache
    )
    with pytest.raises(bbx.ScorerOutputError):
        game(np.eye(4, dtype=bool))
    assert len(cache) == 3  # a, b, d kept


def test_scorer_that_raises_keeps_earlier_batches():
    state = {"n": 0}

    def flaky(texts):
        state["n"] += 1
        if state["n"] == 3:
            raise ConnectionError("server went away")
        return [len(t) for t in texts]

    cache = bbx.MemoryCache()
    scorer = FunctionScorer(Recorder(flaky), name="recorder")
    seg = Segmentation.words("a b c d")
    game = CoalitionGame(scorer, seg, cache=cache, batch_size=2)
    from blackbox_explain.estimators.enumeration import all_masks

    with pytest.raises(bbx.ScorerError, match="ConnectionError: server went away") as info:
        game(all_masks(4))
    assert isinstance(info.value.__cause__, ConnectionError)
    assert len(cache) == 4
    # resuming with the same cache pays only for what is missing
    again = CoalitionGame(scorer, seg, cache=cache, batch_size=2)
    again(all_masks(4))
    assert again.stats.n_calls == 16 - 4 and again.stats.n_cache_hits == 4


def test_progress_bar_draws_after_delay():
    stream = io.StringIO()
    bar = Progress(10, label="scoring", enabled=True, stream=stream, delay=0.0)
    bar.update(5)
    bar.update(5)
    bar.close()
    assert "10/10 texts" in stream.getvalue() and stream.getvalue().endswith("\n")
    quiet = io.StringIO()
    bar = Progress(10, enabled=None, stream=quiet, delay=0.0)
    bar.update(10)
    bar.close()
    assert quiet.getvalue() == ""  # not a terminal


def test_sqlite_cache_persists_and_resumes(tmp_path):
    path = tmp_path / "calls.sqlite"
    rec = Recorder()
    scorer = FunctionScorer(rec, fingerprint="len-v1")
    text = "the cat sat on the mat"
    first = bbx.explain(scorer, text, method="kernelshap", budget=40, cache=str(path))
    assert first.meta["n_calls"] > 0
    rec2 = Recorder()
    scorer2 = FunctionScorer(rec2, fingerprint="len-v1")
    second = bbx.explain(scorer2, text, method="kernelshap", budget=40, cache=str(path))
    assert second.meta["n_calls"] == 0 and rec2.batches == []
    np.testing.assert_array_equal(first.values, second.values)
    raw = path.read_bytes()
    assert b"the cat" not in raw  # keys are hashes; values are JSON numbers


def test_sqlite_cache_rejects_a_non_database(tmp_path):
    bogus = tmp_path / "not.sqlite"
    bogus.write_text("this is not sqlite" * 100)
    scorer = FunctionScorer(lambda t: [1.0] * len(t), fingerprint="constant")
    with pytest.raises(bbx.CacheError, match=f"cannot use {bogus}"):
        bbx.explain(scorer, "a b", method="exact", budget=4, cache=bogus)


class StreamingScorer:
    """A scorer that streams its answers (as the remote ones do): the empty text's answer
    arrives when ``empty_go`` is set, the others only when ``go`` is set."""

    streams_results = True

    def __init__(self):
        self.output_names = ["len"]
        self.empty_go = threading.Event()
        self.go = threading.Event()
        self.asked = []

    def score(self, texts, on_result=None):
        self.asked.extend(texts)
        rows = {t: np.array([float(len(t))]) for t in texts}
        if "" in rows:
            assert self.empty_go.wait(timeout=30)
            on_result("", rows[""])
        assert self.go.wait(timeout=30)
        for text in texts:
            if text != "":
                on_result(text, rows[text])
        return np.stack([rows[t] for t in texts])


class WatchedInFlight(InFlight):
    """Says when a game starts waiting for a text another game is scoring."""

    def __init__(self):
        super().__init__()
        self.someone_waits = threading.Event()

    def claim(self, fingerprint, texts):
        mine, theirs = super().claim(fingerprint, texts)
        if theirs:
            self.someone_waits.set()
        return mine, theirs


def test_a_game_waiting_for_a_text_another_game_pays_for_goes_on_when_its_answer_arrives():
    # many texts of a dataset ask the same empty text: the game that pays for it is also
    # waiting for its other coalitions, and the others must not wait for those as well
    scorer = StreamingScorer()
    cache = bbx.MemoryCache()
    cache.in_flight = registry = WatchedInFlight()
    first = CoalitionGame(scorer, Segmentation.words("a b"), cache=cache)
    second = CoalitionGame(scorer, Segmentation.words("c d e"), cache=cache)
    paying = threading.Thread(target=first, args=(np.array([[0, 0], [1, 1]], bool),))
    paying.start()
    waiting: list = []
    thread = threading.Thread(target=lambda: waiting.append(second(np.zeros((1, 3), bool))))
    thread.start()
    assert registry.someone_waits.wait(timeout=30)
    scorer.empty_go.set()  # the empty text's answer arrives; "a b" is still on its way
    thread.join(timeout=10)
    finished = not thread.is_alive()
    scorer.go.set()
    paying.join()
    thread.join()
    assert finished, "the second game waited for the first game's whole batch"
    assert waiting[0].tolist() == [[0.0]] and scorer.asked.count("") == 1
    assert second.stats.n_cache_hits == 1 and second.stats.n_calls == 0


def test_outputs_sharing_a_name_are_an_error_before_any_call():
    # exp.top(output="a") would read the first of them, silently
    from blackbox_explain.adapters import FunctionScorer

    calls = []
    scorer = FunctionScorer(lambda t: calls.append(t) or np.ones((len(t), 2)), ["a", "a"])
    with pytest.raises(bbx.InputError, match=r"more than one output \['a'\]"):
        bbx.explain(scorer, "good film", budget=4, progress=False)
    assert calls == []
