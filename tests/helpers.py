"""Build throwaway projects and run the real engine on them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from o2o_lint.config import Settings
from o2o_lint.engine import Engine
from o2o_lint.findings import Finding
from o2o_lint.index.build import build_index
from o2o_lint.rules import all_rules
from o2o_lint.rules.base import Invalid, Valid

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


#: Where a rule case's snippet is written in its throwaway project.
SNIPPET = "app/models.py"


def rule_cases(*kinds: str):
    """Every rule's VALID and/or INVALID snippets, as pytest params ``(code, case)``."""
    for code, rule in all_rules().items():
        for kind in kinds:
            for number, case in enumerate(getattr(rule, kind)):
                if isinstance(case, str):
                    case = Valid(case) if kind == "VALID" else Invalid(case)
                yield pytest.param(code, case, id=f"{code}-{kind.lower()}-{number}")


def engine_for_case(root: Path, code: str, case: Valid | Invalid, source: str | None = None) -> tuple[Engine, str]:
    """An engine selecting *code* on a project holding the case (its snippet as
    ``app/models.py``, or *source* instead), and the snippet's path."""
    write_project(root, {**case.files, SNIPPET: case.code if source is None else source})
    settings: dict[str, object] = {"select": (code,)}
    if case.target_version:
        settings["target_version"] = case.target_version
    return engine_for(root, **settings), str(root / SNIPPET)


def record_libcst_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text handed to ``libcst.parse_module`` from now on, in order."""
    parsed: list[str] = []
    real_parse = cst.parse_module

    def recording_parse(text: str, *args: object, **kwargs: object) -> cst.Module:
        parsed.append(text)
        return real_parse(text, *args, **kwargs)

    monkeypatch.setattr(cst, "parse_module", recording_parse)
    return parsed


def lint_file(root: Path, relative: str, **settings: object) -> list[Finding]:
    path = root / relative
    return engine_for(root, **settings).analyze(str(path), path.read_text()).findings


def run_cli(*args: str, cwd: Path | str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "o2o_lint", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})}, timeout=300,
    )
