"""One object owns a run: the settings, the project roots, every file's facts, one index
and one engine, shared by everything the run does.

Every front end builds one :class:`Project` and asks it for what it needs: the CLI and
the pre-commit hooks (through :mod:`o2o_lint.runner`), standard input, the JSON/SARIF
fix edits, the flake8 plugin (one per project root and process) and the codemod
commands. The facts are collected on first use (from the on-disk cache when warm), the
index and the engine are built once from them; a warm run whose findings all come from
the cache builds neither and never imports LibCST.

Text that differs from disk (standard input, an editor buffer) is registered with
:meth:`Project.set_text`; the engine analyses it with its own facts overlaid on the
index (:meth:`o2o_lint.index.model.ProjectIndex.overlay`): one mechanism for every
front end.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from o2o_lint.config import Settings
from o2o_lint.index.build import Mapper, ProjectFacts, facts_for_file, index_from_facts
from o2o_lint.index.facts import Facts
from o2o_lint.sourcefile import SourceError, read_source

if TYPE_CHECKING:  # the engine pulls in LibCST: imported only when a file needs analysis
    from o2o_lint.engine import Engine
    from o2o_lint.index.model import ProjectIndex
    from o2o_lint.result_cache import ResultCache


class Project:
    """The project a run works on (see the module docstring)."""

    def __init__(self, settings: Settings, roots: Sequence[str], *, root: str | None = None,
                 mapper: Mapper = map) -> None:
        self.settings = settings
        self.roots = list(roots)
        #: Paths in settings (per-file ignores, excludes) are relative to this directory.
        self.root = root or (self.roots[0] if self.roots else os.getcwd())
        self._mapper = mapper
        self._facts: ProjectFacts | None = None
        self._facts_by_path: dict[str, Facts] | None = None
        self._unreadable: set[str] = set()
        self._index: ProjectIndex | None = None
        self._engine: Engine | None = None
        self.texts: dict[str, str] = {}  # path as shown -> text not on disk
        #: The findings cache of the last run (:func:`o2o_lint.runner.run`), if any: the
        #: JSON/SARIF fix edits are read from it and written back to it.
        self.result_cache: ResultCache | None = None

    def use_mapper(self, mapper: Mapper) -> None:
        """How the facts of changed files are parsed (a process pool under ``--jobs``);
        only before they are collected."""
        if self._facts is None:
            self._mapper = mapper

    @property
    def facts(self) -> ProjectFacts:
        """Every file's facts under the roots (discovered and read on first use)."""
        if self._facts is None:
            self._facts = ProjectFacts(self.roots, self.settings, self._mapper)
        return self._facts

    @property
    def facts_by_path(self) -> dict[str, Facts]:
        """The facts themselves, loaded (or parsed) only when some file needs analysis."""
        if self._facts_by_path is None:
            self._facts_by_path = self.facts.facts
            self._unreadable = set(self.facts.unreadable)
        return self._facts_by_path

    @property
    def index(self) -> ProjectIndex:
        if self._index is None:
            self._index = index_from_facts(self.facts_by_path, self.settings, self._unreadable, self.facts.templates)
            self.facts.complete(self._index)  # before any rule reads the facts it holds
        return self._index

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from o2o_lint.engine import Engine

            self._engine = Engine(self.index, self.settings, root=self.root)
        return self._engine

    def include(self, paths: Iterable[str]) -> None:
        """Index the files a run checks that the walk of the roots left out (git-ignored
        files named explicitly): what the run reports on is always in the index."""
        indexed = self.facts.digests
        missing = [os.path.abspath(path) for path in paths if os.path.abspath(path) not in indexed]
        if not missing:
            return
        facts = self.facts_by_path
        for absolute in missing:
            new = self._facts_on_disk(absolute)
            if new is not None and absolute not in facts:
                facts[absolute] = new
                self._index = self._engine = None

    def set_text(self, path: str, text: str) -> None:
        """*path*'s text is *text*, not what is on disk (standard input, an editor buffer)."""
        self.texts[path] = text

    def text_of(self, path: str) -> str | None:
        """The text a run analyses for *path*: a registered text, else the file on disk."""
        if path in self.texts:
            return self.texts[path]
        try:
            return read_source(path)[1].text
        except SourceError:
            return None

    def differs_from_disk(self, path: str) -> bool:
        return path in self.texts

    def reread(self, paths: Iterable[str]) -> bool:
        """Take the facts of files a fix just wrote; the index and the engine are rebuilt on
        next use. True when a model class changed (what every other file sees)."""
        facts = self.facts_by_path
        changed = False
        for path in paths:
            absolute = os.path.abspath(path)
            new = self._facts_on_disk(absolute)
            changed |= (facts.get(absolute) or {}).get("classes") != (new or {}).get("classes")
            if new is None:
                facts.pop(absolute, None)
                if self._root_of(absolute) is not None:
                    self._unreadable.add(absolute)
            else:
                facts[absolute] = new
                self._unreadable.discard(absolute)
        self._index = self._engine = None
        return changed

    def _root_of(self, absolute: str) -> str | None:
        roots = [r.root for r in self.facts.roots if absolute.startswith(r.root.rstrip(os.sep) + os.sep)]
        return max(roots, key=len) if roots else None

    def _facts_on_disk(self, absolute: str) -> Facts | None:
        root = self._root_of(absolute)
        return facts_for_file(absolute, root) if root is not None else None
