"""Run the engine over many files: reading, fixing, atomic writes, a process pool.

The CLI and the pre-commit hooks go through :func:`run`, on the run's
:class:`~o2o_lint.project.Project`; the flake8 plugin calls the project's engine
directly because flake8 already owns reading files and the process pool.
"""

from __future__ import annotations

import importlib
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from o2o_lint.cache import Cache, content_hash, stat_signature
from o2o_lint.discovery import DiscoveryProblem, ExcludeMatcher, is_template_path, iter_python_files
from o2o_lint.findings import Finding, parse_error
from o2o_lint.index.build import KeptSource, keeping_sources
from o2o_lint.noqa import split_suppressed_in
from o2o_lint.project import Project
from o2o_lint.result_cache import CacheEntry, CachedFinding, ResultCache, decode_findings, fingerprint
from o2o_lint.sourcefile import SourceError, SourceText, decode_source, read_source

if TYPE_CHECKING:  # the engine pulls in LibCST: imported only when a file needs analysis
    from o2o_lint.engine import Engine

MODE_CHECK, MODE_FIX, MODE_DIFF = "check", "fix", "diff"


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    diff: str = ""
    written: bool = False
    content_hash: str | None = None  # of the bytes analysed, for the findings cache
    unchanged: bool = False  # content equal to the cached version: reuse its findings
    #: Other files whose text the findings depend on (read by project views), for the cache.
    texts_read: tuple[str, ...] = ()
    #: The findings ``# noqa`` suppressed, for the cache (flake8 applies ``# noqa`` itself);
    #: None: not known.
    suppressed: list[Finding] | None = None


@dataclass
class RunResult:
    files: list[FileResult]
    checked: int

    @property
    def findings(self) -> list[Finding]:
        return sorted((f for r in self.files for f in r.findings), key=lambda f: f.sort_key)

    @property
    def fixed(self) -> list[Finding]:
        return [f for r in self.files for f in r.fixed]


def write_atomically(path: str, data: bytes, original: bytes) -> str | None:
    """Replace *path* by *data* through a temporary file and a rename; None when done."""
    import tempfile  # only a fix writes: not imported by a check

    try:
        with open(path, "rb") as handle:
            if handle.read() != original:
                return "the file changed while it was being fixed; left untouched"
        status = os.stat(path)
        descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".o2o-lint-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, stat.S_IMODE(status.st_mode))
            if hasattr(os, "chown") and (status.st_uid, status.st_gid) != (os.getuid(), os.getgid()):
                try:  # keep the owner (root fixing a user's tree); only root or the owner may
                    os.chown(temporary, status.st_uid, status.st_gid)
                except OSError:
                    pass
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
    except OSError as exc:
        return f"cannot write: {exc.strerror or exc}"
    return None


def _inside(path: str, roots: Sequence[str]) -> bool:
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def process_text(
    engine: Engine, path: str, source: SourceText, mode: str, unsafe: bool, *, fresh_facts: bool = False
) -> tuple[FileResult, str | None]:
    """Check or fix already decoded text; returns the result and the fixed text, if any."""
    if mode == MODE_CHECK:
        every = engine.analyze(path, source.text, apply_noqa=False, fresh_facts=fresh_facts).findings
        kept, suppressed = split_suppressed_in(path, every, source.text)
        return FileResult(path, kept, suppressed=suppressed), None
    outcome = engine.fix(path, source.text, unsafe=unsafe, fresh_facts=fresh_facts)
    # the fix loop applies `# noqa` itself: what it suppressed is known only when nothing can be
    result = FileResult(path, list(outcome.remaining), list(outcome.applied),
                        suppressed=[] if "noqa" not in source.text.lower() else None)
    if outcome.error:
        result.findings.append(parse_error(path, f"fix not applied: {outcome.error}"))
    if outcome.text == source.text:
        return result, None
    return result, outcome.text


def process_file(
    engine: Engine, path: str, mode: str, unsafe: bool, roots: Sequence[str], cached_hash: str | None = None,
    kept: tuple[str, SourceText] | None = None,
) -> FileResult:
    """Check, fix or diff the file at *path*; *kept*: its content hash and text, as the
    index's scan just read them (:func:`_kept_source`), for a check (else it is read)."""
    with engine.index.reading_texts() as read:
        result = _process_file(engine, path, mode, unsafe, roots, cached_hash, kept if mode == MODE_CHECK else None)
    # its own path stays in: the same files read are one list, shared by every entry in the cache
    result.texts_read = tuple(read)
    return result


