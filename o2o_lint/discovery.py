"""Which files a run looks at: walk the given paths, honour excludes and what git
ignores, survive odd trees.

Excludes apply to explicitly named files too (pre-commit passes every changed file,
migrations included, and migrations record history that must not be rewritten). What
git ignores (``.gitignore`` files, ``.git/info/exclude``, ``core.excludesFile``) is
asked of git itself, once per project root and run (:func:`git_ignored`); it prunes
the walk, and applies to explicitly named paths only under ``force_exclude``. Without
git on ``PATH``, or outside a git work tree, nothing is git-ignored.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from o2o_lint.config import git_dir_at


#: Directories whose files (at any depth) Django's and Jinja2's app loaders read as
#: templates (``APP_DIRS``): ``<app>/templates/`` and ``<app>/jinja2/`` of an app's
#: package directory. Others (``frontend/src/templates``, ``static/js/templates``: the
#: browser's) are templates only where the settings name them in DIRS.
TEMPLATE_DIRECTORY_NAMES = frozenset({"templates", "jinja2"})
#: A directory holding one of these is a package or an app, whose TEMPLATE_DIRECTORY_NAMES
#: the app loaders read.
APP_MARKERS = frozenset({"__init__.py", "models.py", "apps.py"})
#: Trees served to the browser or installed by npm: a ``templates`` directory there is
#: client-side (Handlebars, Vue...), even below a package.
CLIENT_SIDE_DIRECTORY_NAMES = frozenset({"static", "staticfiles", "node_modules", "bower_components"})
#: What a template file is called; anything else under a template directory (images,
#: scripts, stylesheets) is not read.
TEMPLATE_EXTENSIONS = (".html", ".htm", ".txt", ".xml", ".jinja", ".jinja2", ".j2")


def is_template_path(path: str) -> bool:
    return path.endswith(TEMPLATE_EXTENSIONS)


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


def start_git_ignored(root: str) -> Callable[[], frozenset[str]]:
    """Start asking git which paths under *root* it ignores and does not track (a wholly
    ignored directory as the directory alone), in the background: one ``git ls-files``
    call, which walks the tree while the caller walks it too. The returned function
    waits for the answer: absolute paths, empty when git is not on ``PATH``, *root* is
    not in a git work tree, or git fails."""
    if not os.path.isdir(root) or not _under_dot_git(root):
        return frozenset
    # imported here: a tree outside git (a fresh copy, an unpacked sdist) needs neither
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        return frozenset
    try:
        process = subprocess.Popen(
            [git, "ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"],
            cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            # inside a git hook these name the repository being committed to, which need not be root's
            env={k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")},
        )
    except OSError:
        return frozenset

    def answer() -> frozenset[str]:
        try:
            listed, _ = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return frozenset()
        if process.returncode != 0:
            return frozenset()
        return frozenset(os.path.normpath(os.path.join(root, os.fsdecode(entry))) for entry in listed.split(b"\0") if entry)

    return answer


def _under_dot_git(root: str) -> bool:
    """A ``.git`` (the directory, or the file of a worktree or submodule) is in *root* or
    a directory above it. Without one git finds no work tree: ``GIT_DIR`` and
    ``GIT_WORK_TREE`` are not passed to it."""
    directory = os.path.abspath(root)
    while True:
        if git_dir_at(directory):
            return True
        parent = os.path.dirname(directory)
        if parent == directory:
            return False
        directory = parent


def git_ignored(root: str) -> frozenset[str]:
    """What git ignores under *root* (see :func:`start_git_ignored`)."""
    return start_git_ignored(root)()


def ignored_here_or_above(path: str, ignored: frozenset[str]) -> bool:
    """*path* or a directory above it is among the *ignored* absolute paths."""
    current = os.path.abspath(path)
    while True:
        if current in ignored:
            return True
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


def iter_python_files(
    paths: Iterable[str], excludes: Iterable[str], root: str | None = None, *,
    ignored: frozenset[str] = frozenset(), force_exclude: bool = False, templates: list[str] | None = None,
) -> Iterator[str | DiscoveryProblem]:
    """Yield every ``.py`` file under *paths*, sorted, without following directory symlinks.

    *ignored* (absolute paths, :func:`git_ignored`) prunes the walk; a path named in
    *paths* is left out for it only under *force_exclude*. *templates*, when given, gets
    the template files the walk meets (:mod:`o2o_lint.index.templates`), sorted."""
    matcher = ExcludeMatcher(excludes, root)
    seen: set[str] = set()
    for path in paths:
        path = os.path.normpath(path)
        if not os.path.lexists(path):
            yield DiscoveryProblem(path, "cannot read: no such file or directory")
            continue
        if force_exclude and ignored and ignored_here_or_above(path, ignored):
            continue
        if os.path.isdir(path):
            if matcher.excluded(path) and os.path.abspath(path) != os.path.abspath(root or ""):
                continue
            yield from _walk(path, matcher, seen, ignored, templates)
        elif not os.path.exists(path):
            yield DiscoveryProblem(path, "cannot read: broken symlink or symlink loop")
        elif not matcher.excluded(path):
            key = os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)
            if key not in seen:
                seen.add(key)
                # a FIFO, socket or device: opening it may block forever
                yield path if os.path.isfile(path) else DiscoveryProblem(path, "cannot read: not a regular file")


def iter_template_files(directory: str, excludes: Iterable[str], root: str, *,
                        ignored: frozenset[str] = frozenset()) -> list[str]:
    """Every template file under *directory* (a directory settings name in DIRS), sorted."""
    templates: list[str] = []
    if os.path.isdir(directory):
        for _ in _walk(directory, ExcludeMatcher(excludes, root), set(), ignored, templates, top_holds_templates=True):
            pass
    return templates


def _walk(top: str, matcher: ExcludeMatcher, seen: set[str], ignored: frozenset[str] = frozenset(),
          templates: list[str] | None = None, *, top_holds_templates: bool = False) -> Iterator[str | DiscoveryProblem]:
    """Depth-first, sorted, with ``os.scandir`` (no stat call per file) and no directory symlinks."""
    found: list[str] = []
    found_templates: list[str] = []
    problems: list[DiscoveryProblem] = []
    pending = [top]
    template_directories = {top} if top_holds_templates else set()  # inside a `templates` directory
    client_side: set[str] = set()  # inside a `static` or `node_modules` directory
    name_excluded = matcher.name_regex.match if matcher.name_regex is not None else None
    while pending:
        directory = pending.pop()
        in_templates = directory in template_directories
        in_client_side = directory in client_side
        try:
            with os.scandir(directory) as entries:
                listing = sorted(entries, key=lambda entry: entry.name)
        except OSError as error:
            problems.append(DiscoveryProblem(directory, f"cannot read: {error.strerror or error}"))
            continue
        subdirectories = []
        absolute_directory = os.path.abspath(directory) if ignored else ""
        is_app = templates is not None and not in_templates and not in_client_side and any(
            entry.name in APP_MARKERS for entry in listing)
        for entry in listing:
            name = entry.name
            if name_excluded is not None and name_excluded(name) is not None:
                continue
            if ignored and os.path.join(absolute_directory, name) in ignored:
                continue
            try:
                is_directory = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_directory = False
            if is_directory:
                path = os.path.normpath(entry.path)
                if not matcher.path_excluded(path):
                    subdirectories.append(path)
                    if templates is not None and (in_templates or (is_app and name in TEMPLATE_DIRECTORY_NAMES)):
                        template_directories.add(path)
                    elif templates is not None and not in_templates and (
                            in_client_side or name in CLIENT_SIDE_DIRECTORY_NAMES):
                        client_side.add(path)
                continue
            if in_templates and templates is not None and is_template_path(name):
                path = os.path.normpath(entry.path)
                if not matcher.path_excluded(path) and not entry.is_symlink():
                    found_templates.append(path)
                continue
            if not name.endswith(".py"):  # most files of a tree: their path is never needed
                continue
            path = os.path.normpath(entry.path)
            if matcher.path_excluded(path):
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
    if templates is not None:
        templates.extend(sorted(found_templates))
    yield from sorted(found)
    yield from problems
