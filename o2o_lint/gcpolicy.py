"""Fewer garbage collections while parsing.

Parsing allocates millions of small objects that live until their file is done, and
syntax trees (``ast`` or LibCST) hold no reference cycles: reference counting frees
them. With CPython's default thresholds the cycle collector still runs thousands of
times over them and finds nothing; on the benchmark corpus that was a quarter of a
cold run. A higher first-generation threshold keeps collections rare without turning
them off, so real cycles are still collected and peak memory stays where it was
(both measured: see docs/performance.md).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Allocations between two young-generation collections (CPython's default is 700).
YOUNG_THRESHOLD = 50_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's threshold for the duration, then restore the caller's.

    Scoped rather than set once, so that the flake8 plugin leaves its host process as
    it found it.
    """
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], YOUNG_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
