"""Every rule's VALID/INVALID snippets, run through the real engine (Fixit's idea).

A snippet is written as ``app/models.py`` of a throwaway project (with the case's
other files beside it), so the project-wide index sees it exactly as in real use.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from o2o_lint.rules import all_rules
from o2o_lint.rules.base import Invalid, Valid
from tests.helpers import engine_for, write_project

SNIPPET = "app/models.py"


def _cases(kind: str):
    for code, rule in all_rules().items():
        for number, case in enumerate(getattr(rule, kind)):
            if isinstance(case, str):
                case = Valid(case) if kind == "VALID" else Invalid(case)
            yield pytest.param(code, case, id=f"{code}-{kind.lower()}-{number}")


def _engine(tmp_path: Path, code: str, case: Valid | Invalid):
    write_project(tmp_path, {**case.files, SNIPPET: case.code})
    settings = {"select": (code,)}
    if case.target_version:
        settings["target_version"] = case.target_version
    return engine_for(tmp_path, **settings), str(tmp_path / SNIPPET)


@pytest.mark.parametrize(("code", "case"), list(_cases("VALID")))
def test_valid_snippet_has_no_finding(tmp_path: Path, code: str, case: Valid) -> None:
    engine, path = _engine(tmp_path, code, case)
    findings = engine.analyze(path, Path(path).read_text()).findings
    assert [f.as_text() for f in findings if f.code == code] == []


@pytest.mark.parametrize(("code", "case"), list(_cases("INVALID")))
def test_invalid_snippet_is_reported_and_fixed(tmp_path: Path, code: str, case: Invalid) -> None:
    engine, path = _engine(tmp_path, code, case)
    source = Path(path).read_text()
    findings = [f for f in engine.analyze(path, source).findings if f.code == code]
    assert findings, f"{code} reported nothing"
    for finding, expected in zip(findings, case.expected_messages):
        assert expected in finding.message
    if case.expected_messages:
        assert len(findings) == len(case.expected_messages), [f.message for f in findings]
    fixes = [f.fix for f in findings if f.fix is not None]
    if case.expected_fix is None:
        assert fixes == [], "a fix is offered but the case expects none"
        return
    assert fixes, "the case expects a fix but none is offered"
    assert all(fix.safe is (not case.unsafe) for fix in fixes), [(f.description, f.safe) for f in fixes]
    if case.unsafe:
        assert engine.fix(path, source, unsafe=False).text == source, "an unsafe fix was applied without --unsafe-fixes"
    fixed = engine.fix(path, source, unsafe=case.unsafe).text
    expected = textwrap.dedent(case.expected_fix)
    assert fixed == expected
    ast.parse(fixed)
    assert engine.fix(path, fixed, unsafe=True, fresh_facts=True).text == fixed, "fix is not idempotent"