def _process_file(
    engine: Engine, path: str, mode: str, unsafe: bool, roots: Sequence[str], cached_hash: str | None,
    kept: tuple[str, SourceText] | None = None,
) -> FileResult:
    if kept is not None:  # a check, of the text the index's scan read and hashed
        digest, kept_source = kept
        if cached_hash == digest:
            return FileResult(path, content_hash=digest, unchanged=True)
        result, _ = process_text(engine, path, kept_source, MODE_CHECK, unsafe)
        result.content_hash = digest
        return result
    try:
        data, source = read_source(path)
    except SourceError as exc:
        return FileResult(path, [parse_error(path, str(exc), exc.line, exc.column)])
    digest = content_hash(data)
    if cached_hash == digest:
        return FileResult(path, content_hash=digest, unchanged=True)
    result, fixed_text = process_text(engine, path, source, mode, unsafe)
    result.content_hash = digest
    if fixed_text is None:
        return result
    if mode == MODE_DIFF:
        import difflib  # only for a diff: not imported by a check

        result.diff = "".join(
            difflib.unified_diff(
                source.text.splitlines(keepends=True), fixed_text.splitlines(keepends=True), f"a/{path}", f"b/{path}"
            )
        )
        return result
    if (roots or os.path.islink(path)) and not _inside(path, roots):
        where = "a symlink to" if os.path.islink(path) else "(through a symlinked directory)"
        return _not_written(engine, path, source, result, f"the file is {where} outside the project")
    try:
        encoded = source.encode(fixed_text)
        round_trips = source.encode(source.text) == data and decode_source(encoded).text == fixed_text
    except (UnicodeError, SourceError):
        return _not_written(engine, path, source, result, f"the fixed text cannot be encoded as {source.encoding}")
    if not round_trips:  # e.g. `coding: unicode_escape`: writing would change bytes nobody asked to change
        return _not_written(engine, path, source, result, f"the {source.encoding} encoding does not round-trip")
    # A symlink inside the project: fix the file it points to, and keep the link a link.
    problem = write_atomically(os.path.realpath(path), encoded, data)
    if problem:
        return _not_written(engine, path, source, result, problem)
    result.written = True
    return result


def _not_written(engine: Engine, path: str, source: SourceText, result: FileResult, problem: str) -> FileResult:
    """The file stays as it was: report its findings as they are on disk, and why."""
    if result.fixed:
        result.findings = engine.analyze(path, source.text).findings
        result.fixed = []
    result.findings.append(parse_error(path, f"fix not applied: {problem}"))
    return result


_worker_state: tuple[Engine, str, bool, tuple[str, ...]] | None = None


def _init_worker(state: tuple[Engine, str, bool, tuple[str, ...]]) -> None:
    global _worker_state
    _worker_state = state


def _work(item: tuple[str, str | None]) -> FileResult:
    assert _worker_state is not None
    engine, mode, unsafe, roots = _worker_state
    return process_file(engine, item[0], mode, unsafe, roots, item[1])


#: Below this many items a process pool costs more than it saves.
MIN_PARALLEL_ITEMS = 16


def _file_size(item: str | tuple) -> int:
    try:
        return os.path.getsize(item if isinstance(item, str) else item[0])
    except OSError:
        return 0


