"""A non-editable install (``pip install .``) carries everything the CLI needs, the rule
pages for ``--explain`` included; the package list in pyproject.toml stays complete."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import pytest

from tests.helpers import REPO

PACKAGE = REPO / "o2o_lint"


def test_pyproject_lists_every_package() -> None:
    """Packages are listed, not found (the rule pages are a mapped package): a new
    subpackage missing from the list would be missing from the wheel."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {
        ".".join(path.parent.relative_to(REPO).parts)
        for path in PACKAGE.rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert found | {"o2o_lint._rule_docs"} == set(config["packages"])
    assert config["package-dir"] == {"o2o_lint._rule_docs": "docs/rules"}


@pytest.mark.slow
def test_wheel_ships_the_rule_pages_and_explain_reads_them(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "setup.cfg", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(PACKAGE, source / "o2o_lint", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "docs" / "rules", source / "docs" / "rules")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("o2o_lint-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        pages = {Path(n).name for n in names if n.startswith("o2o_lint/_rule_docs/")}
        assert pages == {p.name for p in (REPO / "docs" / "rules").glob("*.md")}
        assert "o2o_lint/codemods/fixes.py" in names
        archive.extractall(tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    where = subprocess.run([sys.executable, "-c", "import o2o_lint; print(o2o_lint.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert where.stdout.strip() == str(tmp_path / "site" / "o2o_lint" / "__init__.py")
    explain = subprocess.run([sys.executable, "-m", "o2o_lint", "--explain", "OTO001"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert explain.returncode == 0, explain.stderr
    assert explain.stdout == (REPO / "docs" / "rules" / "OTO001.md").read_text()
