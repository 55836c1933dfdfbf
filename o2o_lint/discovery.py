"""Which files a run looks at: walk the given paths, honour excludes, survive odd trees.

Excludes apply to explicitly named files too (pre-commit passes every changed file,
migrations included, and migrations record history that must not be rewritten).
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class DiscoveryProblem:
    path: str
    message: str


class ExcludeMatcher:
    """Exclude patterns compiled once: names (``migrations``, ``*.egg-info``) match any path
    component; patterns with a slash (``tests/fixtures``) match the path relative to the root."""

    def __init__(self, excludes: Iterable[str], root: str | None) -> None:
        names: list[str] = []
        paths: list[str] = []
        for pattern in excludes:
            pattern = pattern.rstrip("/")
            (paths if "/" in pattern else names).append(pattern)
        self.root = os.path.abspath(root) if root else None
        self.name_regex = re.compile("|".join(fnmatch.translate(p) for p in names)) if names else None
        self.path_regex = (
            re.compile("|".join(f"(?:{fnmatch.translate(p)})|(?:{re.escape(p)}/.*)" for p in paths)) if paths else None
        )

    def name_excluded(self, name: str) -> bool:
        return self.name_regex is not None and self.name_regex.match(name) is not None

    def _relative(self, path: str) -> str:
        absolute = os.path.abspath(path)
        relative = os.path.relpath(absolute, self.root) if self.root else absolute
        if relative.startswith(".."):
            relative = absolute
        return relative.replace(os.sep, "/")

    def path_excluded(self, path: str) -> bool:
        return self.path_regex is not None and self.path_regex.match(self._relative(path)) is not None

    def excluded(self, path: str) -> bool:
        """Every component is checked: for paths named on the command line."""
        relative = self._relative(path)
        if self.path_regex is not None and self.path_regex.match(relative):
            return True
        return any(self.name_excluded(part) for part in relative.split("/") if part not in ("", "."))


def iter_python_files(
    paths: Iterable[str], excludes: Iterable[str], root: str | None = None
) -> Iterator[str | DiscoveryProblem]:
    """Yield every ``.py`` file under *paths*, sorted, without following directory symlinks."""
    matcher = ExcludeMatcher(excludes, root)
    seen: set[str] = set()
    for path in paths:
        path = os.path.normpath(path)
        if not os.path.lexists(path):
            yield DiscoveryProblem(path, "cannot read: no such file or directory")
            continue
        if os.path.isdir(path):
            if matcher.excluded(path) and os.path.abspath(path) != os.path.abspath(root or ""):
                continue
            yield from _walk(path, matcher, seen)
        elif not os.path.exists(path):
            yield DiscoveryProblem(path, "cannot read: broken symlink or symlink loop")
        elif not matcher.excluded(path):
            key = os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)
            if key not in seen:
                seen.add(key)
                # a FIFO, socket or device: opening it may block forever
                yield path if os.path.isfile(path) else DiscoveryProblem(path, "cannot read: not a regular file")


def _walk(top: str, matcher: ExcludeMatcher, seen: set[str]) -> Iterator[str | DiscoveryProblem]:
    """Depth-first, sorted, with ``os.scandir`` (no stat call per file) and no directory symlinks."""
    found: list[str] = []
    problems: list[DiscoveryProblem] = []
    pending = [top]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                listing = sorted(entries, key=lambda entry: entry.name)
        except OSError as error:
            problems.append(DiscoveryProblem(directory, f"cannot read: {error.strerror or error}"))
            continue
        subdirectories = []
        for entry in listing:
            name = entry.name
            if matcher.name_excluded(name):
                continue
            path = os.path.normpath(entry.path)
            try:
                is_directory = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_directory = False
            if is_directory:
                if not matcher.path_excluded(path):
                    subdirectories.append(path)
                continue
            if not name.endswith(".py") or matcher.path_excluded(path):
                continue
            if entry.is_symlink():
                if not os.path.exists(path):
                    problems.append(DiscoveryProblem(path, "cannot read: broken symlink or symlink loop"))
                    continue
                if os.path.isdir(path):
                    continue
                key = os.path.realpath(path)
            else:
                key = os.path.abspath(path)
            if key in seen:
                continue
            seen.add(key)
            try:
                regular = entry.is_file()
            except OSError:
                regular = False
            if regular:
                found.append(path)
            else:  # a FIFO, socket or device: opening it may block forever
                problems.append(DiscoveryProblem(path, "cannot read: not a regular file"))
        pending.extend(reversed(subdirectories))
    yield from sorted(found)
    yield from problems
