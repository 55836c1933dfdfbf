"""What is left to do after a fix: ``--fix`` says it once, ``--explain`` says it in full.

OTO001's conversion needs a migration; the run that writes it tells the user to run
``makemigrations`` and points at the zero-cost form the rule page shows (verified on
real Django in ``tests/django/test_oto001_migration_django.py``).
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_cli, write_project

MODELS = """\
    from django.db import models


    class Company(models.Model):
        pass


    class Address(models.Model):
        company = models.ForeignKey(Company, models.CASCADE, unique=True)
    """


def test_fix_tells_to_make_the_migration_once(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": MODELS, "shop/models.py": MODELS.replace("Address", "Shop")})
    fixed = run_cli("--no-cache", "--fix", ".", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    lines = fixed.stdout.splitlines()
    assert lines[:3] == ["Fixed in 2 files:", "  app/models.py: 1 × OTO001", "  shop/models.py: 1 × OTO001"]
    [step] = [line for line in lines if line.startswith("Next (OTO001): ")]
    assert "run `python manage.py makemigrations`" in step
    assert "PostgreSQL drops and re-adds the foreign key constraint" in step and "SQLite rebuilds the table" in step
    assert "migrations.SeparateDatabaseAndState(state_operations=[...])" in step
    assert "`o2o-lint --explain OTO001`" in step
    assert lines[-1] == "Fixed 2 findings. No findings remain."
    # nothing converted, nothing to migrate
    again = run_cli("--no-cache", "--fix", ".", cwd=tmp_path)
    assert "Next (" not in again.stdout + again.stderr


def test_no_next_step_when_the_fix_is_not_written(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": MODELS})
    for args in (("--diff",), ("--fix", "--quiet"), ()):
        result = run_cli("--no-cache", *args, ".", cwd=tmp_path)
        assert "Next (" not in result.stdout + result.stderr, args


def test_fix_on_standard_input_says_it_on_standard_error(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": MODELS})
    source = (tmp_path / "app" / "models.py").read_text()
    result = run_cli("--no-cache", "--fix", "-", "--stdin-filename", "app/models.py", cwd=tmp_path, stdin=source)
    assert "models.OneToOneField(Company, models.CASCADE)" in result.stdout
    assert "Next (" not in result.stdout
    assert "Next (OTO001): a ForeignKey turned into a OneToOneField needs a migration" in result.stderr


def test_explain_shows_the_migration_and_its_zero_cost_form(tmp_path: Path) -> None:
    result = run_cli("--explain", "OTO001", cwd=tmp_path)
    assert result.returncode == 0
    page = result.stdout
    migration = page.split("### Migration\n", 1)[1]
    assert "run `python manage.py makemigrations`" in migration
    assert "PostgreSQL drops and re-adds" in migration and "SQLite rebuilds the whole table" in migration
    assert "migrations.SeparateDatabaseAndState(\n            state_operations=[\n" in migration
    assert "`sqlmigrate` shows that it runs no SQL" in migration
