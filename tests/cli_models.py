"""Models for the command-line tests, named by ``python:cli_models:NAME`` specs (``tests/``
is importable: conftest.py)."""

CALLS: list[str] = []


def counting_model(texts):
    """The number of words; every text asked is recorded in CALLS."""
    CALLS.extend(texts)
    return [[float(len(t.split()))] for t in texts]


def fails_on_boom(texts):
    """The number of words, but an error on any text with 'boom' in it."""
    if any("boom" in t for t in texts):
        raise RuntimeError("the model crashed")
    return [[float(len(t.split()))] for t in texts]
