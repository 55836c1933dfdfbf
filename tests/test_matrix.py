"""The suite's runner on every supported Python (``tests/matrix.py``): CI runs the README's
test command, and a missing interpreter is an error naming what to install."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests import django_harness, matrix
from tests.helpers import REPO


def _readme_test_command() -> str:
    block = re.search(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert block
    lines = block.group(1).splitlines()
    assert len(lines) == 2
    return lines[1]


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    command = _readme_test_command()
    assert command.endswith(".venv/bin/python tests/matrix.py")
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == command
    assert command in (REPO / "README.md").read_text().split("## Development", 1)[1]


def test_the_matrix_covers_every_supported_python() -> None:
    assert matrix.PYTHONS == ("3.10", "3.11", "3.12", "3.13")
    # each Django line of the real-Django tests has a Python of the matrix it supports
    for version in django_harness.VERSIONS:
        low, high = django_harness.PYTHONS[version]
        assert [p for p in matrix.PYTHONS if low <= tuple(map(int, p.split("."))) <= high], version


def test_this_python_is_found_as_itself() -> None:
    assert matrix.find_python(matrix.this_python()) == sys.executable


def test_a_missing_python_is_an_error_naming_it_and_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(django_harness, "_candidate_interpreters", lambda: [])
    with pytest.raises(matrix.MatrixError, match=r"Python 3\.99 was not found .*`pyenv install 3\.99`"):
        matrix.find_python("3.99")


def test_a_missing_python_fails_the_install_before_anything_is_installed(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(matrix, "PYTHONS", (matrix.this_python(), "3.99"))
    monkeypatch.setattr(django_harness, "_candidate_interpreters", lambda: [])
    monkeypatch.setattr(django_harness, "main", lambda argv: pytest.fail("installed before checking interpreters"))
    assert matrix.main(["install"]) == 1
    assert "error: Python 3.99 was not found" in capsys.readouterr().err


def test_running_without_the_installs_says_how_to_make_them(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(matrix, "VENVS", tmp_path)
    monkeypatch.setattr(matrix, "PYTHONS", (matrix.this_python(), "3.99"))
    assert matrix.main(["run"]) == 1
    assert "no virtualenv for Python 3.99: run `python tests/matrix.py install` first" in capsys.readouterr().err
