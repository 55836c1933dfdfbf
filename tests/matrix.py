"""The test suite on every supported Python, in parallel: what CI (``.ci/run``) runs.

``.venv/bin/python tests/matrix.py`` (the README's test command ends with it):

1. installs everything up front, so that the suite downloads nothing while it runs:
   the Django lines of the real-Django tests (``tests/django_harness.py install``), a
   virtualenv per other supported Python (``.venvs/py3.X``, with ``-e ".[test]"``), and
   a wheelhouse of o2o-lint's dependencies and build backend (``.venvs/wheelhouse-py3.X``)
   from which the packaging and action tests install it into clean virtualenvs with
   ``--no-index``;
2. runs, at the same time, the whole suite under this interpreter (the ``.venv``'s) and
   the suite without the tests marked slow under each other one. The slow tests are the
   real-Django, packaging, pre-commit and subprocess runs: the Django ones already run
   under more than one interpreter (each Django line under one it supports, 6.1 under
   3.12+), and the rest drive the same code as the fast tests through subprocesses.

A supported Python that cannot be found fails the run, saying which and how to get it;
nothing is skipped. ``install`` or ``run`` alone does one step; arguments after ``run``
(or after ``--``) go to the full run's pytest.
"""

from __future__ import annotations

import hashlib
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import django_harness  # noqa: E402

REPO = django_harness.REPO
VENVS = REPO / ".venvs"
#: Every Python the project supports and tests (the classifiers say the same; tested).
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
FAST = ("-m", "not slow", "-q", "-p", "no:cacheprovider")
#: The real-Django tests, run by a process of their own beside the rest of the whole suite.
REAL_DJANGO = "tests/django"


class MatrixError(RuntimeError):
    """An interpreter or an install is missing: the run fails with this message."""


def this_python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def find_python(version: str) -> str:
    """An interpreter of exactly *version* (``python3.X`` on PATH, or pyenv's)."""
    if version == this_python():
        return sys.executable
    wanted = tuple(int(part) for part in version.split("."))
    for candidate in django_harness._candidate_interpreters():
        if django_harness._python_version(candidate) == wanted:
            return candidate
    raise MatrixError(
        f"Python {version} was not found (looked for python{version} on PATH and under pyenv); "
        f"the suite runs on Python {', '.join(PYTHONS)}: install it, e.g. `pyenv install {version}`"
    )


def venv_python(version: str) -> Path:
    return VENVS / f"py{version}" / "bin" / "python"


def wheelhouse(version: str | None = None) -> Path:
    """Where the wheels of o2o-lint's dependencies for Python *version* are kept."""
    return VENVS / f"wheelhouse-py{version or this_python()}"


def _stamp(*also: str) -> str:
    """Changes when what an install depends on changes."""
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes())
    for text in also:
        digest.update(text.encode())
    return digest.hexdigest()


def _up_to_date(marker: Path, stamp: str) -> bool:
    return marker.is_file() and marker.read_text() == stamp


def _run(command: list[str]) -> None:
    print("+", shlex.join(command), flush=True)
    subprocess.run(command, check=True, cwd=REPO, timeout=1800)


