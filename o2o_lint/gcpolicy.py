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


def keep_out_of_collections() -> None:
    """Move every object alive now out of the collector's reach, for good (``gc.freeze``).

    For the flake8 plugin, once its project index is built: the index and LibCST's
    modules stay alive until the process ends, and with them in the oldest generation
    each of flake8's full collections scanned them again. Measured on the benchmark
    corpus: flake8's collection time went from 1.8 s to 5.4 s with the plugin, and back
    to 1.5 s with this. Objects that exist at this point (flake8's options and plugins,
    imported modules) live as long as the process anyway; the cost is that a reference
    cycle among them that becomes garbage later is not freed before exit.
    """
    gc.freeze()
