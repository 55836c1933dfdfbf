"""The fixes of one file are applied together for the JSON/SARIF edits, with the result
each would give alone (``cstpass.fixed_codes`` against ``cstpass.apply_fixes`` per fix)."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from o2o_lint import cstpass, engine
from o2o_lint.findings import Fix
from tests.helpers import FIXTURES, engine_for, engine_for_case, rule_cases

FIXABLE = [param for param in rule_cases("INVALID") if param.values[1].expected_fix is not None]


def _tree_fixes(analysis: engine.Analysis) -> list[Fix]:
    return [f.fix for f in analysis.findings if f.fix is not None and not f.fix.edits_text]


def _alone(module: cst.Module, fixes: list[Fix]) -> list[str | None]:
    results: list[str | None] = []
    for fix in fixes:
        try:
            results.append(cstpass.apply_fixes(module, [fix]).code)
        except Exception:  # noqa: BLE001 - as the report treats a broken fix
            results.append(None)
    return results


@pytest.mark.parametrize(("code", "case"), FIXABLE)
def test_each_case_repeated_gives_every_fix_as_alone(tmp_path: Path, code: str, case) -> None:
    """The case's snippet three times in one file: three findings (at least) whose fixes
    are computed together, then compared with each applied alone."""
    repeated = "\n\n".join([case.code] * 3)
    lint, path = engine_for_case(tmp_path, code, case, source=repeated)
    analysis = lint.analyze(path, repeated)
    fixes = _tree_fixes(analysis)
    if analysis.module is None:  # text edits only (a comment's codes): nothing to transform
        assert not fixes and any(f.fix is not None for f in analysis.findings)
        return
    assert cstpass.fixed_codes(analysis.module, fixes) == _alone(analysis.module, fixes)


def test_the_demo_fixes_are_really_applied_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a fallback in disguise: where a file has several fixes that only replace nodes,
    they share one transformation, and the results are still those of each alone."""
    demo = FIXTURES / "demo"
    lint = engine_for(demo, unsafe_fixes=True)
    shared = 0
    for path in sorted(demo.rglob("*.py")):
        text = path.read_text()
        analysis = lint.analyze(str(path), text)
        fixes = _tree_fixes(analysis)
        if analysis.module is None or len(fixes) < 2:
            continue
        alone = _alone(analysis.module, fixes)
        transforms: list[object] = []
        real_visit = cst.Module.visit

        def counting_visit(self: cst.Module, visitor: object) -> object:
            transforms.append(visitor)
            return real_visit(self, visitor)  # type: ignore[arg-type]

        monkeypatch.setattr(cst.Module, "visit", counting_visit)
        together = cstpass.fixed_codes(analysis.module, fixes)
        monkeypatch.undo()
        assert together == alone
        if all(cstpass._replaces_nodes_only(fix) for fix in fixes):
            assert len(transforms) == 1, path
            shared += len(fixes)
    assert shared >= 4