def wheelhouse_requirements() -> list[str]:
    """o2o-lint's dependencies, those of its flake8 extra, and its build backend: enough
    to install it, from the checkout, the sdist or the wheel, with ``pip install
    --no-index --find-links``."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    project = config["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["flake8"], *config["build-system"]["requires"]]


def install() -> None:
    if this_python() not in PYTHONS:
        raise MatrixError(f"run this under one of Python {', '.join(PYTHONS)} (this is {this_python()})")
    pythons = {version: find_python(version) for version in PYTHONS}  # all found before any install
    if django_harness.main(["install"]) != 0:
        raise MatrixError("the Django lines could not be installed (see above)")
    for version, python in pythons.items():
        target, requirements = wheelhouse(version), wheelhouse_requirements()
        if not _up_to_date(target / ".stamp", _stamp(*requirements)):
            target.mkdir(parents=True, exist_ok=True)
            _run([python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                  "--dest", str(target), *requirements])
            (target / ".stamp").write_text(_stamp(*requirements))
        if version == this_python():
            continue
        venv = VENVS / f"py{version}"
        if not _up_to_date(venv / ".o2o-lint-stamp", _stamp()):
            _run([python, "-m", "venv", "--clear", str(venv)])
            _run([str(venv_python(version)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                  "-e", ".[test]"])
            (venv / ".o2o-lint-stamp").write_text(_stamp())


class TimedRun:
    """A subprocess writing to a log, and when it ended, noted by a thread that waits on it.

    The time is noted when the process ends, not when the caller gets round to waiting for
    it: the table below would otherwise show a short run as long as the longest before it."""

    def __init__(self, command: list[str], log: Path) -> None:
        self.log = log
        self.started = time.monotonic()
        with open(log, "wb") as handle:
            self.process = subprocess.Popen(command, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT)
        self._ended = threading.Event()
        self._seconds = 0.0
        threading.Thread(target=self._note_end, daemon=True).start()

    def _note_end(self) -> None:
        self.process.wait()
        self._seconds = time.monotonic() - self.started
        self._ended.set()

    def wait(self) -> tuple[int, float]:
        """The exit code and the wall time of the run."""
        self._ended.wait()
        return self.process.returncode, self._seconds


def run(pytest_args: list[str]) -> int:
    missing = [version for version in PYTHONS if version != this_python() and not venv_python(version).exists()]
    if missing:
        raise MatrixError(f"no virtualenv for Python {', '.join(missing)}: run `python tests/matrix.py install` first")
    VENVS.mkdir(exist_ok=True)
    others = {version: TimedRun([str(venv_python(version)), "-m", "pytest", *FAST], VENVS / f"py{version}.log")
              for version in PYTHONS if version != this_python()}
    print(f"Python {', '.join(others)}: the suite without the slow tests, in parallel (logs in .venvs/)",
          flush=True)
    start = time.monotonic()
    if pytest_args:
        print(f"Python {this_python()}: pytest {shlex.join(pytest_args)}", flush=True)
        main = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=REPO)
        results = [(this_python(), "whole suite", main.returncode, time.monotonic() - start)]
    else:
        # The whole suite in two processes at once: the real-Django tests (subprocess-bound)
        # beside the rest, so that the longest run is not one process doing both in turn.
        print(f"Python {this_python()}: the whole suite, {REAL_DJANGO} in a second process (log in .venvs/)",
              flush=True)
        django_run = TimedRun([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", REAL_DJANGO],
                              VENVS / f"py{this_python()}-{REAL_DJANGO.replace('/', '-')}.log")
        main = subprocess.run([sys.executable, "-m", "pytest", f"--ignore={REAL_DJANGO}"], cwd=REPO)
        results = [(this_python(), "whole suite but " + REAL_DJANGO, main.returncode, time.monotonic() - start)]
        django_code, django_seconds = django_run.wait()
        results.append((this_python(), REAL_DJANGO, django_code, django_seconds))
        log = django_run.log
        print(f"\n===== Python {this_python()}, {REAL_DJANGO} (exit {django_code}); its log, {log.relative_to(REPO)}:",
              flush=True)
        sys.stdout.write(log.read_text(errors="replace")[-20000:] if django_code else
                         (log.read_text(errors="replace").strip().splitlines() or [""])[-1] + "\n")
    for version, other in others.items():
        code, seconds = other.wait()
        results.append((version, "without slow tests", code, seconds))
        log = other.log
        if code != 0:
            print(f"\n===== Python {version} failed (exit {code}); its log, {log.relative_to(REPO)}:", flush=True)
            sys.stdout.write(log.read_text(errors="replace"))
        else:
            last = log.read_text(errors="replace").strip().splitlines()[-1:]
            print(f"Python {version}: {last[0] if last else ''}", flush=True)
    print("\nPython  run                               exit  wall time")
    for version, what, code, seconds in sorted(results):
        print(f"{version:<7} {what:<33} {code:>4}  {seconds:7.0f} s")
    return max(code for _, _, code, _ in results)


def main(argv: list[str]) -> int:
    step, rest = (argv[0], argv[1:]) if argv and argv[0] in ("install", "run") else (None, argv)
    if rest[:1] == ["--"]:
        rest = rest[1:]
    try:
        if step in (None, "install"):
            install()
        if step in (None, "run"):
            return run(rest)
    except MatrixError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"error: {' '.join(map(str, error.cmd))} exited {error.returncode}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
