"""The migration after OTO001's conversion, on real Django and SQLite (every line of ``VERSIONS``).

A project with a unique ForeignKey, its initial migration and a row in a database file;
then ``o2o-lint --fix`` converts the field, and:

* ``makemigrations --check --dry-run`` reports the missing migration (one ``AlterField``),
  which ``--fix`` said to make; applied as generated, ``sqlmigrate`` shows SQLite rebuilding
  the table;
* with the zero-cost migration the rule page recommends (``docs/rules/OTO001.md``, its
  block taken verbatim: ``SeparateDatabaseAndState`` holding the ``AlterField`` as a state
  operation), ``makemigrations --check`` is clean, ``migrate`` applies it, ``sqlmigrate``
  emits no SQL, and the row is still there, now reached as ``company.address``.

PostgreSQL is not exercised here: the suite runs on SQLite alone (CI starts no database
server, and the harness installs no PostgreSQL driver).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.django_harness import VERSIONS, run_django
from tests.helpers import REPO, run_cli, write_project

pytestmark = pytest.mark.slow

MODELS = """\
    from django.db import models


    class Company(models.Model):
        name = models.CharField(max_length=50)


    class Address(models.Model):
        company = models.ForeignKey(Company, on_delete=models.CASCADE, unique=True)
        street = models.CharField(max_length=50)
    """

HEADER = '''
import sys
sys.path.insert(0, {project!r})
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["companies"],
    DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {database!r}}}}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()
import io, json
from django.core.management import call_command


def command(*args):
    """(exit status, output) of a management command."""
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=out)
    except SystemExit as exit:
        return exit.code, out.getvalue()
    return 0, out.getvalue()
'''

SETUP = '''
print("RESULT " + json.dumps({
    "makemigrations": command("makemigrations", "companies"),
    "migrate": command("migrate"),
}))
from companies.models import Address, Company
acme = Company.objects.create(name="Acme")
Address.objects.create(company=acme, street="1 Main St")
'''

CHECK = '''
result = {
    "check": command("makemigrations", "--check", "--dry-run", "companies"),
    "migrate": command("migrate"),
    "sqlmigrate": command("sqlmigrate", "companies", "0002"),
}
from companies.models import Company
result["address"] = Company.objects.get(name="Acme").address.street
print("RESULT " + json.dumps(result))
'''


def django(project: Path, script: str, version: str) -> dict:
    header = HEADER.format(project=str(project), database=str(project / "db.sqlite3"))
    result = run_django(project, [], header + script, version=version, setup=False)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def recommended_migration() -> str:
    """The state-only migration, as the rule page shows it."""
    page = (REPO / "docs" / "rules" / "OTO001.md").read_text()
    section = page.split("### Migration\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"^```python\n(.*?)^```$", section, flags=re.M | re.S)[1]


def statements(sql: str) -> list[str]:
    """The SQL statements ``sqlmigrate`` printed, without comments and the transaction."""
    lines = [line.strip() for line in sql.splitlines()]
    return [line for line in lines if line and not line.startswith("--") and line not in ("BEGIN;", "COMMIT;")]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_recommended_migration_is_state_only(tmp_path: Path, version: str) -> None:
    project = write_project(tmp_path / "project", {"companies/models.py": MODELS})
    (project / "companies" / "migrations").mkdir()
    (project / "companies" / "migrations" / "__init__.py").touch()
    setup = django(project, SETUP, version)
    assert setup["makemigrations"][0] == 0
    assert (project / "companies" / "migrations" / "0001_initial.py").is_file()

    fixed = run_cli("--no-cache", "--select", "OTO001", "--fix", ".", cwd=project)
    assert "Fixed 1 finding." in fixed.stdout, fixed.stdout + fixed.stderr
    assert "Next (OTO001): a ForeignKey turned into a OneToOneField needs a migration" in fixed.stdout
    assert "SeparateDatabaseAndState" in fixed.stdout
    assert "models.OneToOneField(Company, on_delete=models.CASCADE)" in (project / "companies" / "models.py").read_text()

    # (a) Django wants a migration, and the one it would write rebuilds the table.
    generated = project.parent / "generated"
    shutil.copytree(project, generated)
    status, output = django(generated, 'print("RESULT " + json.dumps(command("makemigrations", "--check", "--dry-run")))',
                            version)
    assert status == 1, output
    assert re.search(r"Alter field company on address", output, flags=re.I), output
    plain = django(generated, 'command("makemigrations", "companies")\n' + CHECK, version)
    assert plain["check"] == [0, "No changes detected in app 'companies'\n"]
    assert plain["migrate"][0] == 0
    assert any(s.startswith('CREATE TABLE "new__companies_address"') for s in statements(plain["sqlmigrate"][1]))
    assert plain["address"] == "1 Main St"

    # (b) The page's migration: nothing missing afterwards, applied, and no SQL at all.
    (project / "companies" / "migrations" / "0002_address_one_to_one.py").write_text(recommended_migration())
    after = django(project, CHECK, version)
    assert after["check"] == [0, "No changes detected in app 'companies'\n"]
    assert after["migrate"][0] == 0
    assert "Applying companies.0002_address_one_to_one... OK" in after["migrate"][1]
    assert after["sqlmigrate"][0] == 0
    assert statements(after["sqlmigrate"][1]) == [], after["sqlmigrate"][1]
    assert after["address"] == "1 Main St"  # the row is kept, and company.address is the object
