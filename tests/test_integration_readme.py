"""The README's ways to run o2o-lint work as written: its command list runs for real on a
small project (the GitHub Actions workflow: tests/test_action.py)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, write_project

README = (REPO / "README.md").read_text()
MODELS = (
    "from django.db import models\n\n"
    "class Company(models.Model):\n    pass\n\n"
    "class Invoice(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"
)
USES = "def count(company):\n    return company.invoice_set.count()\n"
BIN = Path(sys.executable).parent


def _block(after: str, language: str) -> str:
    start = README.index(after)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(README, start)
    assert match, after
    return match.group(1)


def _shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_every_command_of_the_usage_list_runs(tmp_path: Path) -> None:
    ran = []
    for line in _block("## Usage", "sh").splitlines():
        command = line.split("  #")[0].strip()
        if not command or command.startswith("pre-commit"):  # the hooks: tests/test_precommit.py
            continue
        root = write_project(tmp_path / str(len(ran)), {"app/models.py": MODELS, "app/services.py": USES})
        result = _shell(command, root)
        assert result.returncode in (0, 1), (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, command
        ran.append(shlex.split(command)[0])
    assert {"o2o-lint", "flake8", "python"} <= set(ran) and len(ran) >= 15


# The GitHub Actions workflow runs through the action's own steps: tests/test_action.py.


def test_pre_commit_snippet_names_the_shipped_hooks() -> None:
    snippet = yaml.safe_load(_block("### pre-commit", "yaml"))
    hooks = {hook["id"] for hook in snippet["repos"][0]["hooks"]}
    shipped = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks == shipped == {"o2o-lint", "o2o-lint-fix"}
