"""Headless Chromium for the page tests: Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"


def browser_args() -> list[str]:
    """Chromium's flags here: no sandbox (root), no GPU, no background network."""
    return [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-quic",
    ]


def playwright_or_skip() -> Any:
    """Playwright's sync API, or a skip (a failure on CI, where chromium must be there)."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing on CI (.ci/run installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    return playwright
