"""Which files a run looks at: walk the given paths, honour excludes, survive odd trees.

Excludes apply to explicitly named files too (pre-commit passes every changed file,
migrations included, and migrations record history that must not be rewritten).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class DiscoveryProblem:
    path: str
    message: str


def is_excluded(path: str, excludes: Iterable[str], root: str | None = None) -> bool:
    """True when any component of *path* (relative to *root*) matches an exclude pattern."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, root) if root else absolute
    if relative.startswith(".."):
        relative = absolute
    relative = relative.replace(os.sep, "/")
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    for pattern in excludes:
        pattern = pattern.rstrip("/")
        if "/" in pattern:
            if fnmatch.fnmatch(relative, pattern) or relative.startswith(pattern + "/"):
                return True
        elif any(fnmatch.fnmatch(part, pattern) for part in parts):
            return True
    return False


def iter_python_files(
    paths: Iterable[str], excludes: Iterable[str], root: str | None = None
) -> Iterator[str | DiscoveryProblem]:
    """Yield every ``.py`` file under *paths*, sorted, without following directory symlinks."""
    excludes = tuple(excludes)
    seen: set[str] = set()
    for path in paths:
        path = os.path.normpath(path)
        if not os.path.lexists(path):
            yield DiscoveryProblem(path, "cannot read: no such file or directory")
            continue
        if os.path.isdir(path):
            if is_excluded(path, excludes, root) and os.path.abspath(path) != os.path.abspath(root or ""):
                continue
            yield from _walk(path, excludes, root, seen)
        elif not os.path.exists(path):
            yield DiscoveryProblem(path, "cannot read: broken symlink or symlink loop")
        elif not is_excluded(path, excludes, root):
            real = os.path.realpath(path)
            if real not in seen:
                seen.add(real)
                yield path


def _walk(top: str, excludes: tuple[str, ...], root: str | None, seen: set[str]) -> Iterator[str | DiscoveryProblem]:
    found: list[str] = []
    problems: list[DiscoveryProblem] = []

    def on_error(error: OSError) -> None:
        problems.append(DiscoveryProblem(error.filename or top, f"cannot read: {error.strerror or error}"))

    for directory, dirnames, filenames in os.walk(top, onerror=on_error, followlinks=False):
        dirnames[:] = sorted(
            d for d in dirnames if not is_excluded(os.path.join(directory, d), excludes, root)
        )
        for name in filenames:
            if not name.endswith(".py"):
                continue
            path = os.path.normpath(os.path.join(directory, name))
            if is_excluded(path, excludes, root):
                continue
            if os.path.islink(path) and not os.path.exists(path):
                problems.append(DiscoveryProblem(path, "cannot read: broken symlink or symlink loop"))
                continue
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            found.append(path)
    yield from sorted(found)
    yield from problems
