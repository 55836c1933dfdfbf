"""The CLI as users run it: fixing, output formats, stdin, configuration, cache, jobs."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import libcst as cst
import pytest

from o2o_lint.engine import Engine
from o2o_lint.findings import Fix
from o2o_lint.rules.visitor import LintRule
from tests.helpers import engine_for, run_cli, write_project

MODELS = (
    "from django.db import models\n\n"
    "class Company(models.Model):\n    pass\n\n"
    "class Address(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n\n"
    "class Invoice(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"
)
USES = "def count(company):\n    return company.invoice_set.count()\n"


def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, {"app/models.py": MODELS, "app/services.py": USES})


@pytest.mark.slow
def test_fix_applies_safe_fixes_keeps_mode_and_reports_what_remains(tmp_path: Path) -> None:
    project(tmp_path)
    models = tmp_path / "app" / "models.py"
    models.chmod(0o640)
    result = run_cli("--fix", ".", cwd=tmp_path)
    assert result.returncode == 1  # the unsafe OTO001 and its OTO004 use remain
    assert "Fixed 1 finding." in result.stdout
    assert "1 fixable with --fix --unsafe-fixes" in result.stdout
    text = models.read_text()
    assert "company = models.OneToOneField(Company, models.CASCADE)\n\nclass Invoice" in text
    assert "models.ForeignKey(Company, models.CASCADE, unique=True)" in text
    assert stat.S_IMODE(models.stat().st_mode) == 0o640
    assert not [p for p in (tmp_path / "app").iterdir() if p.name.startswith(".o2o-lint-")]
    # A second run changes nothing and offers no safe fix.
    again = run_cli("--fix", ".", cwd=tmp_path)
    assert "Fixed 0 findings." in again.stdout and models.read_text() == text
    unsafe = run_cli("--fix", "--unsafe-fixes", ".", cwd=tmp_path)
    assert "Fixed 1 finding." in unsafe.stdout
    assert unsafe.returncode == 1  # OTO004 has no fix
    assert "ForeignKey" not in models.read_text()


def test_fix_exits_zero_when_everything_was_fixed(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": MODELS})
    result = run_cli("--fix", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "Fixed 2 findings. No findings remain." in result.stdout


ONE_TO_ONE = (
    "from django.db import models\n\n\nclass Owner(models.Model):\n    pass\n\n\n"
    "class Profile(models.Model):\n    owner = models.OneToOneField(Owner, models.CASCADE)\n"
)
WRITER = "from app.models import Profile\n\n\ndef ensure_profile(owner):\n    Profile.objects.get_or_create(owner_id=owner.pk)\n"
CALLER = ("from app.services import ensure_profile\n\n\ndef login(owner):\n"
          "    if not hasattr(owner, 'profile'):\n        ensure_profile(owner)\n    return owner.profile\n")


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fixing_a_writer_settles_its_callers_findings_in_the_same_run(tmp_path: Path, jobs: str) -> None:
    # OTO002 reports the caller (fix it there) and fixes the writer in its own file
    write_project(tmp_path, {"app/models.py": ONE_TO_ONE, "app/services.py": WRITER, "app/views.py": CALLER})
    before = run_cli(".", cwd=tmp_path)
    assert before.returncode == 1 and "app/views.py:6" in before.stdout and "app/services.py:5" in before.stdout
    fixed = run_cli("--fix", "--jobs", jobs, ".", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout
    assert "Fixed 1 finding. No findings remain." in fixed.stdout
    assert "owner.profile, _ = Profile.objects.get_or_create" in (tmp_path / "app/services.py").read_text()
    assert (tmp_path / "app/views.py").read_text() == CALLER


@pytest.mark.slow
def test_a_converted_field_is_followed_by_the_fixes_it_makes_possible(tmp_path: Path) -> None:
    # hasattr(company, 'address') means nothing for a ForeignKey(unique=True) (its accessor
    # is address_set); once OTO001 makes it a OneToOneField, OTO002 applies in views.py
    models = MODELS.split("class Invoice")[0]
    views = ("from app.models import Address\n\n\ndef ensure_address(company):\n"
             "    if not hasattr(company, 'address'):\n        Address.objects.create(company_id=company.pk)\n"
             "    return company.address\n")
    write_project(tmp_path, {"app/models.py": models, "app/views.py": views})
    fixed = run_cli("--fix", ".", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout
    assert "app/models.py: 1 × OTO001" in fixed.stdout and "app/views.py: 1 × OTO002" in fixed.stdout
    text = (tmp_path / "app/views.py").read_text()
    assert "        company.address = Address.objects.create(company_id=company.pk)\n" in text
    again = run_cli("--fix", ".", cwd=tmp_path)  # a second run changes nothing
    assert again.returncode == 0 and (tmp_path / "app/views.py").read_text() == text


def test_uses_an_unsafe_conversion_broke_stay_reported(tmp_path: Path) -> None:
    project(tmp_path)
    result = run_cli("--fix", "--unsafe-fixes", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert "app/services.py:2:12: OTO004" in result.stdout  # company.invoice_set no longer exists


def test_json_output(tmp_path: Path) -> None:
    project(tmp_path)
    result = run_cli("--format", "json", ".", cwd=tmp_path)
    records = json.loads(result.stdout)
    assert [(r["path"], r["line"], r["column"], r["code"]) for r in records] == [
        ("app/models.py", 7, 15, "OTO001"),
        ("app/models.py", 10, 15, "OTO001"),
        ("app/services.py", 2, 12, "OTO004"),
    ]
    first_fix = {key: records[0]["fix"][key] for key in ("safe", "description")}  # later keys: test_output_formats
    assert first_fix == {"safe": True, "description": "Use OneToOneField instead of ForeignKey(unique=True)"}
    assert records[1]["fix"]["safe"] is False
    assert records[2]["fix"] is None
    assert result.stderr.startswith("Found 3 findings")


def test_statistics(tmp_path: Path) -> None:
    project(tmp_path)
    result = run_cli("--statistics", ".", cwd=tmp_path)
    assert result.returncode == 1
    # safe and unsafe fixes counted apart; only the statistics, not the findings (as ruff)
    assert result.stdout.splitlines() == [
        "     2  OTO001  foreign-key-unique  (2 fixable: 1 safe, 1 unsafe)",
        "     1  OTO004  reverse-manager-of-unique-foreign-key  (0 fixable)",
        "Found 3 findings in 4 files checked (1 fixable with --fix, 1 more with --fix --unsafe-fixes).",
    ]
    assert run_cli("--statistics", "-q", ".", cwd=tmp_path).stdout.count("\n") == 2


@pytest.mark.slow
def test_stdin_uses_the_index_of_the_project_the_file_belongs_to(tmp_path: Path) -> None:
    project(tmp_path)
    result = run_cli("-", "--stdin-filename", "app/other.py", cwd=tmp_path, stdin=USES)
    assert result.stdout.startswith("app/other.py:2:12: OTO004 `invoice_set`")
    fixed = run_cli("-", "--fix", "--stdin-filename", "app/models.py", cwd=tmp_path, stdin=MODELS)
    assert fixed.stdout.count("OneToOneField") == 1  # Invoice's fix is unsafe


@pytest.mark.slow
def test_configuration_from_pyproject(tmp_path: Path) -> None:
    project(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.o2o-lint]\nignore = ["OTO004"]\n')
    result = run_cli("--format", "json", ".", cwd=tmp_path)
    assert {r["code"] for r in json.loads(result.stdout)} == {"OTO001"}
    (tmp_path / "pyproject.toml").write_text('[tool.o2o-lint]\nper-file-ignores = { "app/models.py" = ["OTO001"] }\n')
    result = run_cli("--format", "json", ".", cwd=tmp_path)
    assert {r["code"] for r in json.loads(result.stdout)} == {"OTO004"}
    (tmp_path / "pyproject.toml").write_text('[tool.o2o-lint]\nbogus = 1\n')
    result = run_cli(".", cwd=tmp_path)
    assert result.returncode == 2 and "unknown configuration key 'bogus'" in result.stderr


def test_usage_errors_exit_two(tmp_path: Path) -> None:
    assert run_cli("--fix", "--diff", ".", cwd=tmp_path).returncode == 2
    assert run_cli("--no-such-option", cwd=tmp_path).returncode == 2
    assert run_cli("--target-version", "five", ".", cwd=tmp_path).returncode == 2


@pytest.mark.slow
def test_cached_uncached_and_parallel_runs_agree(tmp_path: Path) -> None:
    project(tmp_path)
    for number in range(12):
        (tmp_path / "app" / f"mod{number}.py").write_text(USES if number % 3 == 0 else "x = 1\n")
    runs = [
        run_cli("--format", "json", "--no-cache", ".", cwd=tmp_path).stdout,
        run_cli("--format", "json", ".", cwd=tmp_path).stdout,  # cold cache
        run_cli("--format", "json", ".", cwd=tmp_path).stdout,  # warm cache
        run_cli("--format", "json", "--jobs", "2", ".", cwd=tmp_path).stdout,
        run_cli("--format", "json", "--jobs", "0", "--no-cache", ".", cwd=tmp_path).stdout,
    ]
    assert (tmp_path / ".o2o-lint-cache").is_dir()
    assert len(json.loads(runs[0])) == 7
    assert all(run == runs[0] for run in runs)


class _BreaksSyntax(LintRule):
    code = "OTO999"
    name = "breaks-syntax"
    summary = "test double that produces an unparsable fix"

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "target":
            broken = cst.Name("if")  # a valid identifier node, a keyword in the output
            self.report(node, "bad", Fix("break it", True, {node: broken}, span=self.span_of(node)))


def test_a_fix_that_does_not_parse_is_never_returned(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": "target = 1\n"})
    engine: Engine = engine_for(tmp_path)
    engine.rules = [_BreaksSyntax]
    outcome = engine.fix(str(tmp_path / "app/models.py"), "target = 1\n")
    assert outcome.text == "target = 1\n"
    assert outcome.error and "does not parse" in outcome.error


def test_fix_never_writes_through_a_symlink_leaving_the_project(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "models.py").write_text(MODELS)
    inside = write_project(tmp_path / "proj", {"app/__init__.py": ""})
    os.symlink(outside / "models.py", inside / "app" / "models.py")
    result = run_cli("--fix", ".", cwd=inside)
    assert "symlink to outside the project" in result.stdout
    assert (outside / "models.py").read_text() == MODELS
    assert result.returncode == 1


@pytest.mark.parametrize("comment", ["# NOQA", "# noqa: OTO000", "# flake8: noqa"])
def test_a_noqa_comment_never_hides_a_file_that_could_not_be_checked(tmp_path: Path, comment: str) -> None:
    # Django's own tests/test_runner_apps/tagged/tests_syntax_error.py ends `1syntax_error  # NOQA`
    project = write_project(tmp_path, {"app/broken.py": f"x = 1\n1syntax_error  {comment}\n"})
    for extra in ([], ["--no-cache"]):
        result = run_cli(*extra, "app", cwd=project)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "app/broken.py:2:1: OTO000 cannot parse" in result.stdout
        assert "1 file could not be checked (OTO000)" in result.stdout
