"""Run real Django (SQLite, in a subprocess) against a project on disk.

No mocks: a script is executed with the project's apps installed and their tables
created, on the Django release line asked for (``VERSIONS``). Each line is installed
up front, before the suite runs, into ``.django-versions/<line>-py<X.Y>/`` of the
repository by ``python tests/django_harness.py install`` (CI's ``.ci/run`` and the
README's test command do it), with factory_boy and model_bakery next to it (``TEST_LIBRARIES``)
for the code that builds test data with them, swapper for models that name their targets
through it, and pytest with pytest-django and pytest-factoryboy to run a project's own tests; the suite never downloads anything itself.

Each line runs under an interpreter it supports: the suite's own when it fits, else
the newest fitting one found on this machine (``python3.X`` on ``PATH`` or under
pyenv). Django 6.x needs Python 3.12+: when no such interpreter exists, the tests
that need it fail with a message saying so; they are never skipped.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VERSIONS_DIR = REPO / ".django-versions"

#: The Django release lines every real-Django test runs on: 4.2 for its silent-NULL
#: lookups, 5.2 the LTS, 6.1 the current release.
VERSIONS = ("4.2", "5.2", "6.1")
REQUIREMENTS = {"4.2": "Django>=4.2,<4.3", "5.2": "Django>=5.2,<5.3", "6.1": "Django>=6.1,<6.2"}
#: Test-data libraries installed next to each line, for the tests of code that uses them
#: (factory_boy's ``build()``, model_bakery's ``prepare()``, swapper's swappable models, pytest
#: fixtures run by pytest-django and pytest-factoryboy): ranges that support every line.
TEST_LIBRARIES = ("factory_boy>=3.3,<4", "model_bakery>=1.20,<2", "swapper>=1.3,<2",
                  "pytest-django>=4.9,<5", "pytest-factoryboy>=2.7,<3")
#: The packages each install directory must hold (Django's and the test libraries').
PACKAGES = ("django", "factory", "model_bakery", "swapper", "pytest_django", "pytest_factoryboy")
#: Python versions each line supports (inclusive), from Django's release notes.
PYTHONS = {"4.2": ((3, 8), (3, 12)), "5.2": ((3, 10), (3, 14)), "6.1": ((3, 12), (3, 14))}

RUNNER = '''
import sys
sys.path.insert(0, {project!r})
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", *{apps!r}],
    DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    USE_TZ=True,
    {extra_settings}
)
django.setup()
from django.core.management import call_command
call_command("migrate", run_syncdb=True, verbosity=0)
'''


class HarnessError(RuntimeError):
    """Django or an interpreter for it is missing: the test fails with this message."""


@functools.cache  # an interpreter's version does not change during a run; each probe is a process
def _python_version(executable: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [executable, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True, text=True, timeout=300,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return (int(out[0]), int(out[1])) if len(out) == 2 else None


def _candidate_interpreters() -> list[str]:
    names = [f"python3.{minor}" for minor in range(20, 7, -1)]
    found = [path for path in (shutil.which(name) for name in names) if path]
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found += sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.*", "bin", "python3")), reverse=True)
    return found


def interpreter(version: str) -> str:
    """An interpreter that Django *version* supports: this one if it fits, else the newest found."""
    low, high = PYTHONS[version]
    if low <= sys.version_info[:2] <= high:
        return sys.executable
    fitting: list[tuple[tuple[int, int], str]] = []
    for candidate in _candidate_interpreters():
        found = _python_version(candidate)
        if found is not None and low <= found <= high:
            fitting.append((found, candidate))
    if not fitting:
        raise HarnessError(
            f"Django {version} needs Python {low[0]}.{low[1]}–{high[0]}.{high[1]} and none was found "
            f"(this is {sys.version_info[0]}.{sys.version_info[1]}; looked on PATH and under pyenv): "
            f"install one, e.g. `pyenv install {low[0]}.{low[1]}`"
        )
    return max(fitting)[1]


def install_dir(version: str) -> Path:
    python = _python_version(interpreter(version))
    assert python is not None
    return VERSIONS_DIR / f"{version}-py{python[0]}.{python[1]}"


def missing_packages(target: Path) -> list[str]:
    """The packages of ``PACKAGES`` that the install directory *target* lacks."""
    return [package for package in PACKAGES if not (target / package).is_dir()]


def install(version: str) -> Path:
    """Install Django *version* and the test libraries for its interpreter (idempotent: a
    directory that lacks any of them, e.g. one installed before they were added, gets them);
    the directory they are in."""
    target = install_dir(version)
    if missing_packages(target):
        # pip --target keeps what the directory already holds (the Django installed before)
        # and adds what it lacks.
        subprocess.run(
            [interpreter(version), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--no-user", "--target", str(target), REQUIREMENTS[version], *TEST_LIBRARIES],
            check=True, timeout=900,
        )
    return target


def django_path(version: str) -> str:
    """The directory to put first on sys.path for *version*; it must have been installed."""
    target = install_dir(version)
    if not (target / "django").is_dir():
        raise HarnessError(
            f"Django {version} is not installed for the tests ({target} is missing): "
            "run `python tests/django_harness.py install` first (.ci/run does)"
        )
    missing = missing_packages(target)
    if missing:
        raise HarnessError(
            f"{target} lacks {', '.join(missing)} (installed before the test libraries were added): "
            "run `python tests/django_harness.py install` again"
        )
    return str(target)


def run_django(project: Path, apps: list[str], script: str, *, version: str = "5.2",
               extra_settings: str = "", setup: bool = True) -> subprocess.CompletedProcess[str]:
    """Execute *script* after ``django.setup()`` and table creation; returns the process."""
    header = RUNNER.format(project=str(project), apps=apps, extra_settings=extra_settings) if setup else ""
    code = header + "\n" + textwrap.dedent(script)
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONHOME")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (django_path(version), env.get("PYTHONPATH")) if p)
    env["PYTHONWARNINGS"] = "ignore"
    env["PYTHONNOUSERSITE"] = "1"
    return subprocess.run([interpreter(version), "-c", code], capture_output=True, text=True, env=env,
                          timeout=600, cwd=project)


def django_version(version: str) -> str:
    result = run_django(Path("."), [], "import django; print(django.get_version())", version=version, setup=False)
    return result.stdout.strip()


def main(argv: list[str]) -> int:
    if argv != ["install"]:
        print("usage: python tests/django_harness.py install", file=sys.stderr)
        return 2
    for version in VERSIONS:
        try:
            target = install(version)
        except HarnessError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"Django {version}: {target.relative_to(REPO)} ({interpreter(version)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
