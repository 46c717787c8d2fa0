"""A minimal progress bar on stderr (no dependency), shown only for runs longer than a second."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts scored texts (or other ``unit``s); draws ``label [#####.....] done/total unit``
    after ``delay`` seconds.

    ``enabled=None`` shows it when the stream is a terminal.
    """

    def __init__(
        self,
        total: int,
        label: str = "scoring",
        enabled: bool | None = None,
        stream: TextIO | None = None,
        delay: float = 1.0,
        unit: str = "texts",
    ) -> None:
        self.total = total
        self.unit = unit
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled if enabled is not None else _is_tty(self.stream)
        self.delay = delay
        self.done = 0
        self._started = time.perf_counter()
        self._drawn = False
        self.detail = ""

    def update(self, n: int, detail: str = "") -> None:
        """Advance the bar by ``n`` items; ``detail`` is shown after the counts."""
        self.done += n
        self.detail = detail
        if self.enabled and time.perf_counter() - self._started >= self.delay:
            self._draw()

    def close(self) -> None:
        """Finish the bar (a final line when it was drawn)."""
        if self._drawn:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        total = max(self.total, self.done, 1)
        width = 30
        filled = int(width * self.done / total)
        elapsed = time.perf_counter() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
            f"{self.done}/{total} {self.unit}, {rate:.1f}/s"
            + (f", {self.detail}" if self.detail else "")
            + "\033[K"  # clear what a longer line before left
        )
        self.stream.flush()
        self._drawn = True


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
