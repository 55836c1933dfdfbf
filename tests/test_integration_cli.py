"""Rule docs at the command line, configuration (extend-select, target-version auto) and
standard input as editors use it: each through the real command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from o2o_lint.config import lowest_allowed
from o2o_lint.rules import all_rules
from tests.helpers import REPO, run_cli, write_project

MODELS = (
    "from django.db import models\n\n"
    "class Company(models.Model):\n    pass\n\n"
    "class Invoice(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"
)
USES = "def count(company):\n    return company.invoice_set.count()\n"


# -- --explain and --list-rules ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("code", sorted(all_rules()))
def test_explain_prints_the_rule_page(tmp_path: Path, code: str) -> None:
    result = run_cli("--explain", code, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == (REPO / "docs" / "rules" / f"{code}.md").read_text()


@pytest.mark.slow
def test_explain_accepts_names_and_lowercase_and_rejects_unknown_codes(tmp_path: Path) -> None:
    page = (REPO / "docs" / "rules" / "OTO001.md").read_text()
    assert run_cli("--explain", "foreign-key-unique", cwd=tmp_path).stdout == page
    assert run_cli("--explain", "oto001", cwd=tmp_path).stdout == page
    assert run_cli("--explain", "OTO000", cwd=tmp_path).stdout.startswith("# OTO000: syntax-or-io-error")
    unknown = run_cli("--explain", "OTO999", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown rule 'OTO999'" in unknown.stderr


def test_list_rules(tmp_path: Path) -> None:
    result = run_cli("--list-rules", cwd=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["code", "name", "fix", "summary"]
    codes = [line.split()[0] for line in lines[1:]]
    assert codes == ["OTO000", *sorted(all_rules())]
    for code, rule in all_rules().items():
        row = next(line for line in lines if line.startswith(code))
        assert row.split()[1:3] == [rule.name, rule.fixable]
    assert "[opt-in: --extend-select OTO100]" in next(line for line in lines if line.startswith("OTO100"))
    rows = json.loads(run_cli("--list-rules", "--output-format", "json", cwd=tmp_path).stdout)
    assert {row["code"]: row["fix"] for row in rows}["OTO001"] == "sometimes"


# -- configuration -----------------------------------------------------------------------------------


def _show(root: Path, *args: str) -> dict[str, Any]:
    """--show-settings read as TOML, with the configuration file (a comment) and the output."""
    result = run_cli("--show-settings", *args, ".", cwd=root)
    assert result.returncode == 0, result.stderr
    shown = tomllib.loads(result.stdout)
    shown["configuration file"] = result.stdout.splitlines()[1].split(": ", 1)[1]
    shown["output"] = result.stdout
    return shown


def test_extend_select_and_the_other_keys_from_setup_cfg(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"app/models.py": MODELS})
    (root / "setup.cfg").write_text(
        "[o2o-lint]\nselect = OTO001\nextend-select = OTO004,OTO100\nignore = OTO002\n"
        "per-file-ignores =\n    tests/*: OTO001\nforeign-key-classes = app.fields.FlexibleForeignKey\n"
        "model-base-classes = app.base.Model\ntarget-version = 4.2\nextend-exclude = legacy\n"
    )
    shown = _show(root)
    assert shown["configuration file"] == str(root / "setup.cfg")
    assert shown["select"] == ["OTO001"] and shown["extend-select"] == ["OTO004", "OTO100"]
    assert shown["target-version"] == "4.2"
    assert shown["per-file-ignores"] == {"tests/*": ["OTO001"]}
    assert shown["foreign-key-classes"] == ["app.fields.FlexibleForeignKey"]
    assert _show(root, "--extend-select", "OTO003")["extend-select"] == ["OTO003"]


@pytest.mark.slow
@pytest.mark.parametrize(("files", "expected"), [
    ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["django-filter>=1", "Django[argon2]>=4.2,<6"]\n'}, "4.2"),
    ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.10"\ndjango = "^3.2"\n'}, "3.2"),
    ({"pyproject.toml": '[tool.poetry.dependencies]\nDjango = { version = "~4.1", extras = ["bcrypt"] }\n'}, "4.1"),
    ({"setup.cfg": "[options]\ninstall_requires =\n    requests\n    Django~=5.0.3\n"}, "5.0"),
    ({"requirements.txt": "Django==5.1.4  # pinned\n", "requirements-old.txt": "django>=4.2,<5\n"}, "4.2"),
    ({"requirements/base.txt": "-r common.txt\nDjango>=3.2.18 ; python_version >= '3.8'\n"}, "3.2"),
])
def test_target_version_auto_reads_the_django_requirement(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    root = write_project(tmp_path, {"app/models.py": MODELS})
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    shown = _show(root, "--target-version", "auto")
    assert shown["target-version"] == expected
    assert f'target-version = "{expected}"  # target-version auto: Django {expected}, the lowest that ' in shown["output"]
    assert run_cli("--target-version", "auto", ".", cwd=root).stderr.count("warning") == 0


def test_target_version_auto_in_the_configuration_and_without_a_requirement(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"app/models.py": MODELS})
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["Django>=4.0"]\n\n[tool.o2o-lint]\ntarget-version = "auto"\n')
    assert 'target-version = "4.0"  # target-version auto' in _show(root)["output"]
    (root / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["Django"]\n')
    result = run_cli("--target-version", "auto", ".", cwd=root)
    assert result.returncode == 1  # the run goes on, with the newest Django
    assert "o2o-lint: warning: target-version auto: no Django requirement with a lower bound" in result.stderr


def test_lowest_allowed_versions() -> None:
    assert lowest_allowed(">=3.2,!=4.0.*,<6") == (3, 2)
    assert lowest_allowed("<5") is None
    assert lowest_allowed(">=4.2 <5 || >=3.2,<4", poetry=True) == (3, 2)
    assert lowest_allowed("@ https://example.com/django.zip") is None


# -- standard input (editors) ------------------------------------------------------------------------


@pytest.mark.slow
def test_stdin_check_json_and_fix(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"app/models.py": MODELS, "app/services.py": USES})
    check = run_cli("-", "--stdin-filename", "app/services.py", cwd=root, stdin=USES)
    assert check.returncode == 1 and check.stdout.startswith("app/services.py:2:12: OTO004")
    rows = json.loads(run_cli("--output-format", "json", "-", "--stdin-filename", "app/models.py",
                              cwd=root, stdin=MODELS).stdout)
    assert rows[0]["fix"]["edits"][0]["content"] == "OneToOneField"  # computed from the buffer
    fixed = run_cli("--fix", "--unsafe-fixes", "-", "--stdin-filename", "app/models.py", cwd=root, stdin=MODELS)
    assert fixed.stdout == MODELS.replace("ForeignKey(Company, models.CASCADE, unique=True)",
                                          "OneToOneField(Company, models.CASCADE)")
    assert fixed.returncode == 0 and "Fixed 1 finding. No findings remain." in fixed.stderr
    # nothing to fix: the buffer comes back unchanged (an editor replaces its buffer with it)
    same = run_cli("--fix", "-", "--stdin-filename", "app/services.py", cwd=root, stdin=USES)
    assert same.stdout == USES and same.returncode == 1
    assert "app/services.py:2:12: OTO004" in same.stderr
    diff = run_cli("--diff", "--unsafe-fixes", "-", "--stdin-filename", "app/models.py", cwd=root, stdin=MODELS)
    assert diff.returncode == 1 and "+    company = models.OneToOneField(Company, models.CASCADE)" in diff.stdout


def test_help_names_every_option_of_the_readme(tmp_path: Path) -> None:
    help_text = run_cli("--help", cwd=tmp_path).stdout
    readme = (REPO / "README.md").read_text()
    for option in ("--output-format", "--format", "--output-file", "--statistics", "--add-noqa", "--explain",
                   "--list-rules", "--extend-select", "--target-version", "--stdin-filename", "--unsafe-fixes",
                   "--diff", "--fix", "--show-settings"):
        assert option in help_text and option in readme, option
