"""Every rule's VALID/INVALID snippets, run through the real engine (Fixit's idea).

A snippet is written as ``app/models.py`` of a throwaway project (with the case's
other files beside it), so the project-wide index sees it exactly as in real use.
Each test is named by its case's ``id`` (``OTO001-invalid-primary-key``), or by its
position in the list for a case without one.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from o2o_lint.findings import PARSE_ERROR_CODE
from o2o_lint.rules.base import Invalid, Valid
from tests.helpers import check_case_ids, engine_for_case, rule_cases


@pytest.mark.parametrize(("code", "case"), list(rule_cases("VALID")))
def test_valid_snippet_has_no_finding(tmp_path: Path, code: str, case: Valid) -> None:
    engine, path = engine_for_case(tmp_path, code, case)
    findings = engine.analyze(path, Path(path).read_text()).findings
    assert [f.as_text() for f in findings if f.code in (code, PARSE_ERROR_CODE)] == []


@pytest.mark.parametrize(("code", "case"), list(rule_cases("INVALID")))
def test_invalid_snippet_is_reported_and_fixed(tmp_path: Path, code: str, case: Invalid) -> None:
    engine, path = engine_for_case(tmp_path, code, case)
    source = Path(path).read_text()
    findings = [f for f in engine.analyze(path, source).findings if f.code == code]
    assert findings, f"{code} reported nothing"
    if case.range is not None:
        first = findings[0]
        where = (first.line, first.column, first.end_line, first.end_column)
        assert where == case.range, f"first finding at {where}, expected at {case.range}: {first.message}"
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


class _Rule:
    VALID = [Valid("x = 1\n", id="plain"), "y = 2\n"]
    INVALID = [Invalid("z = 3\n", id="plain")]


def test_case_ids_must_be_unique_per_rule_and_kebab_case() -> None:
    with pytest.raises(ValueError, match="'plain' is used twice"):
        check_case_ids("OTO999", _Rule)
    for bad in ("Plain", "with space", "3", "snake_case", "x" * 41):
        rule = type("Rule", (), {"VALID": [Valid("x = 1\n", id=bad)], "INVALID": []})
        with pytest.raises(ValueError, match="not short kebab-case"):
            check_case_ids("OTO999", rule)
    check_case_ids("OTO999", type("Rule", (), {"VALID": _Rule.VALID, "INVALID": []}))


#: Rules whose cases are written as documentation: every case named, every finding placed.
DOCUMENTED_CASES = ("OTO001", "OTO002", "OTO003", "OTO004", "OTO100")


def test_snippets_are_plain_sources_and_named_by_id() -> None:
    params = {param.id: param.values for param in rule_cases("VALID", "INVALID")}
    for name, (code, case) in params.items():
        assert not case.code.startswith("\n") and textwrap.dedent(case.code) == case.code, name
        if code in DOCUMENTED_CASES:
            assert case.id is not None and name.endswith(f"-{case.id}"), name
            assert isinstance(case, Valid) or case.range is not None, f"{name} has no expected range"
    assert "OTO001-valid-plain-foreign-key" in params and "OTO004-invalid-prefetch-related-lookup" in params
