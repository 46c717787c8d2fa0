import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def api():
    """A fake OpenAI / Anthropic / JSON API server on 127.0.0.1 (tests/fake_api.py)."""
    from fake_api import FakeAPI

    with FakeAPI() as server:
        yield server
