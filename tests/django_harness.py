"""Run real Django (SQLite, in a subprocess) against a project on disk.

No mocks: a script is executed with the project's apps installed and their tables
created, on the Django version asked for. Django 5.2 is the test extra; other
versions (4.2 for the "≤ 4.2 silently matches NULL" behaviours) are installed on
first use into ``.django-versions/`` of the repository (CI has the package registry).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VERSIONS_DIR = REPO / ".django-versions"
PINS = {"4.2": "Django>=4.2,<4.3", "5.2": None}

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


def django_path(version: str) -> str | None:
    """A directory to put first on sys.path for *version*, or None for the installed one."""
    pin = PINS.get(version)
    if pin is None:
        return None
    target = VERSIONS_DIR / version
    if not (target / "django").is_dir():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--target", str(target), pin],
            check=True, timeout=600,
        )
    return str(target)


def run_django(project: Path, apps: list[str], script: str, *, version: str = "5.2",
               extra_settings: str = "", setup: bool = True) -> subprocess.CompletedProcess[str]:
    """Execute *script* after ``django.setup()`` and table creation; returns the process."""
    header = RUNNER.format(project=str(project), apps=apps, extra_settings=extra_settings) if setup else ""
    code = header + "\n" + textwrap.dedent(script)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    extra = django_path(version)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (extra, env.get("PYTHONPATH")) if p)
    env["PYTHONWARNINGS"] = "ignore"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300, cwd=project)


def django_version(version: str) -> str:
    result = run_django(Path("."), [], "import django; print(django.get_version())", version=version, setup=False)
    return result.stdout.strip()
