"""Each fix as a LibCST codemod command, run with LibCST's own ``python -m libcst.tool``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import o2o_lint.codemods as codemods
from o2o_lint.rules import all_rules
from tests.helpers import run_cli, write_project

MODELS = (
    "from django.db import models\n\n"
    "class Company(models.Model):\n    pass\n\n"
    "class Address(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n\n"
    "class Invoice(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"
)
USES = "def count(company):\n    return company.invoice_set.count()  # noqa: OTO004\n\n\ndef name(c):\n    return c.name  # noqa: OTO004\n"


def libcst_tool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "libcst.tool", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_every_fixable_rule_has_a_command() -> None:
    for code, rule in all_rules().items():
        if rule.fixable == "never":
            assert not hasattr(codemods, code), code
            continue
        command = getattr(codemods, code)
        assert command.DESCRIPTION.startswith(f"o2o-lint {code}")
        if code != "OTO100":
            assert command is getattr(codemods, "".join(p.capitalize() for p in rule.name.split("-")) + "Command")


@pytest.mark.slow
def test_codemod_command_makes_the_same_change_as_fix(tmp_path: Path) -> None:
    by_codemod = write_project(tmp_path / "codemod", {"app/models.py": MODELS, "app/services.py": USES})
    by_cli = write_project(tmp_path / "cli", {"app/models.py": MODELS, "app/services.py": USES})
    result = libcst_tool("codemod", "-x", "o2o_lint.codemods.ForeignKeyUniqueCommand", "--no-format", "--hide-progress",
                         "app", cwd=by_codemod)
    assert result.returncode == 0, result.stderr
    assert "Transformed 1 files successfully." in result.stderr
    run_cli("--fix", "--select", "OTO001", ".", cwd=by_cli)
    assert (by_codemod / "app" / "models.py").read_text() == (by_cli / "app" / "models.py").read_text()
    assert (by_codemod / "app" / "models.py").read_text().count("OneToOneField") == 1  # the other fix is unsafe
    unsafe = libcst_tool("codemod", "-x", "o2o_lint.codemods.OTO001", "--no-format", "--hide-progress",
                         "app/models.py", "--unsafe-fixes", cwd=by_codemod)
    assert unsafe.returncode == 0, unsafe.stderr
    assert "ForeignKey" not in (by_codemod / "app" / "models.py").read_text()


@pytest.mark.slow
def test_codemods_from_a_libcst_configuration(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"app/models.py": MODELS, "app/services.py": USES})
    assert libcst_tool("initialize", ".", cwd=root).returncode == 0
    config = root / ".libcst.codemod.yaml"
    config.write_text(config.read_text().replace("- 'libcst.codemod.commands'", "- 'o2o_lint.codemods'"))
    listed = libcst_tool("list", cwd=root)
    assert "fixes.ForeignKeyUniqueCommand - o2o-lint OTO001 (foreign-key-unique)" in listed.stdout
    assert "fixes.UnusedNoqaCommand" in listed.stdout and "O2OLintFixCommand" not in listed.stdout
    result = libcst_tool("codemod", "fixes.UnusedNoqaCommand", "--no-format", "--hide-progress", "app", cwd=root)
    assert result.returncode == 0, result.stderr
    assert (root / "app" / "services.py").read_text() == USES.replace("c.name  # noqa: OTO004", "c.name")


@pytest.mark.slow
def test_codemod_reads_standard_input(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"app/models.py": MODELS, "app/services.py": USES})

    def codemod(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "libcst.tool", "codemod", "-x", "o2o_lint.codemods.FixAllCommand", "--no-format",
             "-", *args], cwd=root, input=MODELS, capture_output=True, text=True, timeout=300,
        )

    fixed = codemod("--stdin-filename", "app/models.py")  # an editor's buffer of app/models.py
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.count("OneToOneField") == 1  # Invoice's fix is unsafe: services.py uses invoice_set
    both = codemod("--stdin-filename", "app/models.py", "--unsafe-fixes")
    assert both.stdout.count("OneToOneField") == 2
    nothing = subprocess.run(
        [sys.executable, "-m", "libcst.tool", "codemod", "-x", "o2o_lint.codemods.OTO001", "--no-format", "-"],
        cwd=root, input=USES, capture_output=True, text=True, timeout=300,
    )
    assert nothing.returncode == 0 and nothing.stdout == USES + "\n"  # LibCST's print() adds a newline
