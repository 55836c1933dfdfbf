"""OTO005's sites: found once per file, on the statements that spell an accessor."""

from __future__ import annotations

from pathlib import Path

import pytest

from o2o_lint.index import name_reads as name_reads_module
from o2o_lint.rules.oto005_manager_use_of_one_to_one_accessor import rule as oto005
from o2o_lint.rules.oto005_manager_use_of_one_to_one_accessor import screen as oto005_screen
from tests.helpers import engine_for, record_libcst_parses, write_project

FILES = {"billing/models.py": oto005._MODELS}
USE = """
from billing.models import Company

def helper(x):
    return x.items.count()

def total(company: Company):
    return company.invoice.count()
"""


def _count_name_reads(monkeypatch: pytest.MonkeyPatch) -> list[list[int] | None]:
    """Every walk of :func:`name_reads`: the lines it was limited to (None: none)."""
    walks: list[list[int] | None] = []
    real = name_reads_module.name_reads

    def counting(tree, near=None):  # type: ignore[no-untyped-def]
        walks.append(None if near is None else list(near))
        return real(tree, near)

    monkeypatch.setattr(oto005_screen, "name_reads", counting)
    return walks


def test_the_screen_and_the_visitor_share_one_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {**FILES, "billing/views.py": USE})
    engine = engine_for(tmp_path, select=("OTO005",))
    walks = _count_name_reads(monkeypatch)
    path = tmp_path / "billing/views.py"
    findings = engine.analyze(str(path), path.read_text()).findings
    assert [(f.code, f.line) for f in findings] == [("OTO005", 8)]
    assert len(walks) == 1  # the tree screen's, which the visitor reuses
    assert walks[0] is not None and 8 in walks[0] and 5 not in walks[0]  # `helper` spells no accessor


def test_a_file_spelling_an_accessor_without_a_site_is_never_parsed_with_libcst(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {**FILES, "billing/views.py": "def total(order):\n    return order.invoice.count()\n"})
    engine = engine_for(tmp_path, select=("OTO005",))
    parsed = record_libcst_parses(monkeypatch)
    path = tmp_path / "billing/views.py"
    assert engine.analyze(str(path), path.read_text()).findings == []
    assert parsed == []
