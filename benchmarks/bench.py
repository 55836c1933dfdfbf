#!/usr/bin/env python3
"""The o2o-lint performance benchmark (issue 5): real code, side by side, one command.

    python benchmarks/bench.py --copies 1,2,4,8 --write-docs

Run it with the interpreter o2o-lint, libcst and flake8 are installed in (the
project's ``.venv/bin/python``). It downloads pinned wheels of Django and wagtail
from PyPI (``pip download``; never committed, kept in ``benchmarks/corpus/``), uses
each wheel's package directory as a corpus of real Django code, and times, each
command in a fresh subprocess, as the median of ``--repeat`` runs:

1. a bare ``libcst.parse_module`` of every ``.py`` file, in one process, a bare
   ``ast.parse`` of the same files, and django-upgrade ``--check`` on them (installed
   into the interpreter with pip at the start when missing);
2. ``o2o-lint --jobs 1`` with a fresh, empty cache directory (cold);
3. the same with ``--jobs 0`` (one worker per CPU), cold;
4. ``o2o-lint`` warm: the cache filled by an earlier run, nothing changed;
5. warm after appending a comment line to one ``models.py``;
6. ``flake8 -j 1`` with the o2o-lint plugin and without it (same interpreter, same
   files, same options; "without" hides the ``o2o-lint`` distribution from flake8's
   plugin discovery), and the plugin again on the cache its first run left (warm);
7. the peak memory (max RSS) of the cold ``--jobs 1`` run;
8. whether the JSON findings of the no-cache, cold, warm, ``--jobs 1`` and ``--jobs 0``
   runs are identical.
9. per code base of the real-code check (``benchmarks/realcode.py``): lines, cold and
   warm CPU time (warm also as JSON and SARIF), the cold cost per 1,000 lines against
   the median, and the slowest files.

It prints a table with the issue's targets, writes everything as JSON
(``benchmarks/results/latest.json``), and with ``--write-docs`` regenerates
``docs/performance.md`` and the scaling plot ``docs/performance-scaling.svg``.

Runs are interleaved (one of each per round) so that a slow spell of a shared machine
hurts every measurement alike instead of one of them. The building blocks
(:func:`benchmark_corpus`, :func:`measure_scaling`, :func:`render_svg`,
:func:`render_docs`) work on any local directory, without network, for the tests.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS_DIR = HERE / "corpus"
DEFAULT_JSON = HERE / "results" / "latest.json"
DOCS_PATH = REPO / "docs" / "performance.md"
SVG_PATH = REPO / "docs" / "performance-scaling.svg"

RUN_COMMAND = "python benchmarks/bench.py --copies 1,2,4,8 --write-docs"
SCHEMA_VERSION = 1
#: Bump when the layout of the corpora built under benchmarks/corpus/ changes.
CORPUS_LAYOUT = 2
STAMP = ".bench-corpus.json"
MARKER = "# o2o-lint benchmark corpus: its own project root (see benchmarks/bench.py)\n[o2o-lint]\nroot = .\n"
TOUCH_PREFIX = "# o2o-lint-bench: touched"
COMMAND_TIMEOUT = 1800.0
FLAKE8_FORMAT = "%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s"
FLAKE8_FORMAT_SHOWN = "--format=<path, row, col, code, text; tab-separated>"
PLUGIN_DISTRIBUTION = "o2o-lint"
#: Preferred file for the "one models file touched" run, relative to the corpus root;
#: otherwise the first ``models.py`` (outside migrations) in sorted order.
PREFERRED_TOUCH = ("django/contrib/auth/models.py", "wagtail/models/__init__.py")


@dataclass(frozen=True)
class Source:
    """A pinned wheel on PyPI whose top-level package directory is a corpus."""

    distribution: str
    version: str
    package: str
    sha256: str

    @property
    def label(self) -> str:
        return f"{self.package}-{self.version}"


SOURCES = (
    Source("Django", "5.2.19", "django", "5965d974a5218a2b68a11dd1276434707f23886525c23f0598eccedaf4f4ca00"),
    Source("wagtail", "7.1.1", "wagtail", "a112050c9476b794a0a0e453a86f339f2b6d7201abc93eebf2d8b13326870c3c"),
)

#: (key, label, numerator, denominator, target): "numerator / denominator <= target".
RATIO_TARGETS = (
    ("cold_vs_parse", "cold --jobs 1 / bare LibCST parse", "cold_jobs1", "bare_parse", 0.35),
    ("warm_vs_cold", "warm, nothing changed / cold", "warm", "cold_jobs1", 0.05),
    ("touched_vs_cold", "warm, one models file touched / cold", "warm_touched", "cold_jobs1", 0.25),
    ("cold_vs_ast", "cold --jobs 1 / bare ast.parse", "cold_jobs1", "ast_parse", 1.5),
    ("cold_vs_django_upgrade", "cold --jobs 1 / django-upgrade", "cold_jobs1", "django_upgrade", 0.5),
    ("flake8_with_vs_without", "flake8 -j 1 with plugin / without", "flake8_with", "flake8_without", 1.08),
    ("flake8_warm_vs_without", "flake8 -j 1 with plugin, warm / without", "flake8_with_warm", "flake8_without", 1.02),
    ("all_cores_vs_one", "cold all cores / one core", "cold_all", "cold_jobs1", 0.6),
)
PEAK_MEMORY_TARGET_MB = 300.0

MEASUREMENTS = (
    ("bare_parse", "bare libcst.parse_module, every file"),
    ("ast_parse", "bare ast.parse, every file"),
    ("django_upgrade", "django-upgrade, every file"),
    ("cold_jobs1", "o2o-lint cold --jobs 1"),
    ("cold_all", "o2o-lint cold --jobs 0 (all cores)"),
    ("warm", "o2o-lint warm, nothing changed"),
    ("warm_touched", "o2o-lint warm, one models file touched"),
    ("flake8_without", "flake8 -j 1 without o2o-lint"),
    ("flake8_with", "flake8 -j 1 with o2o-lint"),
    ("flake8_with_warm", "flake8 -j 1 with o2o-lint, warm cache"),
)
#: django-upgrade, installed into the benchmarking interpreter at run time when missing.
DJANGO_UPGRADE = "django-upgrade"
DJANGO_UPGRADE_TARGET = "5.2"
#: Runs whose findings must be identical (the issue's "with and without the cache, for any --jobs").
IDENTITY_VARIANTS = ("no_cache", "cold_jobs1", "cold_all", "warm")

#: Run with the benchmarked interpreter: ``ast.parse`` every .py file under the given directories.
BARE_AST_SCRIPT = r"""
import ast, os, sys
count = 0
for top in sys.argv[1:]:
    for directory, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(".py"):
                with open(os.path.join(directory, name), "rb") as handle:
                    data = handle.read()
                try:
                    ast.parse(data)
                except (SyntaxError, ValueError):
                    pass
                count += 1
print(count)
"""

#: ``python -c SLOWEST_FILES_SCRIPT <project root> <count>``: a cold, uncached ``--jobs 1``
#: check in process, printing JSON: the CPU seconds of the whole run and of the *count*
#: files whose analysis cost most (the index build is not any one file's).
SLOWEST_FILES_SCRIPT = r"""
import json, os, sys, time
from o2o_lint import runner
from o2o_lint.config import find_project_root, settings_for
from o2o_lint.project import Project
start = time.process_time()
root = os.path.abspath(sys.argv[1])
settings, _ = settings_for(root)
settings = settings.with_overrides(use_cache=False)
project = Project(settings, [find_project_root(root, settings.root)], root=root)
from o2o_lint.rules import all_rules
all_rules()  # LibCST and the visitors, up front: the first file that needs them would be charged for their import
costs = []
analyse = runner.process_file
def timed(engine, path, *args, **kwargs):
    before = time.process_time()
    result = analyse(engine, path, *args, **kwargs)
    costs.append((time.process_time() - before, os.path.relpath(path, root)))
    return result
runner.process_file = timed
result = runner.run(project, [root], jobs=1)
costs.sort(reverse=True)
print(json.dumps({"cpu_seconds": time.process_time() - start, "checked": result.checked,
                  "findings": len(result.findings),
                  "slowest": [{"path": path, "cpu_seconds": round(cost, 4)} for cost, path in costs[:int(sys.argv[2])]]}))
"""

#: Run with the benchmarked interpreter: parse every .py file under the given directories.
BARE_PARSE_SCRIPT = r"""
import json, os, sys, time
import libcst
files = []
for top in sys.argv[1:]:
    for directory, dirnames, filenames in os.walk(top):
        dirnames.sort()
        files.extend(os.path.join(directory, name) for name in sorted(filenames) if name.endswith(".py"))
errors = []
total = in_migrations = 0.0
migration_files = 0
for path in files:
    with open(path, "rb") as handle:
        data = handle.read()
    start = time.perf_counter()
    try:
        libcst.parse_module(data)
    except Exception as exc:
        errors.append(f"{path}: {type(exc).__name__}")
    elapsed = time.perf_counter() - start
    total += elapsed
    if "migrations" in path.split(os.sep):
        in_migrations += elapsed
        migration_files += 1
