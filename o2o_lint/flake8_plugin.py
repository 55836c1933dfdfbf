"""The flake8 front end: ``flake8 --select OTO`` reports what ``o2o-lint`` reports.

flake8 creates one plugin instance per file and, under ``-j``, runs them in worker
processes that share nothing. The project index is therefore built once per process
(in ``parse_options``, before flake8 forks its workers, when possible) from the same
on-disk cache the CLI writes. Suppression (``# noqa``) is left to flake8 itself, and
the plugin never writes files: fixing is the CLI's job.

The findings cache is the CLI's too: a file whose findings the CLI (or an earlier
flake8 run) stored is not analysed again, and what the plugin analyses it stores for
the CLI, each process merging its entries into the cache when it ends. An entry keeps
the findings ``# noqa`` suppressed apart from the others, and the plugin hands flake8
both, as a fresh analysis would (only an entry a ``--fix`` run left for a file with a
``noqa`` comment lacks them: that file is analysed). When every file of the project has
an entry, ``parse_options`` builds no index and imports no LibCST: a file that changed
since is analysed with an index built then.
"""

from __future__ import annotations

import ast
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from o2o_lint import __version__
from o2o_lint.config import ConfigError, Settings, find_project_root, settings_for
from o2o_lint.discovery import ExcludeMatcher
from o2o_lint.findings import Finding
from o2o_lint.gcpolicy import fewer_collections, keep_out_of_collections
from o2o_lint.project import Project

if TYPE_CHECKING:  # the engine pulls in LibCST: not even imported when no OTO code is reported
    from o2o_lint.engine import Engine
    from o2o_lint.result_cache import ResultCache


def _any_noqa(paths: Iterable[str]) -> bool:
    """Whether one of the files spells ``noqa`` (any case), as :meth:`O2OLintPlugin._cached_findings`
    checks for an entry that does not know what ``# noqa`` suppressed."""
    for path in paths:
        try:
            with open(path, "rb") as handle:
                if b"noqa" in handle.read().lower():
                    return True
        except OSError:
            return True
    return False


