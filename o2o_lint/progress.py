"""A progress bar on standard error, for long runs on a terminal only.

Nothing is drawn when standard error is not a terminal, when ``CI`` is set (CI logs
keep every carriage-return frame), or during the first second: a warm run over a
cached project finishes before the bar would appear. The bar is erased when the run
ends, so it never mixes with the report.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

#: Seconds before the bar appears (the environment variable exists for tests).
DEFAULT_DELAY = 1.0
MIN_INTERVAL = 0.1


def wanted(stream: TextIO) -> bool:
    if os.environ.get("CI") or os.environ.get("O2O_LINT_NO_PROGRESS"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    def __init__(self, stream: TextIO | None = None, *, label: str = "Checking", delay: float | None = None) -> None:
        self.stream = stream or sys.stderr
        self.label = label
        if delay is None:
            try:
                delay = float(os.environ.get("O2O_LINT_PROGRESS_DELAY", DEFAULT_DELAY))
            except ValueError:
                delay = DEFAULT_DELAY
        self.delay = delay
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.started < self.delay or total <= 0:
            return
        if self.drawn and done < total and now - self.last_draw < MIN_INTERVAL:
            return
        self.last_draw = now
        self.drawn = True
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        elapsed = now - self.started
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} files ({elapsed:.0f}s)")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            dumb = os.environ.get("TERM") == "dumb"
            self.stream.write("\r" + " " * 79 + "\r" if dumb else "\r\033[K")
            self.stream.flush()
            self.drawn = False


def progress_for(stream: TextIO | None = None) -> ProgressBar | None:
    stream = stream or sys.stderr
    return ProgressBar(stream) if wanted(stream) else None