print(json.dumps({"files": len(files), "errors": len(errors), "error_examples": errors[:5],
                  "parse_seconds": total, "migration_files": migration_files,
                  "migration_parse_seconds": in_migrations}))
"""

#: ``python -c FLAKE8_WRAPPER <distribution to hide or ""> <flake8 arguments>``: flake8 as
#: installed, except that the plugins of one distribution are left out of discovery.
FLAKE8_WRAPPER = r"""
import sys
from flake8 import utils
from flake8.plugins import finder
hidden = utils.normalize_pypi_name(sys.argv[1]) if sys.argv[1] else None
if hidden:
    _discover = finder._find_importlib_plugins
    def _find_importlib_plugins():
        for plugin in _discover():
            if utils.normalize_pypi_name(plugin.package) != hidden:
                yield plugin
    finder._find_importlib_plugins = _find_importlib_plugins
from flake8.main.cli import main
sys.exit(main(sys.argv[2:]))
"""

Log = Callable[[str], None]


class BenchError(Exception):
    """A measurement could not be made (a command failed, a download did not match)."""


def _stderr_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- running


@dataclass
class Sample:
    seconds: float
    returncode: int
    max_rss_mb: float | None
    cpu_seconds: float | None
    stdout: str
    stderr: str


def run_command(command: Sequence[str], cwd: Path, *, env: dict[str, str] | None = None,
                timeout: float = COMMAND_TIMEOUT) -> Sample:
    """Run *command* in a fresh subprocess; wall time and the child's own max RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(list(command), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            if hasattr(os, "wait4"):
                _, status, usage = os.wait4(process.pid, 0)
                elapsed = time.perf_counter() - start
                process.returncode = os.waitstatus_to_exitcode(status)
                # ru_maxrss: kilobytes on Linux, bytes on macOS.
                scale = 1 if sys.platform == "darwin" else 1024
                max_rss: float | None = usage.ru_maxrss * scale / 2**20
                cpu: float | None = usage.ru_utime + usage.ru_stime
            else:  # pragma: no cover - Windows
                process.wait()
                elapsed = time.perf_counter() - start
                max_rss = cpu = None
        finally:
            timer.cancel()
        out.seek(0)
        err.seek(0)
        return Sample(elapsed, process.returncode, max_rss, cpu,
                      out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def o2o_command() -> list[str]:
    """The ``o2o-lint`` console script of this interpreter, else ``python -m o2o_lint``."""
    for directory in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        for name in ("o2o-lint", "o2o-lint.exe"):
            candidate = os.path.join(directory, name)
            if directory and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return [candidate]
    return [sys.executable, "-m", "o2o_lint"]


def flake8_command(with_plugin: bool, *args: str) -> list[str]:
    return [sys.executable, "-c", FLAKE8_WRAPPER, "" if with_plugin else PLUGIN_DISTRIBUTION, *args]


def _one_table_cell(command: str) -> str:
    """*command* shortened to fit one Markdown table cell: an inline script shown as
    ``<script>``, a run of ``.py`` file arguments as ``<every .py file>``."""
    command = re.sub(r"-c '[^']*\n[^']*'", "-c '<script>'", command)
    return re.sub(r"(?: \S+\.py){2,}", " <every .py file>", command)


def _display(command: Sequence[str], replacements: dict[str, str]) -> str:
    shown = []
    for part in command:
        if part == BARE_PARSE_SCRIPT:
            part = "<bare-parse script>"
        elif part == FLAKE8_WRAPPER:
            part = "<flake8 wrapper>"
        elif part == f"--format={FLAKE8_FORMAT}":
            part = FLAKE8_FORMAT_SHOWN
        elif os.path.basename(part).startswith("cold-cache-"):
            part = "<fresh empty tmp dir>"
        for old, new in replacements.items():
            part = part.replace(old, new)
        shown.append(part)
    if shown and shown[0] == sys.executable:
        shown[0] = "python"
    elif shown and os.path.basename(shown[0]).startswith("o2o-lint"):
        shown[0] = "o2o-lint"
    return shlex.join(shown)


# --------------------------------------------------------------------------- corpora


def _write_stamp(directory: Path, **data: Any) -> None:
    (directory / STAMP).write_text(json.dumps({"layout": CORPUS_LAYOUT, **data}, indent=2) + "\n")


def _stamp(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / STAMP).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _stamp_ok(directory: Path) -> bool:
    return _stamp(directory).get("layout") == CORPUS_LAYOUT


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_source(source: Source, corpus_dir: Path = CORPUS_DIR, log: Log = _stderr_log) -> Path:
    """``corpus_dir/<package>-<version>/``: the wheel's package directory and a project marker."""
    target = corpus_dir / source.label
    if _stamp_ok(target) and (target / source.package).is_dir():
        return target
    corpus_dir.mkdir(parents=True, exist_ok=True)
    log(f"downloading {source.distribution}=={source.version} from PyPI ...")
    with tempfile.TemporaryDirectory(dir=corpus_dir, prefix=".download-") as tmp:
        download = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
             "--disable-pip-version-check", "--dest", tmp, f"{source.distribution}=={source.version}"],
            capture_output=True, text=True,
        )
        wheels = sorted(Path(tmp).glob("*.whl"))
        if download.returncode != 0 or len(wheels) != 1:
            raise BenchError(f"pip download {source.distribution}=={source.version} failed:\n"
                             f"{_tail(download.stdout + download.stderr)}")
        wheel = wheels[0]
        digest = _sha256(wheel)
        if digest != source.sha256:
            raise BenchError(f"{wheel.name}: sha256 {digest} is not the pinned {source.sha256}")
        staging = Path(tmp) / "staging"
        with zipfile.ZipFile(wheel) as archive:
            members = [name for name in archive.namelist() if name.startswith(source.package + "/")]
            if not members:
                raise BenchError(f"{wheel.name} has no {source.package}/ directory")
            archive.extractall(staging, members)
        (staging / "setup.cfg").write_text(MARKER)
        _write_stamp(staging, sources=[{"distribution": source.distribution, "version": source.version,
                                        "wheel": wheel.name, "sha256": digest}])
        if target.exists():  # an incomplete leftover of an interrupted run
            shutil.rmtree(target)
        os.replace(staging, target)
    log(f"extracted {target.relative_to(corpus_dir.parent) if target.is_relative_to(corpus_dir.parent) else target}")
    return target


def _copy_corpus(parts: Sequence[tuple[Path, str]], target: Path, **stamp: Any) -> Path:
    """A project root at *target* holding a copy of each ``(corpus, package)`` package."""
    if _stamp_ok(target) and all((target / package).is_dir() for _, package in parts):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        for corpus, package in parts:
            shutil.copytree(corpus / package, staging / package,
                            ignore=shutil.ignore_patterns("__pycache__", ".o2o-lint-cache"))
        (staging / "setup.cfg").write_text(MARKER)
        _write_stamp(staging, **stamp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def ensure_combined(sources: Sequence[Source], corpus_dir: Path = CORPUS_DIR) -> Path:
    """One project root holding every source's package (Django + wagtail: one model index)."""
    name = "+".join(source.label for source in sources)
    return _copy_corpus([(corpus_dir / s.label, s.package) for s in sources], corpus_dir / name,
                        combined=[s.label for s in sources])


def ensure_copies(corpus: Path, package: str, count: int, parent: Path) -> list[Path]:
    """*count* copies of *corpus*, each its own project root: ``parent/copy-01`` ..."""
    return [_copy_corpus([(corpus, package)], parent / f"copy-{i:02d}", copy_of=corpus.name, copy=i)
            for i in range(1, count + 1)]


def count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def corpus_stats(directories: Sequence[Path]) -> dict[str, int]:
    """Files, lines and bytes of every ``.py`` file (and of those in ``migrations/``)."""
    stats = {"files": 0, "lines": 0, "bytes": 0, "migration_files": 0, "migration_lines": 0}
    for top in directories:
        for directory, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d not in ("__pycache__", ".o2o-lint-cache")]
            in_migrations = "migrations" in Path(directory).relative_to(top).parts
            for name in filenames:
                if not name.endswith(".py"):
                    continue
                data = Path(directory, name).read_bytes()
                lines = count_lines(data)
                stats["files"] += 1
                stats["lines"] += lines
                stats["bytes"] += len(data)
                if in_migrations:
                    stats["migration_files"] += 1
                    stats["migration_lines"] += lines
    return stats


def find_touch_file(root: Path) -> Path | None:
    """The ``models.py`` the "one models file touched" run appends a comment to."""
    for relative in PREFERRED_TOUCH:
        if (root / relative).is_file():
            return root / relative
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("migrations", "__pycache__", ".o2o-lint-cache"))
        if "models.py" in filenames:
            return Path(directory, "models.py")
    return None


def repair_touched(path: Path) -> None:
    """Remove comment lines a killed earlier run appended and never took out again."""
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    while lines and lines[-1].startswith(TOUCH_PREFIX.encode()):
        lines.pop()
    if len(lines) != len(data.splitlines(keepends=True)):
        path.write_bytes(b"".join(lines))


