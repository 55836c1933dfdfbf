"""Run the engine over many files: reading, fixing, atomic writes, a process pool.

The CLI and the pre-commit hooks go through :func:`run`; the flake8 plugin calls the
engine directly because flake8 already owns reading files and the process pool.
"""

from __future__ import annotations

import difflib
import multiprocessing
import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from o2o_lint.config import Settings
from o2o_lint.discovery import DiscoveryProblem, iter_python_files
from o2o_lint.engine import Engine
from o2o_lint.findings import Finding, parse_error
from o2o_lint.index.build import build_index
from o2o_lint.sourcefile import SourceError, SourceText, decode_source, read_source

MODE_CHECK, MODE_FIX, MODE_DIFF = "check", "fix", "diff"


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    diff: str = ""
    written: bool = False


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
    try:
        with open(path, "rb") as handle:
            if handle.read() != original:
                return "the file changed while it was being fixed; left untouched"
        mode = stat.S_IMODE(os.stat(path).st_mode)
        descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".o2o-lint-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, mode)
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
        return FileResult(path, engine.analyze(path, source.text, fresh_facts=fresh_facts).findings), None
    outcome = engine.fix(path, source.text, unsafe=unsafe, fresh_facts=fresh_facts)
    result = FileResult(path, list(outcome.remaining), list(outcome.applied))
    if outcome.error:
        result.findings.append(parse_error(path, f"fix not applied: {outcome.error}"))
    if outcome.text == source.text:
        return result, None
    return result, outcome.text


def process_file(engine: Engine, path: str, mode: str, unsafe: bool, roots: Sequence[str]) -> FileResult:
    try:
        data, source = read_source(path)
    except SourceError as exc:
        return FileResult(path, [parse_error(path, str(exc), exc.line, exc.column)])
    result, fixed_text = process_text(engine, path, source, mode, unsafe)
    if fixed_text is None:
        return result
    if mode == MODE_DIFF:
        result.diff = "".join(
            difflib.unified_diff(
                source.text.splitlines(keepends=True), fixed_text.splitlines(keepends=True), f"a/{path}", f"b/{path}"
            )
        )
        return result
    if os.path.islink(path) and not _inside(path, roots):
        result.findings.append(parse_error(path, "fix not applied: the file is a symlink to outside the project"))
        result.fixed = []
        return result
    try:
        encoded = source.encode(fixed_text)
    except UnicodeEncodeError:
        result.findings.append(parse_error(path, f"fix not applied: the fixed text cannot be encoded as {source.encoding}"))
        result.fixed = []
        return result
    problem = write_atomically(path, encoded, data)
    if problem:
        result.findings.append(parse_error(path, f"fix not applied: {problem}"))
        result.fixed = []
    else:
        result.written = True
    return result


_worker_state: tuple[Engine, str, bool, tuple[str, ...]] | None = None


def _init_worker(state: tuple[Engine, str, bool, tuple[str, ...]]) -> None:
    global _worker_state
    _worker_state = state


def _work(path: str) -> FileResult:
    assert _worker_state is not None
    engine, mode, unsafe, roots = _worker_state
    return process_file(engine, path, mode, unsafe, roots)


def run(paths: Iterable[str], settings: Settings, *, roots: Sequence[str], mode: str = MODE_CHECK,
        jobs: int = 1, exclude_base: str | None = None) -> RunResult:
    index = build_index(roots, settings)
    engine = Engine(index, settings, root=exclude_base or (roots[0] if roots else None))
    files: list[str] = []
    results: list[FileResult] = []
    for item in iter_python_files(paths, settings.all_excludes, exclude_base):
        if isinstance(item, DiscoveryProblem):
            results.append(FileResult(item.path, [parse_error(item.path, item.message)]))
        else:
            files.append(item)
    real_roots = tuple(os.path.realpath(r) for r in roots)
    unsafe = settings.unsafe_fixes
    if jobs > 1 and len(files) > 1:
        state = (engine, mode, unsafe, real_roots)
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        chunksize = max(1, min(64, len(files) // (jobs * 8)))
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(state,)) as pool:
            results.extend(pool.map(_work, files, chunksize=chunksize))
    else:
        results.extend(process_file(engine, path, mode, unsafe, real_roots) for path in files)
    results.sort(key=lambda r: r.path)
    return RunResult(results, len(files))


def run_stdin(data: bytes, display_path: str, settings: Settings, *, roots: Sequence[str], mode: str) -> tuple[RunResult, str | None]:
    """Check (or fix, returning the fixed text) source read from standard input."""
    index = build_index(roots, settings)
    engine = Engine(index, settings, root=roots[0] if roots else None)
    try:
        source = decode_source(data)
    except SourceError as exc:
        return RunResult([FileResult(display_path, [parse_error(display_path, str(exc), exc.line)])], 1), None
    result, fixed_text = process_text(
        engine, display_path, source, MODE_FIX if mode != MODE_CHECK else MODE_CHECK, settings.unsafe_fixes,
        fresh_facts=True,
    )
    if mode == MODE_DIFF and fixed_text is not None:
        result.diff = "".join(difflib.unified_diff(
            source.text.splitlines(keepends=True), fixed_text.splitlines(keepends=True), f"a/{display_path}", f"b/{display_path}"))
    return RunResult([result], 1), fixed_text
