"""Build throwaway projects and run the real engine on them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from o2o_lint.config import Settings
from o2o_lint.engine import Engine
from o2o_lint.findings import Finding
from o2o_lint.index.build import build_index

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write *files* (path -> source) under *root* as a project with packages."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "manage.py").write_text("")
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        directory = path.parent
        while directory != root:
            (directory / "__init__.py").touch(exist_ok=True)
            directory = directory.parent
        path.write_text(textwrap.dedent(source))
    return root


def engine_for(root: Path, **settings: object) -> Engine:
    configured = Settings(use_cache=False).with_overrides(**settings)
    return Engine(build_index([str(root)], configured), configured, root=str(root))


def lint_file(root: Path, relative: str, **settings: object) -> list[Finding]:
    path = root / relative
    return engine_for(root, **settings).analyze(str(path), path.read_text()).findings


def run_cli(*args: str, cwd: Path | str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "o2o_lint", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})}, timeout=300,
    )