@contextmanager
def touched(path: Path, serial: int) -> Iterator[None]:
    """Append a new comment line to *path*; afterwards restore its bytes and its mtime."""
    original = path.read_bytes()
    status = os.stat(path)
    separator = b"" if not original or original.endswith(b"\n") else b"\n"
    marker = f"{TOUCH_PREFIX} {serial} {time.time_ns()}\n".encode()
    try:
        path.write_bytes(original + separator + marker)
        yield
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))


def remove_default_caches(cwd: Path, targets: Sequence[str]) -> None:
    """The cache the flake8 plugin keeps in each project root: gone, as on a CI checkout."""
    for target in targets:
        cache = (cwd / target / ".o2o-lint-cache").resolve()
        if cache.is_dir() and cache.name == ".o2o-lint-cache":
            shutil.rmtree(cache, ignore_errors=True)


# --------------------------------------------------------------------------- environment


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_environment() -> None:
    missing = [name for name in ("libcst", "flake8", "o2o_lint") if importlib.util.find_spec(name) is None]
    if missing:
        raise BenchError(f"{', '.join(missing)} not importable by {sys.executable}; run the benchmark with "
                         "the interpreter o2o-lint is installed in, e.g. .venv/bin/python benchmarks/bench.py")


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_total_mb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def machine_info() -> dict[str, Any]:
    try:
        affinity: int | None = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "memory_mb": _memory_total_mb(),
        "load_average_start": _load_average(),
    }


