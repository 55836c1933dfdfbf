"""Build throwaway projects and run the real engine on them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import replace
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


#: A case id: short, kebab-case, starting with a letter (never taken for a position).
CASE_ID = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def snippet(text: str) -> str:
    """A case's source as written to its file: a triple-quoted snippet loses the newline
    right after its opening quotes and the indentation it shares with the rule's code."""
    return textwrap.dedent(text[1:] if text.startswith("\n") else text)


def plain_case(kind: str, case: str | Valid | Invalid) -> Valid | Invalid:
    """*case* of a rule's VALID or INVALID list as a dataclass with plain sources."""
    if isinstance(case, str):
        case = Valid(case) if kind == "VALID" else Invalid(case)
    files = {path: snippet(source) for path, source in case.files.items()}
    if isinstance(case, Invalid) and case.expected_fix is not None:
        return replace(case, code=snippet(case.code), files=files, expected_fix=snippet(case.expected_fix))
    return replace(case, code=snippet(case.code), files=files)


def check_case_ids(code: str, rule: type) -> None:
    """Raise ValueError unless every id among *rule*'s VALID and INVALID cases is short
    kebab-case (40 characters at most) and used once."""
    seen: set[str] = set()
    for kind in ("VALID", "INVALID"):
        for number, case in enumerate(getattr(rule, kind)):
            case_id = None if isinstance(case, str) else case.id
            if case_id is None:
                continue
            if not CASE_ID.fullmatch(case_id) or len(case_id) > 40:
                raise ValueError(f"{code} {kind}[{number}]: id {case_id!r} is not short kebab-case")
            if case_id in seen:
                raise ValueError(f"{code} {kind}[{number}]: id {case_id!r} is used twice")
            seen.add(case_id)


def rule_cases(*kinds: str):
    """Every rule's VALID and/or INVALID snippets, as pytest params ``(code, case)``, each
    with its case's id (``OTO001-valid-plain-foreign-key``) or position (``OTO001-valid-0``)."""
    for code, rule in all_rules().items():
        check_case_ids(code, rule)
        for kind in kinds:
            for number, raw in enumerate(getattr(rule, kind)):
                case = plain_case(kind, raw)
                name = case.id if case.id is not None else str(number)
                yield pytest.param(code, case, id=f"{code}-{kind.lower()}-{name}")


def engine_for_case(root: Path, code: str, case: Valid | Invalid, source: str | None = None) -> tuple[Engine, str]:
    """An engine selecting *code* on a project holding the case (its snippet as
    ``app/models.py``, or *source* instead), and the snippet's path."""
    where = case.path or SNIPPET
    write_project(root, {**case.files, where: case.code if source is None else source})
    settings: dict[str, object] = {"select": (code,)}
    if case.target_version:
        settings["target_version"] = case.target_version
    return engine_for(root, **settings), str(root / where)


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


def line_of(source: str, text: str) -> int:
    """The line of *source* holding *text* (which occurs there once)."""
    lines = [number for number, line in enumerate(source.splitlines(), 1) if text in line]
    assert len(lines) == 1, (text, lines)
    return lines[0]