def _regular_file_status(path: str) -> os.stat_result | None:
    """*path*'s stat when it is a regular file (symlinks followed, as ``os.path.isfile``)."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status if stat.S_ISREG(status.st_mode) else None


class O2OLintPlugin:
    name = "o2o-lint"
    version = __version__

    _settings: ClassVar[Settings | None] = None
    _projects: ClassVar[dict[str, Project]] = {}  # project root -> its project
    _from_stdin: ClassVar[bool] = False
    _roots: ClassVar[dict[str, str]] = {}  # directory -> project root
    _excludes: ClassVar[dict[str, ExcludeMatcher]] = {}  # project root -> its excludes
    _files: ClassVar[dict[str, frozenset[str]]] = {}  # project root -> the Python files its walk found
    _reporting: ClassVar[bool] = True  # False: flake8 reports no OTO code, so do nothing
    _results: ClassVar[dict[str, ResultCache | None]] = {}  # project root -> its findings cache
    _saving_in: ClassVar[int | None] = None  # the process whose findings are saved at its exit

    def __init__(self, tree: ast.Module, lines: list[str], filename: str) -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        option_manager.add_option(
            "--o2o-target-version", metavar="X.Y|auto", parse_from_config=True,
            help="o2o-lint: the Django version the project runs on (default: [tool.o2o-lint]'s target-version, "
                 "else auto: the lowest the project's requirements allow, else the newest)",
        )
        option_manager.add_option(
            "--o2o-foreign-key-classes", default="", parse_from_config=True, comma_separated_list=True,
            help="o2o-lint: ForeignKey subclasses to treat as ForeignKey",
        )
        option_manager.add_option(
            "--o2o-model-base-classes", default="", parse_from_config=True, comma_separated_list=True,
            help="o2o-lint: extra base classes that make a class a Django model",
        )

    @classmethod
    def parse_options(cls, options: Any) -> None:
        cls._projects = {}
        cls._roots = {}
        cls._excludes = {}
        cls._files = {}
        cls._results = {}
        cls._reporting = cls.reports_oto(options)
        if not cls._reporting:
            # ``flake8 --select E999``: no index, no cache directory, no settings read
            return
        filenames = [f for f in getattr(options, "filenames", []) or [] if f != "-"]
        start = filenames[0] if filenames else os.getcwd()
        try:
            cls._settings = cls.settings_from(options, start)
        except ConfigError as exc:
            # flake8 turns an exception here into a traceback: one line and exit 2 instead,
            # as flake8's own argument errors do
            sys.stderr.write(f"flake8: o2o-lint: error: {exc}\n")
            raise SystemExit(2) from None
        # ``flake8 -`` with --stdin-display-name names a file whose saved text may differ
        cls._from_stdin = getattr(options, "filenames", None) == ["-"]
        root = find_project_root(start, cls._settings.root)
        with fewer_collections():
            results = cls._results_for(root)
            if results is None or not cls._cache_answers_all(results, root, cls._forks(options)):
                # before flake8 forks its workers: one index for all
                cls._engine_for(root)
        keep_out_of_collections()

    @classmethod
    def _cache_answers_all(cls, results: ResultCache, root: str, forks: bool) -> bool:
        """Whether the cache holds what the plugin reports for every file of *root* (then no
        index is needed, unless a file changes during the run). An entry that does not know
        what ``# noqa`` suppressed answers only for a file without a ``noqa`` comment: files
        read only when flake8 forks (one index before the fork beats one per worker)."""
        # flake8 hands the plugin Python files only (a template never gets an entry from it);
        # each file's signature as the index's walk just took it
        entries = [(path, results.reusable_entry(path, stats[0]))
                   for facts in cls._project_for(root).facts.roots for path, stats in facts.files.items()]
        if any(entry is None for _, entry in entries):
            return False
        unknown = [path for path, entry in entries if entry is not None and entry.suppressed is None]
        return not (forks and _any_noqa(unknown))

    @staticmethod
    def _forks(options: Any) -> bool:
        """Whether flake8 may run the checks in worker processes (``-j`` auto or above 1)."""
        jobs = getattr(options, "jobs", None)
        return jobs is None or getattr(jobs, "is_auto", True) or getattr(jobs, "n_jobs", 2) > 1

    @staticmethod
    def reports_oto(options: Any) -> bool:
        """Whether flake8, configured by *options* (select, extend-select, ignore,
        extend-ignore and the plugins' default selections), reports any OTO code: flake8's
        own :class:`~flake8.style_guide.DecisionEngine` decides, for every rule's code and
        OTO000. True when the options are not flake8's (the plugin called directly)."""
        try:
            from flake8.style_guide import Decision, DecisionEngine

            decisions = DecisionEngine(options)
        except (ImportError, AttributeError, TypeError):
            return True
        from o2o_lint.findings import PARSE_ERROR_CODE
        from o2o_lint.rules import known_codes

        return any(decisions.decision_for(code) is Decision.Selected for code in (PARSE_ERROR_CODE, *known_codes()))

    @staticmethod
    def settings_from(options: Any, start: str) -> Settings:
        """The CLI's settings (:func:`o2o_lint.config.settings_for`: the same files, the same
        parsing, target-version auto by default), with flake8's ``o2o-*`` options in place of
        the CLI's. flake8 then selects and ignores codes itself: a finding is reported when
        both ``[tool.o2o-lint]`` and flake8 enable its code; an opt-in rule also runs when
        flake8's select or extend-select names its code."""
        named = tuple(
            code for code in [*(getattr(options, "select", None) or ()), *(getattr(options, "extend_select", None) or ())]
            if code.startswith("OTO") and len(code) > 3
        )
        foreign_keys = tuple(getattr(options, "o2o_foreign_key_classes", None) or ())
        model_bases = tuple(getattr(options, "o2o_model_base_classes", None) or ())
        target = getattr(options, "o2o_target_version", None)
        try:
            settings, _ = settings_for(
                start,
                target_version=target,
                foreign_key_classes=foreign_keys or None,
                model_base_classes=model_bases or None,
            )
        except ConfigError as exc:
            if target is not None and str(exc).startswith("invalid Django version"):
                raise ConfigError(f"--o2o-target-version: {exc}") from None
            raise
        return settings.with_overrides(extend_select=settings.extend_select + named)

    @classmethod
    def _project_for(cls, root: str) -> Project:
        project = cls._projects.get(root)
        if project is None:
            project = cls._projects[root] = Project(cls._settings or Settings(), [root], root=root)
        return project

    @classmethod
    def _walked(cls, root: str, project: Project) -> None:
        """Note the Python files the walk of *root* found (once its facts are collected):
        those its excludes leave in, which the plugin then need not match against them."""
        if root not in cls._files:
            cls._files[root] = frozenset(path for facts in project.facts.roots for path in facts.files)

    @classmethod
    def _engine_for(cls, root: str) -> Engine:
        project = cls._project_for(root)
        engine = project.engine
        cls._walked(root, project)
        return engine

    @classmethod
    def _results_for(cls, root: str) -> ResultCache | None:
        """The CLI's findings cache for *root* (None: caching is off)."""
        if root not in cls._results:
            settings = cls._settings or Settings()
            results = None
            if settings.use_cache:
                from o2o_lint.cache import Cache
                from o2o_lint.result_cache import ResultCache, fingerprint

                project = cls._project_for(root)
                facts = project.facts
                results = ResultCache(Cache.for_root(root, settings.cache_dir, True), "\0".join(sorted(project.roots)),
                                      fingerprint(settings, facts.run_digests), facts.content_hashes)
                cls._walked(root, project)
            cls._results[root] = results
        return cls._results[root]

    @classmethod
    def _save_results(cls) -> None:
        for results in cls._results.values():
            if results is not None:
                results.save(merge=True)

    @classmethod
    def _save_at_exit(cls) -> None:
        """Save this process's findings when it ends: flake8's main process, or one of its
        ``-j`` workers (whose exit runs multiprocessing's finalizers, not ``atexit``)."""
        if cls._saving_in != os.getpid():
            cls._saving_in = os.getpid()
            from multiprocessing.util import Finalize

            Finalize(None, cls._save_results, exitpriority=10)

    @classmethod
    def _root_for(cls, directory: str) -> str:
        root = cls._roots.get(directory)
        if root is None:
            root = cls._roots[directory] = find_project_root(directory, cls._settings.root if cls._settings else None)
        return root

    @classmethod
    def _excluded(cls, root: str, filename: str, absolute: str) -> bool:
        if absolute in cls._files.get(root, ()):
            return False  # found by the walk, which applies the same excludes to every part of the path
        matcher = cls._excludes.get(root)
        if matcher is None:
            matcher = cls._excludes[root] = ExcludeMatcher(cls._project_for(root).settings.all_excludes, root)
        return matcher.excluded(filename)

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        if not self._reporting:
            return
        absolute = os.path.abspath(self.filename)
        named_stdin = self.filename in ("-", "stdin")
        # one stat per file: whether it is a file on disk, and the signature its cache entry is checked against
        status = None if self._from_stdin or named_stdin else _regular_file_status(absolute)
        root = self._root_for(os.getcwd() if status is None else os.path.dirname(absolute))
        if not named_stdin and self._excluded(root, self.filename, absolute):
            # same files as the CLI (stdin under its display name too): migrations are never
            # reported, and cost nothing (no index, no cache entry)
            return
        findings = None if status is None else self._cached_findings(root, absolute, status)
        if findings is None:
            with fewer_collections():
                findings = self._analyze(root, absolute, status)
        for finding in findings:
            yield finding.line, finding.column, f"{finding.code} {finding.message}", type(self)

    def _cached_findings(self, root: str, absolute: str, status: os.stat_result) -> list[Finding] | None:
        """The findings the cache holds for this file (*status*: its stat now), when it answers for it."""
        results = self._results_for(root)
        if results is None:
            return None
        entry = results.reusable_entry(absolute, [status.st_mtime_ns, status.st_size])
        if entry is None:
            return None
        cached = entry.before_noqa  # flake8 applies `# noqa` itself
        if cached is None:  # what `# noqa` suppressed is not known: only right without one
            if "noqa" in "".join(self.lines).lower():
                return None
            cached = entry.findings
        if not cached:
            return []
        from o2o_lint.result_cache import decode_findings

        return decode_findings(self.filename, cached)

    def _analyze(self, root: str, absolute: str, status: os.stat_result | None) -> list[Finding]:
        """A fresh analysis of this file (*status*: its stat at the start of :meth:`run`, None
        for text that is not a file on disk), stored in the findings cache when the file is
        the one the index read."""
        engine = self._engine_for(root)
        text = "".join(self.lines)
        with engine.index.reading_texts() as read:
            analysis = engine.analyze(self.filename, text, apply_noqa=False, tree=self.tree, fresh_facts=status is None)
        results = None if status is None else self._results_for(root)
        if results is not None and status is not None:
            facts = self._project_for(root).facts
            digest = facts.content_hash_of(absolute)
            signature = [status.st_mtime_ns, status.st_size]
            if digest is not None and signature == facts.signature_of(absolute):
                from o2o_lint.noqa import split_suppressed_in

                kept, suppressed = split_suppressed_in(self.filename, list(analysis.findings), text)
                results.record(absolute, signature, digest, kept, read, suppressed)
                self._save_at_exit()
        return analysis.findings