def _parallel_mapper(jobs: int, initializer: Callable[..., None] | None = None, initargs: tuple = (),
                     meanwhile: Callable[[], object] | None = None):
    """A ``map`` that spreads work over *jobs* processes (forked where possible: no pickling
    of the index), or the builtin ``map`` for one job or little work.

    Items (paths, or tuples starting with one) are handed out largest file first, in small
    chunks: a few big modules dominate the cost, and a worker stuck with them at the end
    would leave the other idle. Results come back in the order of *items*. *meanwhile*
    runs in this process once the workers have their work (only when there is a pool).
    """

    def mapper(function: Callable, items: Sequence, progress: Progress | None = None) -> list:
        items = list(items)
        if jobs <= 1 or len(items) < MIN_PARALLEL_ITEMS:
            if initializer is not None:
                initializer(*initargs)
            return _reporting(map(function, items), len(items), progress)
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        order = sorted(range(len(items)), key=lambda i: -_file_size(items[i]))
        chunksize = max(1, min(8, len(items) // (jobs * 32)))
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=initializer, initargs=initargs) as pool:
            pending = pool.map(function, [items[i] for i in order], chunksize=chunksize)
            if meanwhile is not None:
                meanwhile()
            ordered = _reporting(pending, len(items), progress)
        results: list = [None] * len(items)
        for position, result in zip(order, ordered):
            results[position] = result
        return results

    return mapper


#: Called as ``progress(done, total)`` after each analysed file (the CLI's progress bar).
Progress = Callable[[int, int], None]


def _reporting(results: Iterable, total: int, progress: Progress | None) -> list:
    if progress is None:
        return list(results)
    done: list = []
    for result in results:
        done.append(result)
        progress(len(done), total)
    return done


def _fixable(cached: list[CachedFinding], unsafe: bool) -> bool:
    return any(entry.safe_fix is not None and (entry.safe_fix or unsafe) for entry in cached)


def _kept_source(kept: dict[str, KeptSource], path: str, signature: list[int] | None) -> tuple[str, SourceText] | None:
    """*path*'s content hash and text as the index's scan read them in this run, when its
    stat signature is still the one taken before that read (*signature*: taken since, if
    known): the file is then trusted to be unchanged, as by every cache. Taken once."""
    absolute = os.path.abspath(path)
    entry = kept.pop(absolute, None)
    if entry is None:
        return None
    if signature is None:
        signature = stat_signature(absolute)
    return (entry[1], entry[2]) if signature == entry[0] else None


def _load_engine() -> None:
    importlib.import_module("o2o_lint.engine")
    importlib.import_module("o2o_lint.rules").all_screens()


def run(project: Project, paths: Iterable[str], *, mode: str = MODE_CHECK, jobs: int = 1,
        exclude_base: str | None = None, progress: Progress | None = None) -> RunResult:
    """Check, fix or diff *paths* of *project* (whose facts are collected here, in the
    process pool under ``--jobs``)."""
    settings, roots = project.settings, project.roots
    # Many changed files: they will need analysis, and the engine's import (its screens: LibCST
    # waits for a file that needs a visitor) can run while the workers parse; with fork the
    # workers are already started by then.
    project.use_mapper(_parallel_mapper(jobs, meanwhile=_load_engine))
    with keeping_sources() as kept:  # parsed in this process (one job): their text, for the analysis
        facts = project.facts
    results: list[FileResult] = []
    files: list[str] = []
    paths = list(paths)
    if len(paths) == 1 and len(facts.roots) == 1 and facts.roots[0].root == os.path.abspath(paths[0]) == (
        os.path.abspath(exclude_base or "")
    ):
        # the index already walked this very tree; show its paths the way the user named them
        root = facts.roots[0].root

        def shown(path: str) -> str:
            return os.path.normpath(os.path.join(paths[0], os.path.relpath(path, root)))

        discovered = [
            shown(item) if isinstance(item, str) else DiscoveryProblem(shown(item.path), item.message)
            for item in facts.roots[0].discovered
        ]
        discovered += [shown(path) for path in facts.roots[0].templates]
    else:
        discovered = list(iter_python_files(paths, settings.all_excludes, exclude_base, ignored=facts.ignored,
                                            force_exclude=settings.force_exclude))
        discovered += _templates_under(paths, facts.templates, set(discovered))
    templates = set(facts.templates)
    for item in discovered:
        if isinstance(item, DiscoveryProblem):
            results.append(FileResult(item.path, [parse_error(item.path, item.message)]))
        elif not is_template_path(item) or os.path.abspath(item) in templates:
            files.append(item)  # a page or text file outside the template directories is no template
    unsafe = settings.unsafe_fixes
    result_cache = None
    if settings.use_cache and roots:
        result_cache = ResultCache(
            Cache.for_root(roots[0], settings.cache_dir, True), "\0".join(sorted(roots)),
            fingerprint(settings, facts.run_digests), facts.content_hashes,
        )
    project.result_cache = result_cache
    todo: list[tuple[str, str | None]] = []
    cached_by_path: dict[str, CacheEntry] = {}
    signatures: dict[str, list[int] | None] = {}
    for path in files:
        if result_cache is None:
            todo.append((path, None))
            continue
        signature, cached = result_cache.lookup(path)
        signatures[path] = signature
        if cached is not None and (mode == MODE_CHECK or not _fixable(cached, unsafe)):
            results.append(FileResult(path, decode_findings(path, cached)))
            continue
        entry = result_cache.entry(path)
        if entry is not None:
            cached_by_path[path] = entry
        todo.append((path, entry.content_hash if entry is not None and mode == MODE_CHECK else None))
    if todo:
        if facts.ignored:  # a git-ignored file named explicitly is checked, hence indexed
            project.include(path for path, _ in todo)
        engine = project.engine
        real_roots = tuple(os.path.realpath(r) for r in roots)
        if jobs > 1 and len(todo) > 1:
            state = (engine, mode, unsafe, real_roots)
            analysed = list(_parallel_mapper(jobs, _init_worker, (state,))(_work, todo, progress))
        else:
            analysed = _reporting((process_file(engine, path, mode, unsafe, real_roots, cached_hash,
                                                _kept_source(kept, path, signatures.get(path)) if kept else None)
                                   for path, cached_hash in todo), len(todo), progress)
        for file_result in analysed:
            if file_result.unchanged:
                cached_entry = cached_by_path[file_result.path]
                file_result.findings = decode_findings(file_result.path, cached_entry.findings)
                file_result.texts_read = cached_entry.texts_read
                file_result.suppressed = (None if cached_entry.suppressed is None
                                          else decode_findings(file_result.path, cached_entry.suppressed))
            if result_cache is not None and not file_result.fixed and not file_result.diff:
                result_cache.record(file_result.path, signatures.get(file_result.path), file_result.content_hash,
                                    file_result.findings, file_result.texts_read, file_result.suppressed)
        results.extend(analysed)
        if mode == MODE_FIX:
            _settle_across_files(project, results, set(files), unsafe, real_roots)
    if result_cache is not None:
        result_cache.save()
    results.sort(key=lambda r: r.path)
    return RunResult(results, len(files))


def _templates_under(paths: Sequence[str], templates: Sequence[str], named: set) -> list[str]:
    """The project's templates under the directories among *paths* (a template file named
    itself is already among *named*), shown below the directory as named."""
    found: list[str] = []
    for path in paths:
        if not os.path.isdir(path):
            continue
        top = os.path.abspath(path).rstrip(os.sep) + os.sep
        for template in templates:
            if template.startswith(top):
                shown = os.path.normpath(os.path.join(path, template[len(top):]))
                if shown not in named:
                    named.add(shown)
                    found.append(shown)
    return found


#: Fix passes after the first: a fix can settle, or rarely open, findings in other files.
MAX_CROSS_FILE_ROUNDS = 3


def _settle_across_files(project: Project, results: list[FileResult], analysable: set[str],
                         unsafe: bool, roots: Sequence[str]) -> None:
    """Check (and fix) again, with the fixed files' new facts, until no file changes.

    A fix in one file can settle findings reported in others (a function that no longer
    leaves a cache stale clears its callers' findings): ``--fix`` should say so, and exit
    0, instead of leaving that to the next run. A fix of a rule that declares
    ``fix_changes_relations`` changes the relations every other file sees, so then every
    file is checked (and fixed) again: other rules may now apply there. The findings of
    rules that declare ``findings_outlive_relation_change`` describe code such a fix
    breaks; no rule of the new index sees them, so they stay reported.
    """
    from o2o_lint.rules import all_screens

    rules = all_screens()
    changes_relations = {code for code, rule in rules.items() if rule.fix_changes_relations}
    outliving = {code for code, rule in rules.items() if rule.findings_outlive_relation_change}
    written = [result for result in results if result.written]
    for _ in range(MAX_CROSS_FILE_ROUNDS):
        if not written:
            return
        project.reread(result.path for result in written)
        relations_changed = any(f.code in changes_relations for result in written for f in result.fixed)
        engine = project.engine
        written = []
        for result in results:
            if result.path not in analysable or not (relations_changed or result.findings):
                continue
            fresh = process_file(engine, result.path, MODE_FIX, unsafe, roots)
            if relations_changed and not fresh.written:
                fresh.findings += [f for f in result.findings if f.code in outliving and f not in fresh.findings]
            result.findings = fresh.findings
            if fresh.written:
                result.fixed.extend(fresh.fixed)
                result.written = True
                written.append(result)


def run_stdin(project: Project, data: bytes, display_path: str, *, mode: str,
              exclude_base: str | None = None) -> tuple[RunResult, str | None]:
    """Check (or fix, returning the fixed text) source read from standard input; nothing
    when its file name (``--stdin-filename``) is excluded, as the file on disk would be."""
    try:
        source = decode_source(data)
    except SourceError as exc:
        if _excluded(project, display_path, exclude_base):
            return RunResult([], 0), None
        return RunResult([FileResult(display_path, [parse_error(display_path, str(exc), exc.line)])], 1), None
    return run_text(project, source, display_path, mode=mode, exclude_base=exclude_base)


def run_text(project: Project, source: SourceText, display_path: str, *, mode: str,
             exclude_base: str | None = None) -> tuple[RunResult, str | None]:
    """Check (or fix) text that differs from disk (standard input, an editor buffer) as
    *display_path*: registered with the project, analysed with its own facts overlaid on
    the index; nothing when *display_path* is excluded."""
    project.set_text(display_path, source.text)
    if _excluded(project, display_path, exclude_base):
        return RunResult([], 0), None
    result, fixed_text = process_text(
        project.engine, display_path, source, MODE_FIX if mode != MODE_CHECK else MODE_CHECK,
        project.settings.unsafe_fixes, fresh_facts=True,
    )
    if mode == MODE_DIFF and fixed_text is not None:
        import difflib  # only for a diff: not imported by a check

        result.diff = "".join(difflib.unified_diff(
            source.text.splitlines(keepends=True), fixed_text.splitlines(keepends=True), f"a/{display_path}", f"b/{display_path}"))
    return RunResult([result], 1), fixed_text


def _excluded(project: Project, display_path: str, exclude_base: str | None) -> bool:
    return display_path != "-" and ExcludeMatcher(project.settings.all_excludes, exclude_base or project.root).excluded(
        display_path)
