"""On-disk cache in ``<project>/.o2o-lint-cache`` (or ``--cache-dir``).

Entries are ``marshal`` blobs (plain data only: loading never runs code), written
atomically so that concurrent runs (flake8 ``-j``, two pre-commit hooks) never read
half a file. A cache that cannot be read or written is ignored, never an error.
"""

from __future__ import annotations

import hashlib
import itertools
import marshal
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: flake8 -j workers there merge without the lock
    fcntl = None  # type: ignore[assignment]

from o2o_lint import __version__

CACHE_DIR_NAME = ".o2o-lint-cache"


def stat_signature(path: str) -> list[int] | None:
    """(mtime, size): a file whose signature is unchanged is trusted to be unchanged."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_mtime_ns, stat.st_size]


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


_temporary_numbers = itertools.count()


def _new_temporary_file(directory: str) -> tuple[int, str]:
    """A new file in *directory*, open for writing, made as ``tempfile.mkstemp`` makes
    one (``O_EXCL``, mode 0o600): importing :mod:`tempfile` costs a cold run 5 ms."""
    while True:
        path = os.path.join(directory, f".tmp-{os.getpid()}-{next(_temporary_numbers)}")
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600), path
        except FileExistsError:  # left by a killed process that had the same pid
            continue


class Cache:
    def __init__(self, directory: str | None) -> None:
        self.directory = directory

    @classmethod
    def for_root(cls, root: str, cache_dir: str | None, enabled: bool) -> Cache:
        if not enabled:
            return cls(None)
        return cls(cache_dir or os.path.join(root, CACHE_DIR_NAME))

    def _path(self, name: str) -> str:
        assert self.directory is not None
        return os.path.join(self.directory, f"{name}-{__version__}.marshal")

    @contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """Hold *name*'s lock (an advisory ``flock``) so that a read-modify-write of it by
        one process (a flake8 ``-j`` worker merging its entries) does not drop another's."""
        if self.directory is None or fcntl is None:
            yield
            return
        try:
            os.makedirs(self.directory, exist_ok=True)
            descriptor = os.open(self._path(name) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            yield
            return
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def load(self, name: str) -> dict | None:
        """The entry stored as *name* (always a dict), or None: never an error."""
        if self.directory is None:
            return None
        try:
            with open(self._path(name), "rb") as handle:
                value = marshal.load(handle)
        except (OSError, EOFError, ValueError, TypeError):
            return None
        # every entry is a dict: anything else is damage or another layout, i.e. no entry
        return value if isinstance(value, dict) else None

    def store(self, name: str, value: Any) -> None:
        if self.directory is None:
            return
        try:
            os.makedirs(self.directory, exist_ok=True)
            ignore = os.path.join(self.directory, ".gitignore")
            if not os.path.exists(ignore):
                with open(ignore, "w") as handle:
                    handle.write("# created by o2o-lint\n*\n")
            descriptor, temporary = _new_temporary_file(self.directory)
            try:
                with os.fdopen(descriptor, "wb") as handle:
                    marshal.dump(value, handle)
                os.replace(temporary, self._path(name))
            except BaseException:
                os.unlink(temporary)
                raise
        except (OSError, ValueError):
            pass
