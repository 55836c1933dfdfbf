"""OTO004's project view: the files that use a unique ForeignKey's reverse manager."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from o2o_lint.config import Settings
from o2o_lint.index.build import build_index
from o2o_lint.index.facts import facts_for_tree
from o2o_lint.discovery import is_template_path
from o2o_lint.rules.base import FileContext
from o2o_lint.rules.oto004_reverse_manager_use.rule import ReverseManagerUse
from o2o_lint.rules.oto004_reverse_manager_use.screen import ReverseManagerUses
from tests.helpers import engine_for, engine_for_case, lint_file, record_libcst_parses, write_project

MODELS = """
from django.db import models

class Company(models.Model):
    pass

class Invoice(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True)
"""
USES = "def count(company):\n    return company.invoice_set.count()\n"
NO_USE = "def count(company):\n    return 0\n"


def _index(tmp_path: Path, files: dict[str, str]):
    write_project(tmp_path, files)
    return build_index([str(tmp_path)], Settings(use_cache=False))


def _path(index, name: str) -> str:
    return next(path for path in index.facts_by_path if path.endswith(name))


def test_no_unique_foreign_key_reads_no_file(tmp_path: Path) -> None:
    index = _index(tmp_path, {"billing/models.py": MODELS.replace(", unique=True", ""), "billing/views.py": USES})
    uses = index.view(ReverseManagerUses)
    assert uses.pattern is None and uses.relations == {}
    assert uses.files_using("invoice_set") == [] and uses._uses_by_path == {}


def test_the_overlaid_text_counts_for_its_path_and_is_not_cached(tmp_path: Path) -> None:
    index = _index(tmp_path, {"billing/models.py": MODELS, "billing/views.py": USES, "billing/other.py": NO_USE})
    uses = index.view(ReverseManagerUses)
    assert index.view(ReverseManagerUses) is uses
    views, other = _path(index, "views.py"), _path(index, "other.py")
    assert uses.files_using("invoice_set") == [views]

    def overlay(path: str, text: str):
        return index.overlay(path, facts_for_tree(ast.parse(text), path, str(tmp_path), text), text)

    with overlay(views, NO_USE):
        assert uses.files_using("invoice_set") == []
    with overlay(other, USES):
        assert uses.files_using("invoice_set") == sorted([other, views])
    assert uses.files_using("invoice_set") == [views]


MEMBERSHIP = MODELS + """
class Membership(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True, related_name="memberships")
"""
#: Each kind of use the conversion breaks, written in strings, and OTO001's fix is unsafe for it.
STRING_USES = {
    "hasattr": ('def check(company):\n    return hasattr(company, "invoice_set")\n', "invoice_set"),
    "getattr-method": ('def check(company):\n    return getattr(company, "memberships").count()\n', "memberships"),
    "nested-prefetch": ('from billing.models import Membership\n\n'
                        'def load():\n    return Membership.objects.prefetch_related("company__invoice_set")\n',
                        "invoice_set"),
    "serializer-fields": ('from rest_framework import serializers\nfrom billing.models import Company\n\n'
                          'class CompanySerializer(serializers.ModelSerializer):\n'
                          '    class Meta:\n        model = Company\n        fields = ["memberships"]\n',
                          "memberships"),
}
#: What the conversion keeps working: no use, and the fix stays safe.
KEPT = ('from django.db.models import Count\nfrom billing.models import Company\n\n'
        'def load():\n    qs = Company.objects.filter(invoice__id=1).annotate(n=Count("memberships"))\n'
        '    return qs.prefetch_related("memberships").select_related("invoice").values("invoice")\n')


def _oto001_fix_safety(tmp_path: Path, uses: str) -> list[bool]:
    write_project(tmp_path, {"billing/models.py": MEMBERSHIP, "billing/uses.py": uses})
    findings = lint_file(tmp_path, "billing/models.py", select=("OTO001",))
    assert len(findings) == 2 and all(f.fix is not None for f in findings)
    return [f.fix.safe for f in findings]


def test_each_kind_of_string_use_is_a_use_and_keeps_oto001s_fix_unsafe(tmp_path: Path) -> None:
    for kind, (source, accessor) in STRING_USES.items():
        root = tmp_path / kind
        index = _index(root, {"billing/models.py": MEMBERSHIP, "billing/uses.py": source})
        assert index.view(ReverseManagerUses).files_using(accessor) == [_path(index, "uses.py")], kind
        safety = _oto001_fix_safety(tmp_path / f"{kind}-fix", source)
        assert safety.count(False) == 1, (kind, safety)  # the field whose accessor is used


def test_query_names_and_an_unchanged_prefetch_name_are_no_use(tmp_path: Path) -> None:
    index = _index(tmp_path / "view", {"billing/models.py": MEMBERSHIP, "billing/uses.py": KEPT})
    uses = index.view(ReverseManagerUses)
    assert uses.files_using("invoice_set") == [] and uses.files_using("memberships") == []
    assert _oto001_fix_safety(tmp_path / "fix", KEPT) == [True, True]


OTHER_MODELS_MANAGER = MODELS + """
class Shelf(models.Model):
    pass

class Folder(models.Model):
    shelf = models.ForeignKey(Shelf, models.CASCADE)
    # a plain ForeignKey whose reverse manager is spelled like the unique one's
    invoice = models.ForeignKey(Invoice, models.CASCADE, related_name="invoice_set", null=True)
"""


def test_the_tree_screen_keeps_libcst_away_from_uses_oto004_does_not_blame(tmp_path: Path, monkeypatch) -> None:
    files = {
        "billing/models.py": OTHER_MODELS_MANAGER.replace('related_name="invoice_set", ', ""),
        # spells the unique ForeignKey's manager, on a receiver of a model that does not have it
        "billing/shelves.py": "from billing.models import Shelf\n\n\ndef count():\n"
                              "    return Shelf.objects.get(pk=1).invoice_set.count()\n",
        "billing/views.py": USES,
    }
    write_project(tmp_path, files)
    engine = engine_for(tmp_path, select=("OTO004",))
    parsed = record_libcst_parses(monkeypatch)
    found = {}
    for name in ("billing/shelves.py", "billing/views.py"):
        path = tmp_path / name
        found[name] = len(engine.analyze(str(path), path.read_text()).findings)
    assert found == {"billing/shelves.py": 0, "billing/views.py": 1}
    assert [text for text in parsed if "Shelf" in text] == []
    assert any("company.invoice_set" in text for text in parsed)


def test_every_reported_case_passes_the_tree_screen(tmp_path: Path) -> None:
    """The tree screen is exact: no case the rule reports is screened out (and the valid
    cases that only spell a name are)."""
    screened_out = 0
    for number, case in enumerate([*ReverseManagerUse.VALID, *ReverseManagerUse.INVALID]):
        if isinstance(case, str) or is_template_path(case.path or ""):
            continue
        engine, path = engine_for_case(tmp_path / str(number), "OTO004", case)
        text = Path(path).read_text()
        reported = engine.analyze(path, text).findings
        context = FileContext(path=path, text=text, facts=engine.index.facts_by_path[os.path.abspath(path)],
                              index=engine.index, settings=engine.settings, enabled_codes=frozenset({"OTO004"}))
        verdict = ReverseManagerUse.screen_tree(context, ast.parse(text))
        assert verdict or not reported, case.id
        screened_out += not verdict
    assert screened_out > 0