def _load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def versions() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "libcst": _version("libcst"),
        "flake8": _version("flake8"),
        "pycodestyle": _version("pycodestyle"),
        "pyflakes": _version("pyflakes"),
        "o2o_lint": _version("o2o-lint"),
    }


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def package_dir() -> Path | None:
    """Where ``import o2o_lint`` finds the package (an editable install: the working tree)."""
    spec = importlib.util.find_spec("o2o_lint")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def source_fingerprint(package: Path | None = None) -> str | None:
    """A hash of the o2o_lint sources (other people may change them under a long run)."""
    package = package or package_dir()
    if package is None:
        return None
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def snapshot_sources(dest: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """Copy the o2o_lint package to *dest* and an environment that imports it from there.

    The copy is compiled to bytecode, as an installed wheel is. Every command of a run
    then measures one version of the linter, even while the working tree is being edited (the console script, ``-m`` and the flake8 plugin all
    import ``o2o_lint``, and ``PYTHONPATH`` comes before site-packages and editable
    finders).
    """
    package = package_dir()
    if package is None:
        raise BenchError("o2o_lint is not importable")
    target = dest / "o2o_lint"
    for _ in range(5):  # a file written while we copy: copy again
        before = source_fingerprint(package)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if source_fingerprint(target) == before == source_fingerprint(package):
            break
        time.sleep(1)
    else:
        raise BenchError(f"{package} keeps changing; cannot take a consistent snapshot")
    # as `pip install` does for a wheel: with PYTHONDONTWRITEBYTECODE set (as in some
    # sandboxes and containers) every command would otherwise compile the package again
    if not compileall.compile_dir(str(target), quiet=1):
        raise BenchError(f"cannot compile the snapshot in {target}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(dest), os.environ.get("PYTHONPATH")]))
    check = subprocess.run([sys.executable, "-c", "import o2o_lint; print(o2o_lint.__file__)"],
                           cwd=dest, env=env, capture_output=True, text=True)
    if check.returncode != 0 or Path(check.stdout.strip()).resolve().parent != target.resolve():
        raise BenchError(f"the snapshot of o2o_lint is not the one imported: {check.stdout}{check.stderr}")
    shown = _norm(os.path.relpath(package, REPO)) if package.is_relative_to(REPO) else str(package)
    return env, {"measured": "snapshot", "snapshot_of": shown, "source_fingerprint": before}


def live_sources() -> dict[str, Any]:
    return {"measured": "live", "snapshot_of": None, "source_fingerprint": source_fingerprint()}


def revision() -> dict[str, Any]:
    status = _git("status", "--porcelain", "--", "o2o_lint")
    return {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "o2o_lint_uncommitted_changes": bool(status) if status is not None else None,
    }


# --------------------------------------------------------------------------- measuring


def _summary(samples: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": [round(s, 4) for s in samples],
    }


_CHECKED = re.compile(r"\bin (\d+) files?\b")
_CONCISE = re.compile(r"^(.*?):(\d+):(\d+): ([A-Z]+\d+) (.*)$")


def _findings(sample: Sample, what: str) -> list[dict[str, Any]]:
    if sample.returncode not in (0, 1):
        raise BenchError(f"{what} failed with exit code {sample.returncode}:\n{_tail(sample.stderr or sample.stdout)}")
    findings = []
    for line in sample.stdout.splitlines():
        match = _CONCISE.match(line)
        if match is None:  # the summary line
            continue
        path, row, column, code, message = match.groups()
        findings.append({"path": _norm(path), "line": int(row), "column": int(column), "code": code,
                         "message": message})
    return findings


def _flake8_rows(sample: Sample, what: str) -> list[tuple[str, int, int, str, str]]:
    if sample.returncode != 0:
        raise BenchError(f"{what} failed with exit code {sample.returncode}:\n{_tail(sample.stderr or sample.stdout)}")
    rows = []
    for line in sample.stdout.splitlines():
        parts = line.split("\t", 4)
        if len(parts) == 5 and parts[1].isdigit() and parts[2].isdigit():
            rows.append((_norm(parts[0]), int(parts[1]), int(parts[2]), parts[3], parts[4]))
    return sorted(rows)


def _norm(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


def _canonical(findings: list[dict[str, Any]]) -> str:
    return json.dumps(findings, sort_keys=True)


def check_flake8_wrapper(cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """flake8 lists the plugin when run "with" and does not when run "without"."""
    shown = {}
    for with_plugin in (True, False):
        sample = run_command(flake8_command(with_plugin, "--version"), cwd, env=env)
        if sample.returncode != 0:
            raise BenchError(f"flake8 --version failed:\n{_tail(sample.stderr)}")
        shown[with_plugin] = PLUGIN_DISTRIBUTION in sample.stdout
    result = {"plugin_loaded_with": shown[True], "plugin_absent_without": not shown[False]}
    if not all(result.values()):
        raise BenchError(f"the flake8 wrapper does not switch the o2o-lint plugin on and off: {result}")
    return result


def django_upgrade_command(install: bool, log: Log = _stderr_log) -> list[str] | None:
    """``python -m django_upgrade`` of this interpreter, installed with pip first when
    missing and *install* says so; None when it is not available."""
    if importlib.util.find_spec("django_upgrade") is None:
        if not install:
            return None
        log(f"installing {DJANGO_UPGRADE} into {sys.executable} ...")
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", DJANGO_UPGRADE],
                              capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        importlib.invalidate_caches()
        if done.returncode != 0 or importlib.util.find_spec("django_upgrade") is None:
            log(f"{DJANGO_UPGRADE} could not be installed; not measured:\n{_tail(done.stderr)}")
            return None
    return [sys.executable, "-m", "django_upgrade"]


def python_files(cwd: Path, targets: Sequence[str]) -> list[str]:
    """Every ``.py`` file under *targets* (relative to *cwd*), sorted, as relative paths."""
    found = []
    for target in targets:
        for directory, dirnames, filenames in os.walk(cwd / target):
            dirnames[:] = sorted(d for d in dirnames if d != ".o2o-lint-cache")
            found.extend(os.path.relpath(os.path.join(directory, name), cwd) for name in sorted(filenames)
                         if name.endswith(".py"))
    return found


def measure(cwd: Path, targets: Sequence[str], *, repeat: int, workdir: Path, touch_file: Path | None,
            env: dict[str, str] | None = None, log: Log = _stderr_log,
            django_upgrade: Sequence[str] | None = None) -> dict[str, Any]:
    """Every measurement on the corpus ``targets`` (relative to *cwd*), *repeat* rounds;
    *django_upgrade* is the command that runs it (None: not measured)."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    workdir.mkdir(parents=True, exist_ok=True)
    targets = list(targets)
    o2o = o2o_command()
    flake8_args = ["--isolated", "-j", "1", "--exit-zero", "--extend-exclude", ".o2o-lint-cache",
                   f"--format={FLAKE8_FORMAT}", *targets]
    commands: dict[str, list[str]] = {}
    samples: dict[str, list[Sample]] = {key: [] for key, _ in MEASUREMENTS}
    outputs: dict[str, list[list[dict[str, Any]]]] = {}
    bare_results: list[dict[str, Any]] = []
    warm_rows: list[list[tuple[str, int, int, str, str]]] = []
    checked_files: int | None = None

    def o2o_run(key: str, *options: str) -> Sample:
        nonlocal checked_files
        # Timed as users run it in CI (concise output); JSON would add each fix's text
        # edits, which needs a LibCST re-analysis of every file with a fixable finding.
        command = [*o2o, *options, "--format", "concise", *targets]
        commands.setdefault(key, command)
        sample = run_command(command, cwd, env=env)
        outputs.setdefault(key, []).append(_findings(sample, f"o2o-lint ({key})"))
        match = _CHECKED.search(sample.stdout.splitlines()[-1] if sample.stdout.strip() else "") or _CHECKED.search(sample.stderr)
        if match and checked_files is None:
            checked_files = int(match.group(1))
        return sample

    def fresh_cache() -> str:
        return tempfile.mkdtemp(dir=workdir, prefix="cold-cache-")

    log(f"checking the flake8 wrapper ({sys.executable}) ...")
    flake8_check = check_flake8_wrapper(cwd, env)
    log("filling the warm cache (and warming imports) ...")
    warm_cache, touch_cache = workdir / "warm-cache", workdir / "touch-cache"
    for directory in (warm_cache, touch_cache):
        shutil.rmtree(directory, ignore_errors=True)
    o2o_run("fill", "--jobs", "1", "--cache-dir", str(warm_cache))
    shutil.copytree(warm_cache, touch_cache)
    o2o_run("no_cache", "--jobs", "1", "--no-cache")

    bare_command = [sys.executable, "-c", BARE_PARSE_SCRIPT, *targets]
    commands["bare_parse"] = bare_command
    commands["ast_parse"] = [sys.executable, "-c", BARE_AST_SCRIPT, *targets]
    if django_upgrade is not None:
        # --check: reports what it would change and writes nothing; the same files as the parses
        commands["django_upgrade"] = [*django_upgrade, "--target-version", DJANGO_UPGRADE_TARGET, "--check",
                                      *python_files(cwd, targets)]
    for key, with_plugin in (("flake8_without", False), ("flake8_with", True)):
        commands[key] = flake8_command(with_plugin, *flake8_args)

    try:
        for round_number in range(repeat):
            prefix = f"[{round_number + 1}/{repeat}]"
            sample = run_command(bare_command, cwd, env=env)
            if sample.returncode != 0:
                raise BenchError(f"bare parse failed:\n{_tail(sample.stderr)}")
            bare_results.append(json.loads(sample.stdout))
            samples["bare_parse"].append(sample)
            log(f"{prefix} bare parse          {sample.seconds:8.2f} s")

            sample = run_command(commands["ast_parse"], cwd, env=env)
            if sample.returncode != 0:
                raise BenchError(f"bare ast.parse failed:\n{_tail(sample.stderr)}")
            samples["ast_parse"].append(sample)
            log(f"{prefix} bare ast.parse      {sample.seconds:8.2f} s")

            if "django_upgrade" in commands:
                sample = run_command(commands["django_upgrade"], cwd, env=env)
                if sample.returncode not in (0, 1):  # 1: it would change some file
                    raise BenchError(f"django-upgrade failed:\n{_tail(sample.stderr)}")
                samples["django_upgrade"].append(sample)
                log(f"{prefix} django-upgrade      {sample.seconds:8.2f} s")

            for key, jobs in (("cold_jobs1", "1"), ("cold_all", "0")):
                cache = fresh_cache()
                try:
                    sample = o2o_run(key, "--jobs", jobs, "--cache-dir", cache)
                finally:
                    shutil.rmtree(cache, ignore_errors=True)
                samples[key].append(sample)
                log(f"{prefix} {key:<19} {sample.seconds:8.2f} s  ({sample.max_rss_mb or 0:.0f} MB)")

            sample = o2o_run("warm", "--jobs", "1", "--cache-dir", str(warm_cache))
            samples["warm"].append(sample)
            log(f"{prefix} warm                {sample.seconds:8.2f} s")

            if touch_file is not None:
                with touched(touch_file, round_number):
                    sample = o2o_run("warm_touched", "--jobs", "1", "--cache-dir", str(touch_cache))
                samples["warm_touched"].append(sample)
                log(f"{prefix} warm, one touched   {sample.seconds:8.2f} s")

            # Alternate the order so that neither flake8 run always goes first.
            order = ("flake8_without", "flake8_with") if round_number % 2 == 0 else ("flake8_with", "flake8_without")
            for key in order:
                remove_default_caches(cwd, targets)
                sample = run_command(commands[key], cwd, env=env)
                _flake8_rows(sample, key)  # fails loudly when flake8 did
                samples[key].append(sample)
                log(f"{prefix} {key:<19} {sample.seconds:8.2f} s")
                if key == "flake8_with":  # again, on the cache the cold run left (a second CI run)
                    commands.setdefault("flake8_with_warm", commands[key])
                    sample = run_command(commands[key], cwd, env=env)
                    samples["flake8_with_warm"].append(sample)
                    warm_rows.append(_flake8_rows(sample, "flake8_with_warm"))
                    log(f"{prefix} flake8_with_warm    {sample.seconds:8.2f} s")
    finally:
        remove_default_caches(cwd, targets)

    replacements = {str(warm_cache): "<warm cache>", str(touch_cache): "<warm cache>", str(workdir): "<tmp>"}
    timings: dict[str, Any] = {}
    for key, label in MEASUREMENTS:
        if not samples[key]:
            timings[key] = None
            continue
        entry = _summary([s.seconds for s in samples[key]])
        cpu = [s.cpu_seconds for s in samples[key] if s.cpu_seconds is not None]
        entry["cpu_median"] = statistics.median(cpu) if cpu else None
        entry["cpu_samples"] = [round(c, 4) for c in cpu]
        entry["label"] = label
        entry["command"] = _display(commands[key], replacements)
        entry["max_rss_mb"] = [round(s.max_rss_mb, 1) if s.max_rss_mb is not None else None for s in samples[key]]
        timings[key] = entry

    # Findings identity: every run of every variant against the uncached run.
    reference = _canonical(outputs["no_cache"][0])
    per_variant = {}
    for variant, runs in outputs.items():
        per_variant[variant] = {
            "runs": len(runs),
            "counts": sorted({len(run) for run in runs}),
            "identical_to_no_cache": all(_canonical(run) == reference for run in runs),
        }
    identical = all(per_variant[v]["identical_to_no_cache"] for v in IDENTITY_VARIANTS if v in per_variant)
    count = len(outputs["no_cache"][0])
    by_code: dict[str, int] = {}
    for finding in outputs["no_cache"][0]:
        by_code[str(finding.get("code"))] = by_code.get(str(finding.get("code")), 0) + 1

    # flake8: the plugin adds its OTO rows and changes nothing else.
    with_rows = _flake8_rows(samples["flake8_with"][0], "flake8_with")
    without_rows = _flake8_rows(samples["flake8_without"][0], "flake8_without")
    cli_rows = sorted((_norm(f["path"]), f["line"], f["column"], f["code"]) for f in outputs["no_cache"][0])
    oto_rows = sorted(row[:4] for row in with_rows if row[3].startswith("OTO"))
    flake8_info = {
        **flake8_check,
        "extra_options": "--isolated --exit-zero --extend-exclude .o2o-lint-cache (both runs); the plugin's "
                         "own cache is removed before every run, as on a CI checkout",
        "findings_with": len(with_rows),
        "findings_without": len(without_rows),
        "oto_findings": len(oto_rows),
        "other_findings_identical": [r for r in with_rows if not r[3].startswith("OTO")] == without_rows,
        "oto_matches_cli": oto_rows == cli_rows,
        "warm_identical": all(rows == with_rows for rows in warm_rows),
    }

    bare = bare_results[0]
    cold_rss = [s.max_rss_mb for s in samples["cold_jobs1"] if s.max_rss_mb is not None]
    return {
        "timings": timings,
        "bare_parse": {
            "files": bare["files"],
            "errors": bare["errors"],
            "error_examples": bare["error_examples"],
            "parse_seconds_in_process": round(statistics.median(r["parse_seconds"] for r in bare_results), 4),
            "migration_files": bare["migration_files"],
            "migration_parse_seconds_in_process": round(
                statistics.median(r["migration_parse_seconds"] for r in bare_results), 4),
        },
        "checked_files": checked_files,
        "touched_file": None if touch_file is None else _norm(os.path.relpath(touch_file, cwd)),
        "memory": {
            "peak_rss_mb": round(max(cold_rss), 1) if cold_rss else None,
            "measured_on": "cold --jobs 1",
            "samples_mb": [round(value, 1) for value in cold_rss],
        },
        "findings": {
            "identical": identical,
            "compared": list(IDENTITY_VARIANTS),
            "count": count,
            "by_code": by_code,
            "vacuous": count == 0,
            "variants": per_variant,
            "touched_identical": per_variant.get("warm_touched", {}).get("identical_to_no_cache"),
        },
        "flake8": flake8_info,
    }


def _paired_spread(top: list[float] | None, bottom: list[float] | None) -> list[float] | None:
    """[min, max] of the ratio round by round: runs are interleaved, so the i-th sample of
    each measurement ran in the same round (None: no paired samples)."""
    if not top or not bottom or len(top) != len(bottom) or not all(bottom):
        return None
    paired = [a / b for a, b in zip(top, bottom)]
    return [round(min(paired), 4), round(max(paired), 4)]


def compute_ratios(timings: dict[str, Any], memory: dict[str, Any], findings: dict[str, Any]) -> list[dict[str, Any]]:
    ratios = []
    for key, label, numerator, denominator, target in RATIO_TARGETS:
        top, bottom = timings.get(numerator), timings.get(denominator)
        value = top["median"] / bottom["median"] if top and bottom and bottom["median"] > 0 else None
        cpu = cpu_spread = None
        if key != "all_cores_vs_one" and top and bottom and top.get("cpu_median") and bottom.get("cpu_median"):
            cpu = round(top["cpu_median"] / bottom["cpu_median"], 4)
            cpu_spread = _paired_spread(top.get("cpu_samples"), bottom.get("cpu_samples"))
        ratios.append({"key": key, "label": label, "value": None if value is None else round(value, 4),
                       "target": target, "comparison": "<=", "pass": None if value is None else value <= target,
                       "cpu_value": cpu,
                       "spread": _paired_spread(top.get("samples"), bottom.get("samples")) if top and bottom else None,
                       "cpu_spread": cpu_spread})
    peak = memory.get("peak_rss_mb")
    ratios.append({"key": "peak_memory", "label": "peak memory, cold --jobs 1 (MB)", "value": peak,
                   "target": PEAK_MEMORY_TARGET_MB, "comparison": "<=",
                   "pass": None if peak is None else peak <= PEAK_MEMORY_TARGET_MB})
    ratios.append({"key": "identical_findings", "label": "identical findings (no cache, cold, warm, -j1, -j0)",
                   "value": findings["identical"], "target": True, "comparison": "==",
                   "pass": findings["identical"] is True})
    return ratios


def benchmark_corpus(root: Path, *, repeat: int, workdir: Path, name: str | None = None,
                     sources: Sequence[dict[str, Any]] = (), env: dict[str, str] | None = None,
                     measured: dict[str, Any] | None = None, log: Log = _stderr_log,
                     django_upgrade: Sequence[str] | None = None) -> dict[str, Any]:
    """Measure one corpus (a project root) and return the report (without scaling).

    *env* and *measured* come from :func:`snapshot_sources` (or are None: the installed
    o2o_lint, as it is at each moment of the run)."""
    root = root.resolve()
    touch_file = find_touch_file(root)
    if touch_file is not None:
        repair_touched(touch_file)
    stats = corpus_stats([root])
    log(f"corpus {name or root.name}: {stats['files']} files, {stats['lines']:,} lines")
    started = datetime.datetime.now(datetime.timezone.utc)
    fingerprint = source_fingerprint()
    rev = {**revision(), **(measured or live_sources())}
    machine = machine_info()
    results = measure(root, ["."], repeat=repeat, workdir=workdir, touch_file=touch_file, env=env, log=log,
                      django_upgrade=django_upgrade)
    machine["load_average_end"] = _load_average()
    corpus = {
        "name": name or root.name,
        "path": _norm(os.path.relpath(root, REPO)) if root.is_relative_to(REPO) else str(root),
        "sources": list(sources),
        **stats,
        "checked_files": results.pop("checked_files"),
        "touched_file": results.pop("touched_file"),
    }
    rev["working_tree_changed_during_run"] = fingerprint != source_fingerprint()
    rev["mixed_versions"] = rev["working_tree_changed_during_run"] and rev["measured"] == "live"
    return {
        "schema": SCHEMA_VERSION,
        "generated": started.isoformat(timespec="seconds"),
        "duration_seconds": round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(), 1),
        "repeat": repeat,
        "machine": machine,
        "versions": versions(),
        "revision": rev,
        "corpus": corpus,
        **results,
        "ratios": compute_ratios(results["timings"], results["memory"], results["findings"]),
        "scaling": None,
        "codebases": None,
    }


#: The slowest files listed per code base.
SLOWEST_FILES = 3


def measure_codebases(roots: Sequence[tuple[str, Path]], *, repeat: int, workdir: Path,
                      env: dict[str, str] | None = None, log: Log = _stderr_log) -> dict[str, Any]:
    """Per code base (name, project root): its lines, cold and warm ``--jobs 1`` CPU time
    (concise; warm also as JSON and SARIF, whose fix edits come from the cache), the cold
    cost per 1,000 lines against the median of all, and its slowest files (in process)."""
    o2o = o2o_command()
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, root in roots:
        stats = corpus_stats([root])
        checked_lines = stats["lines"] - stats["migration_lines"]
        cpu: dict[str, list[float]] = {"cold": [], "warm": [], "warm_json": [], "warm_sarif": []}
        for _ in range(repeat):
            cache = tempfile.mkdtemp(dir=workdir, prefix=f"{name}-")
            try:
                for key, output_format in (("cold", "concise"), ("warm", "concise"), ("warm_json", "json"),
                                           ("warm_sarif", "sarif")):
                    if key == "warm_json":  # the first JSON run computes the fix edits; time the next
                        run_command([*o2o, "--jobs", "1", "--cache-dir", cache, "--exit-zero", "--output-format",
                                     "json", "."], root, env=env)
                    sample = run_command([*o2o, "--jobs", "1", "--cache-dir", cache, "--exit-zero",
                                          "--output-format", output_format, "."], root, env=env)
                    if sample.returncode != 0:
                        raise BenchError(f"o2o-lint on {name} failed:\n{_tail(sample.stderr)}")
                    cpu[key].append(sample.cpu_seconds if sample.cpu_seconds is not None else sample.seconds)
            finally:
                shutil.rmtree(cache, ignore_errors=True)
        profile = run_command([sys.executable, "-c", SLOWEST_FILES_SCRIPT, ".", str(SLOWEST_FILES)], root, env=env)
        if profile.returncode != 0:
            raise BenchError(f"the slowest-files run on {name} failed:\n{_tail(profile.stderr)}")
        slowest = json.loads(profile.stdout.splitlines()[-1])
        medians = {key: statistics.median(values) for key, values in cpu.items()}
        rows.append({
            "name": name, "files": stats["files"], "lines": checked_lines,
            "cpu_seconds": {key: round(value, 4) for key, value in medians.items()},
            "cpu_samples": {key: [round(v, 4) for v in values] for key, values in cpu.items()},
            "cold_per_1000_lines": round(1000 * medians["cold"] / max(checked_lines, 1), 5),
            "warm_json_vs_concise": round(medians["warm_json"] / medians["warm"], 3) if medians["warm"] else None,
            "warm_sarif_vs_concise": round(medians["warm_sarif"] / medians["warm"], 3) if medians["warm"] else None,
            "slowest": slowest["slowest"],
        })
        log(f"{name}: {checked_lines:,} lines, cold {medians['cold']:.2f} s, warm {medians['warm']:.3f} s (CPU)")
    median_cost = statistics.median(row["cold_per_1000_lines"] for row in rows) if rows else None
    for row in rows:
        row["cost_vs_median"] = round(row["cold_per_1000_lines"] / median_cost, 3) if median_cost else None
    return {
        "rows": rows,
        "median_cold_per_1000_lines": median_cost,
        "targets": {"cost_vs_median": 2.0, "warm_machine_readable_vs_concise": 1.5},
        "pass": all((row["cost_vs_median"] or 0) <= 2.0
                    and max(row["warm_json_vs_concise"] or 0, row["warm_sarif_vs_concise"] or 0) <= 1.5
                    for row in rows),
    }


def realcode_roots(names: str | None = None) -> list[tuple[str, Path]]:
    """The real-code check's projects (downloaded on first use by ``benchmarks/realcode.py``)."""
    sys.path.insert(0, str(HERE))
    try:
        import realcode
    finally:
        sys.path.remove(str(HERE))
    wanted = None if names is None else set(names.split(","))
    return [(project.name, realcode.ensure_project(project)) for project in realcode.PROJECTS
            if wanted is None or project.name in wanted]


def render_codebases(codebases: dict[str, Any]) -> list[str]:
    """The per-code-base table of ``docs/performance.md``."""
    out = [
        "| code base | lines | cold | warm | warm json | warm sarif | cold per 1,000 lines | × median | slowest files |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in codebases["rows"]:
        cpu = row["cpu_seconds"]
        slowest = ", ".join(f"`{item['path']}` {item['cpu_seconds']:.2f} s" for item in row["slowest"])
        out.append(f"| {row['name']} | {row['lines']:,} | {_seconds(cpu['cold'])} | {_seconds(cpu['warm'])} "
                   f"| {_seconds(cpu['warm_json'])} | {_seconds(cpu['warm_sarif'])} "
                   f"| {row['cold_per_1000_lines'] * 1000:.1f} ms | {row['cost_vs_median']} | {slowest} |")
    return out


def measure_scaling(copies: Sequence[Path], counts: Sequence[int], *, repeat: int, workdir: Path,
                    env: dict[str, str] | None = None, log: Log = _stderr_log) -> dict[str, Any]:
    """Cold ``--jobs 1`` on the first k of *copies* (separate project roots, one invocation)."""
    counts = sorted(set(counts))
    if not counts or counts[0] < 1 or counts[-1] > len(copies):
        raise ValueError(f"copy counts must lie in 1..{len(copies)}")
    parent = copies[0].parent
    if any(copy.parent != parent for copy in copies):
        raise ValueError("the copies must share one parent directory")
    workdir.mkdir(parents=True, exist_ok=True)
    stats_one = [corpus_stats([copy]) for copy in copies[: counts[-1]]]
    o2o = o2o_command()
    seconds: dict[int, list[float]] = {k: [] for k in counts}
    findings: dict[int, int] = {}
    for round_number in range(repeat):
        for k in counts:
            cache = tempfile.mkdtemp(dir=workdir, prefix="scaling-cache-")
            command = [*o2o, "--jobs", "1", "--cache-dir", cache, "--format", "concise",
                       *(copy.name for copy in copies[:k])]
            try:
                sample = run_command(command, parent, env=env)
            finally:
                shutil.rmtree(cache, ignore_errors=True)
            findings[k] = len(_findings(sample, f"o2o-lint on {k} copies"))
            seconds[k].append(sample.seconds)
            log(f"[{round_number + 1}/{repeat}] scaling x{k:<3}       {sample.seconds:8.2f} s")
    points = []
    for k in counts:
        lines = sum(s["lines"] for s in stats_one[:k])
        median = statistics.median(seconds[k])
        points.append({
            "copies": k,
            "files": sum(s["files"] for s in stats_one[:k]),
            "lines": lines,
            "seconds": round(median, 4),
            "samples": [round(s, 4) for s in seconds[k]],
            "seconds_per_100k_lines": round(median / lines * 100_000, 4) if lines else None,
            "findings": findings[k],
        })
    first, last = points[0], points[-1]
    growth = None
    if len(points) > 1 and first["seconds"] > 0:
        growth = round((last["seconds"] / first["seconds"]) / (last["lines"] / first["lines"]), 3)
    return {
        "corpus": _stamp(copies[0]).get("copy_of") or copies[0].name,
        "layout": "k copies of the corpus, each a separate project root (its own setup.cfg) under one parent "
                  "directory, all passed as paths to one o2o-lint invocation (cold cache, --jobs 1)",
        "points": points,
        "time_growth_per_size_growth": growth,
        "findings_scale_with_copies": all(p["findings"] == first["findings"] * p["copies"] // first["copies"]
                                          for p in points),
    }


# --------------------------------------------------------------------------- rendering


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f} s" if value < 1 else f"{value:.2f} s"


def _ratio_value(ratio: dict[str, Any]) -> str:
    value = ratio["value"]
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if ratio["key"] == "peak_memory":
        return f"{value:.0f} MB"
    return f"{value:.3f}"


def _with_spread(value: str, spread: list[float] | None, unicode: bool) -> str:
    if not spread:
        return value
    return f"{value} ({spread[0]:.3f}{'–' if unicode else '-'}{spread[1]:.3f})"


def _ratio_target(ratio: dict[str, Any], unicode: bool) -> str:
    if ratio["comparison"] == "==":
        return "yes"
    sign = "≤" if unicode else "<="
    if ratio["key"] == "peak_memory":
        return f"{sign} {ratio['target']:.0f} MB"
    return f"{sign} {ratio['target']}"


def _verdict(ratio: dict[str, Any]) -> str:
    return "n/a" if ratio["pass"] is None else "PASS" if ratio["pass"] else "FAIL"


def render_table(report: dict[str, Any]) -> str:
    corpus, v, machine = report["corpus"], report["versions"], report["machine"]
    lines = [
        f"o2o-lint benchmark: {corpus['name']}: {corpus['files']} files, {corpus['lines']:,} lines "
        f"({corpus.get('checked_files') or '?'} files checked by o2o-lint), median of {report['repeat']} run(s)",
        f"Python {v['python']}, libcst {v['libcst']}, flake8 {v['flake8']}, o2o-lint {v['o2o_lint']} "
        f"@ {report['revision'].get('commit')}; {machine['cpu_count']} CPUs ({machine.get('cpu_model') or '?'})",
        "",
        f"{'measurement (wall time)':<44}{'median':>10}{'min':>10}{'max':>10}{'cpu':>10}",
    ]
    for key, label in MEASUREMENTS:
        entry = report["timings"].get(key)
        if entry:
            lines.append(f"{label:<44}{_seconds(entry['median']):>10}{_seconds(entry['min']):>10}"
                         f"{_seconds(entry['max']):>10}{_seconds(entry.get('cpu_median')):>10}")
    peak = report["memory"].get("peak_rss_mb")
    lines.append(f"{'peak RSS, cold --jobs 1':<44}{(f'{peak:.0f} MB' if peak is not None else '-'):>10}")
    lines += ["", f"{'target (wall-time ratios of medians; min-max of rounds)':<54}{'value':>26}{'target':>12}"
                  f"   result{'cpu ratio':>28}"]
    for ratio in report["ratios"]:
        cpu = ratio.get("cpu_value")
        value = _with_spread(_ratio_value(ratio), ratio.get("spread"), False)
        cpu_text = _with_spread(f"{cpu:.3f}", ratio.get("cpu_spread"), False) if cpu is not None else ""
        lines.append(f"{ratio['label']:<54}{value:>26}{_ratio_target(ratio, False):>12}   "
                     f"{_verdict(ratio):<6}{cpu_text:>28}")
    findings = report["findings"]
    if findings.get("vacuous"):
        lines.append("  note: the corpus has no findings, so the identity check compares empty lists")
    if report["revision"].get("mixed_versions"):
        lines.append("  WARNING: the o2o_lint sources changed during the run; the numbers mix two versions")
    scaling = report.get("scaling")
    if scaling:
        lines += ["", f"{'scaling (cold --jobs 1)':<28}{'files':>8}{'lines':>12}{'time':>10}{'s/100k lines':>14}"]
        for point in scaling["points"]:
            lines.append(f"{'x' + str(point['copies']):<28}{point['files']:>8}{point['lines']:>12,}"
                         f"{_seconds(point['seconds']):>10}{point['seconds_per_100k_lines']:>14.3f}")
        if scaling.get("time_growth_per_size_growth") is not None:
            lines.append(f"time growth / size growth, x{scaling['points'][0]['copies']} to "
                         f"x{scaling['points'][-1]['copies']}: {scaling['time_growth_per_size_growth']} "
                         "(1.0 = linear)")
    return "\n".join(lines)


def _nice_step(span: float, count: int = 5) -> float:
    if span <= 0:
        return 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * magnitude:
            return multiple * magnitude
    return 10 * magnitude


def _tick_label(value: float, thousands: bool) -> str:
    if thousands and value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if thousands and value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def render_svg(points: Sequence[dict[str, Any]], *, title: str = "o2o-lint: time against corpus size",
               x_label: str = "corpus size (lines of Python)",
               y_label: str = "cold o2o-lint --jobs 1 (seconds)") -> str:
    """A hand-written SVG line plot of ``seconds`` against ``lines``, with a linear reference."""
    if not points:
        raise ValueError("no points to plot")
    width, height = 680, 420
    left, right, top, bottom = 80, 30, 50, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [float(p["lines"]) for p in points]
    ys = [float(p["seconds"]) for p in points]
    slope = ys[0] / xs[0] if xs[0] > 0 else 0.0
    x_step = _nice_step(max(xs))
    x_max = x_step * math.ceil(max(xs) * 1.04 / x_step)
    y_step = _nice_step(max(max(ys), slope * x_max))
    y_max = y_step * math.ceil(max(max(ys), slope * x_max) * 1.04 / y_step)

    def sx(x: float) -> float:
        return left + x / x_max * plot_w

    def sy(y: float) -> float:
        return top + plot_h - y / y_max * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2:.1f}" y="24" text-anchor="middle" font-size="15" font-weight="bold">'
        f"{escape(title)}</text>",
    ]
    tick = 0.0
    while tick <= x_max + x_step / 1000:
        x = sx(tick)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">'
                   f"{escape(_tick_label(tick, True))}</text>")
        tick += x_step
    tick = 0.0
    while tick <= y_max + y_step / 1000:
        y = sy(tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(_tick_label(tick, False))}</text>')
        tick += y_step
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="black"/>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 22}" text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text x="18" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 18 {top + plot_h / 2:.1f})">{escape(y_label)}</text>')
    if slope > 0:
        end_x = max(xs)
        out.append(f'<line x1="{sx(0):.1f}" y1="{sy(0):.1f}" x2="{sx(end_x):.1f}" y2="{sy(slope * end_x):.1f}" '
                   'stroke="#999999" stroke-width="1.5" stroke-dasharray="6 4"/>')
    path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys))
    out.append(f'<polyline points="{path}" fill="none" stroke="#1f6fb2" stroke-width="2"/>')
    for point, x, y in zip(points, xs, ys):
        out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4.5" fill="#1f6fb2"/>')
        label = f"×{point.get('copies', '')} ({_seconds(y).replace(' ', ' ')})"
        out.append(f'<text x="{sx(x) - 8:.1f}" y="{sy(y) - 10:.1f}" text-anchor="end">{escape(label)}</text>')
    legend_x, legend_y = left + 16, top + 16
    out.append(f'<line x1="{legend_x}" y1="{legend_y}" x2="{legend_x + 28}" y2="{legend_y}" '
               'stroke="#1f6fb2" stroke-width="2"/>')
    out.append(f'<text x="{legend_x + 36}" y="{legend_y + 4}">measured (median)</text>')
    out.append(f'<line x1="{legend_x}" y1="{legend_y + 20}" x2="{legend_x + 28}" y2="{legend_y + 20}" '
               'stroke="#999999" stroke-width="1.5" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{legend_x + 36}" y="{legend_y + 24}">linear: proportional to the first point</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


NOTES_BEGIN = "<!-- BEGIN engine notes: hand-written, kept as is by bench.py --write-docs -->"
NOTES_END = "<!-- END engine notes -->"
NOTES_PLACEHOLDER = """\
> **Placeholder, for the engine engineer to fill in.** Explain, with the numbers above,
> what keeps o2o-lint cheap: the text pre-filter (screens) that keeps files which cannot
> hold a finding away from LibCST, the `ast`-based model index, the content-keyed cache of
> per-file index facts and findings (and what invalidates it), and the process pool.
> Everything between the two `engine notes` comments survives `--write-docs`."""


def _existing_notes(existing: str | None) -> str:
    if existing and NOTES_BEGIN in existing and NOTES_END in existing:
        inner = existing.split(NOTES_BEGIN, 1)[1].split(NOTES_END, 1)[0].strip("\n")
        if inner.strip():
            return inner
    return NOTES_PLACEHOLDER


def render_docs(report: dict[str, Any], existing: str | None = None, svg_name: str = SVG_PATH.name) -> str:
    """``docs/performance.md`` from a report; the engine notes of *existing* are kept."""
    corpus, machine, v, rev = report["corpus"], report["machine"], report["versions"], report["revision"]
    findings, flake8 = report["findings"], report["flake8"]
    sources = ", ".join(f"{s['distribution']} {s['version']}" for s in corpus.get("sources", [])) or corpus["name"]
    dirty = " plus uncommitted changes to `o2o_lint/`" if rev.get("o2o_lint_uncommitted_changes") else ""
    cpus = machine["cpu_count"]
    out = [
        "# Performance",
        "",
        "<!-- Generated by `python benchmarks/bench.py --write-docs` from benchmarks/results/latest.json.",
        "     Edit benchmarks/bench.py, not this file, except between the engine notes comments. -->",
        "",
        "o2o-lint has to cost less than parsing the repository: a LibCST parse costs about ten",
        "times an `ast` parse, and a flake8 plugin that parsed every file with LibCST metadata",
        "would make every CI run several times slower. The benchmark measures that on real",
        "Django code, next to the costs it is judged against.",
        "",
        "## Running the benchmark",
        "",
        "```sh",
        RUN_COMMAND,
        "```",
        "",
        "Run it with the interpreter o2o-lint is installed in (`.venv/bin/python` after the",
        "README's install). It downloads the pinned wheels of Django 5.2.19 and wagtail 7.1.1 from",
        "PyPI once (`pip download --no-deps --only-binary :all:`, checked against pinned sha256",
        "digests) into `benchmarks/corpus/` (git-ignored), uses each wheel's package directory as",
        "the corpus, prints the table below, writes `benchmarks/results/latest.json` and, with",
        "`--write-docs`, regenerates this page and the plot (about ten minutes on an idle two-core",
        "machine; see below for the last run). `--quick` is one run on Django only (a couple of",
        "minutes); `--django-only` measures the main table on Django 5.2.19 alone (the corpus of",
        "issue 17's targets), with the default five rounds; `--repeat N` sets the number of",
        "runs (default 5), `--copies` the scaling points, `--json PATH` the output,",
        "`--corpus DIR` benchmarks a local project instead, and `--docs-only` re-renders this page",
        "from the JSON without measuring. Every command runs a copy of the `o2o_lint` package taken",
        "at the start (through `PYTHONPATH`), so editing the linter during a run does not mix two",
        "versions into one table; `--no-snapshot` runs the installed package as it is.",
        "When the interpreter has no `django-upgrade`, it is installed into it with pip at the start",
        "(never committed). The per-code-base table runs over the real-code check's projects",
        "(`benchmarks/realcode.py` downloads them once); `--codebases a,b` limits it to some,",
        "`--no-codebases` (or `--quick`) skips it.",
        "",
        "## What is measured",
        "",
        "Every command runs in a fresh subprocess (interpreter start-up and imports included), as",
        "the median of several runs, interleaved: one run of each per round, so that a busy spell",
        "of a shared machine hurts all measurements alike.",
        "",
        "| measurement | command |",
        "|---|---|",
    ]
    explain = {
        "bare_parse": "`libcst.parse_module(bytes)` of every `.py` file of the corpus (migrations "
                      "included), one process, errors caught",
        "cold_jobs1": "a fresh, empty cache directory every run",
        "cold_all": f"one worker per CPU ({cpus} here), fresh cache",
        "warm": "the cache filled by an earlier run, nothing changed",
        "warm_touched": "as warm, after appending a new comment line to one models file "
                        f"(`{corpus.get('touched_file')}`; restored, mtime included, after each run)",
        "flake8_without": "the o2o-lint distribution hidden from flake8's plugin discovery by a wrapper "
                          "around `flake8.plugins.finder._find_importlib_plugins`",
        "flake8_with": "flake8 as installed; the plugin's own cache removed before every run (a CI checkout)",
        "flake8_with_warm": "the same command again right after, on the cache the cold run left",
        "ast_parse": "`ast.parse(bytes)` of every `.py` file of the corpus (migrations included), one process",
        "django_upgrade": "the same files; installed into the benchmarking interpreter at run time, "
                          "`--check` writes nothing",
    }
    for key, label in MEASUREMENTS:
        entry = report["timings"].get(key)
        if entry:
            command = entry["command"].replace(shlex.quote(f"--format={FLAKE8_FORMAT}"), FLAKE8_FORMAT_SHOWN)
            command = _one_table_cell(command)
            out.append(f"| {label} | `{command}`: {explain[key]} |")
    out += [
        "",
        "Peak memory is the largest maximum resident set size (`os.wait4` rusage of the child) of",
        "the cold `--jobs 1` runs. The findings-identity check compares the JSON findings of a",
        "`--no-cache` run with those of every cold `--jobs 1`, cold `--jobs 0` and warm run.",
        "",
        "## Latest results",
        "",
        f"- Date: {report['generated']}; o2o-lint {v['o2o_lint']} at commit `{rev.get('commit')}`{dirty}; "
        f"median of {report['repeat']} run(s); the whole run took {report.get('duration_seconds', 0) / 60:.1f} min.",
        f"- Machine: {machine.get('cpu_model') or machine['machine']}, {cpus} CPUs, "
        f"{(machine.get('memory_mb') or 0) / 1024:.1f} GB RAM, {machine['platform']}; load average "
        f"{machine.get('load_average_start')} at the start, {machine.get('load_average_end')} at the end "
        "(a shared machine: other processes were running).",
        f"- Python {v['python']}, libcst {v['libcst']}, flake8 {v['flake8']} (pycodestyle {v['pycodestyle']}, "
        f"pyflakes {v['pyflakes']}).",
        f"- Corpus: {sources} (`{corpus['path']}`, one project root): {corpus['files']:,} `.py` files, "
        f"{corpus['lines']:,} lines, of which {corpus['migration_files']} files / "
        f"{corpus['migration_lines']:,} lines are migrations (which o2o-lint excludes by default; "
        f"it checked {corpus.get('checked_files') or '?'} files).",
        "",
        "| measurement | median | min | max | CPU time (median) |",
        "|---|--:|--:|--:|--:|",
    ]
    for key, label in MEASUREMENTS:
        entry = report["timings"].get(key)
        if entry:
            out.append(f"| {label} | {_seconds(entry['median'])} | {_seconds(entry['min'])} | "
                       f"{_seconds(entry['max'])} | {_seconds(entry.get('cpu_median'))} |")
    peak = report["memory"].get("peak_rss_mb")
    out.append(f"| peak memory (max RSS), cold `--jobs 1` | {peak:.0f} MB | | | |" if peak is not None
               else "| peak memory | - | | | |")
    out += [
        "",
        "The targets are ratios of the wall-time medians. The CPU-time ratio (user + system time of the",
        "child and the processes it waited for) is shown for information: on a busy machine it is less",
        "noisy than wall time, but it cannot show what a process pool gains. In parentheses, the spread:",
        "the lowest and highest ratio of one round to the same round (runs are interleaved).",
        "",
        "| target (issue 5) | value | target | result | CPU-time ratio |",
        "|---|--:|--:|---|--:|",
    ]
    for ratio in report["ratios"]:
        verdict = _verdict(ratio)
        cpu = ratio.get("cpu_value")
        out.append(f"| {ratio['label'].replace(' / ', ' ÷ ')} | {_with_spread(_ratio_value(ratio), ratio.get('spread'), True)} | "
                   f"{_ratio_target(ratio, True)} | {'**' + verdict + '**' if verdict == 'FAIL' else verdict} | "
                   f"{_with_spread(f'{cpu:.3f}', ratio.get('cpu_spread'), True) if cpu is not None else ''} |")
    notes = []
    if findings.get("vacuous"):
        notes.append("The corpus has no findings, so the identity check compares empty lists; "
                     "`tests/test_benchmark_tool.py` runs the same check on a project with findings.")
    else:
        count = findings["count"]
        notes.append(f"The identity check compared {count} finding{'' if count == 1 else 's'} "
                     f"({', '.join(f'{c} {code}' for code, c in sorted(findings.get('by_code', {}).items()))}).")
    notes.append(f"flake8 with the plugin reported {flake8['findings_with']:,} findings, without it "
                 f"{flake8['findings_without']:,}; the non-OTO findings were "
                 f"{'identical' if flake8['other_findings_identical'] else 'NOT identical'} and the OTO findings "
                 f"{'matched' if flake8['oto_matches_cli'] else 'did NOT match'} the CLI's"
                 + ("" if "warm_identical" not in flake8 else
                    f"; the warm runs' findings were {'identical' if flake8['warm_identical'] else 'NOT identical'} "
                    "to the cold run's") + ".")
    if rev.get("mixed_versions"):
        notes.append("**The o2o_lint sources changed during this run; the numbers mix two versions.**")
    elif rev.get("measured") == "snapshot":
        edited = rev.get("working_tree_changed_during_run")
        notes.append(f"Every command ran a compiled snapshot of `o2o_lint/` taken at the start (source fingerprint "
                     f"`{rev.get('source_fingerprint')}`), so the numbers are for one version of the linter"
                     + (", although the working tree was edited during the run." if edited
                        else "; the working tree was not edited during the run."))
    out += [""] + [f"- {note}" for note in notes]

    scaling = report.get("scaling")
    out += ["", "## Scaling", ""]
    if scaling:
        out += [
            f"![scaling]({svg_name})",
            "",
            f"Cold `o2o-lint --jobs 1` on 1 to {scaling['points'][-1]['copies']} copies of the Django corpus. "
            "Each copy is a separate project root (its own `setup.cfg`) under one parent directory, and all",
            "of them are passed to one `o2o-lint` invocation. Separate roots, because one root holding k",
            "copies would define every module k times (`django.db.models` ...) and the index would resolve",
            "every copy to the first one: copies 2..k would do different work from copy 1, and the findings",
            "would no longer be k times those of one copy. With separate roots each copy is exactly the",
            "original project, so the curve shows how the whole run (discovery, index, checks, output)",
            "grows with the amount of code; it does not show how one project's index grows with its number",
            "of models.",
            "",
            "| copies | files | lines | time | s per 100k lines | findings |",
            "|--:|--:|--:|--:|--:|--:|",
        ]
        for point in scaling["points"]:
            out.append(f"| {point['copies']} | {point['files']:,} | {point['lines']:,} | {_seconds(point['seconds'])} "
                       f"| {point['seconds_per_100k_lines']:.3f} | {point['findings']} |")
        if scaling.get("time_growth_per_size_growth") is not None:
            out += ["", f"Time grew {scaling['time_growth_per_size_growth']} times as fast as the corpus from "
                        f"{scaling['points'][0]['copies']} to {scaling['points'][-1]['copies']} copies "
                        "(1.0 is linear; below 1, the fixed start-up cost is being spread)."]
    else:
        out.append(f"No scaling run in these results; run `{RUN_COMMAND}`.")
    codebases = report.get("codebases")
    out += ["", "## Per code base", ""]
    if codebases:
        out += [
            "The real-code check's projects (`benchmarks/realcode.py`), each its own project root: CPU time",
            "(user + system, `os.wait4`) of `o2o-lint --jobs 1 --exit-zero .`, median of the runs: cold on a",
            "fresh cache directory, then warm (concise, json and sarif, the fix edits already cached); the",
            "cold cost per 1,000 checked lines (migrations excluded), against the median of all code bases,",
            "and the files whose analysis cost most in one cold run (the index build is not counted per",
            f"file). Targets: no code base above {codebases['targets']['cost_vs_median']}× the median cost "
            f"per line; warm json and sarif at most {codebases['targets']['warm_machine_readable_vs_concise']}× "
            f"warm concise: **{'PASS' if codebases['pass'] else 'FAIL'}**.",
            "",
            *render_codebases(codebases),
        ]
    else:
        out.append("No per-code-base run in these results (`--no-codebases`, or `--quick`).")
    out += [
        "",
        "## How o2o-lint stays cheap",
        "",
        NOTES_BEGIN,
        _existing_notes(existing),
        NOTES_END,
        "",
    ]
    return "\n".join(out)


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_docs(report: dict[str, Any], docs_path: Path = DOCS_PATH, svg_path: Path = SVG_PATH) -> list[Path]:
    written = []
    scaling = report.get("scaling")
    if scaling and scaling.get("points"):
        write_atomically(svg_path, render_svg(
            scaling["points"],
            x_label=f"corpus size (lines of Python; 1, 2, 4 ... copies of {scaling.get('corpus') or 'the corpus'})",
        ))
        written.append(svg_path)
    existing = docs_path.read_text(encoding="utf-8") if docs_path.is_file() else None
    write_atomically(docs_path, render_docs(report, existing, svg_path.name))
    written.append(docs_path)
    return written


# --------------------------------------------------------------------------- command line


def _copy_counts(value: str) -> list[int]:
    try:
        counts = sorted({int(part) for part in value.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError("expected comma-separated integers, e.g. 1,2,4,8") from None
    if not counts or counts[0] < 1 or counts[-1] > 64:
        raise argparse.ArgumentTypeError("copy counts must lie between 1 and 64")
    return counts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Benchmark o2o-lint on real Django code (issue 5).")
    parser.add_argument("--quick", action="store_true", help="one run, Django only")
    parser.add_argument("--django-only", action="store_true",
                        help="the main table on the Django corpus alone (not Django+wagtail), --repeat runs")
    parser.add_argument("--repeat", type=int, metavar="N", help="runs per measurement (default 5; 1 with --quick)")
    parser.add_argument("--copies", type=_copy_counts, metavar="1,2,4,8",
                        help="also time cold --jobs 1 on these numbers of copies of the Django corpus")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH",
                        help=f"where to write the results (default {DEFAULT_JSON.relative_to(REPO)})")
    parser.add_argument("--write-docs", action="store_true",
                        help="regenerate docs/performance.md (and the scaling plot) from the results")
    parser.add_argument("--docs-only", action="store_true",
                        help="measure nothing: regenerate the docs from the existing --json file")
    parser.add_argument("--corpus", type=Path, metavar="DIR",
                        help="benchmark this local project directory instead of the downloaded corpus")
    parser.add_argument("--no-snapshot", action="store_true",
                        help="run the installed o2o_lint as it is at each moment, not a snapshot taken at the start")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--no-codebases", action="store_true",
                        help="skip the per-code-base table over the real-code check's projects")
    parser.add_argument("--codebases", metavar="A,B", help="only these real-code projects in that table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.docs_only:
        report = json.loads(args.json.read_text())
        for path in write_docs(report):
            _stderr_log(f"wrote {path}")
        return 0
    if args.repeat is not None and args.repeat < 1:
        _stderr_log("bench.py: --repeat must be at least 1")
        return 2
    repeat = args.repeat or (1 if args.quick else 5)
    try:
        check_environment()
        with tempfile.TemporaryDirectory(prefix="o2o-bench-") as tmp:
            workdir = Path(tmp)
            sources = SOURCES[:1] if args.quick or args.django_only else SOURCES
            if args.corpus:
                root, name, meta = args.corpus, args.corpus.resolve().name, []
            else:
                roots = [ensure_source(source) for source in sources]
                root = roots[0] if len(roots) == 1 else ensure_combined(sources)
                name = "+".join(source.label for source in sources)
                meta = [_stamp(r).get("sources", [{}])[0] for r in roots]
            if args.no_snapshot:
                env, measured = None, live_sources()
            else:
                env, measured = snapshot_sources(workdir / "snapshot")
            report = benchmark_corpus(root, repeat=repeat, workdir=workdir / "main", name=name, sources=meta,
                                      env=env, measured=measured, django_upgrade=django_upgrade_command(True))
            if not (args.quick or args.no_codebases or args.corpus):
                report["codebases"] = measure_codebases(realcode_roots(args.codebases), repeat=repeat,
                                                        workdir=workdir / "codebases", env=env)
            report["quick"] = args.quick
            report["command"] = shlex.join(["python", "benchmarks/bench.py", *(argv if argv is not None else sys.argv[1:])])
            if args.copies:
                if args.corpus:
                    raise BenchError("--copies works on the downloaded Django corpus only")
                base, package = ensure_source(SOURCES[0]), SOURCES[0].package
                copies = ensure_copies(base, package, args.copies[-1], CORPUS_DIR / f"scaling-{base.name}")
                report["scaling"] = measure_scaling(copies, args.copies, repeat=repeat,
                                                    workdir=workdir / "scaling", env=env)
                report["duration_seconds"] = round(
                    (datetime.datetime.now(datetime.timezone.utc)
                     - datetime.datetime.fromisoformat(report["generated"])).total_seconds(), 1)
    except BenchError as exc:
        _stderr_log(f"bench.py: error: {exc}")
        return 2
    write_atomically(args.json, json.dumps(report, indent=2) + "\n")
    print(render_table(report))
    print(f"\nwrote {args.json}")
    if args.write_docs:
        for path in write_docs(report):
            print(f"wrote {path}")
    failed = [ratio["label"] for ratio in report["ratios"] if ratio["pass"] is False]
    if failed:
        print(f"targets missed: {'; '.join(failed)}")
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    raise SystemExit(main())
