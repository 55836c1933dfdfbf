"""Every rule's VALID/INVALID snippets, run through the real engine (Fixit's idea).

A snippet is written as ``app/models.py`` of a throwaway project (with the case's
other files beside it), so the project-wide index sees it exactly as in real use.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from o2o_lint.rules.base import Invalid, Valid
from tests.helpers import engine_for_case, rule_cases


@pytest.mark.parametrize(("code", "case"), list(rule_cases("VALID")))
def test_valid_snippet_has_no_finding(tmp_path: Path, code: str, case: Valid) -> None:
    engine, path = engine_for_case(tmp_path, code, case)
    findings = engine.analyze(path, Path(path).read_text()).findings
    assert [f.as_text() for f in findings if f.code == code] == []


@pytest.mark.parametrize(("code", "case"), list(rule_cases("INVALID")))
def test_invalid_snippet_is_reported_and_fixed(tmp_path: Path, code: str, case: Invalid) -> None:
    engine, path = engine_for_case(tmp_path, code, case)
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
