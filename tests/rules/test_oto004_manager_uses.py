"""OTO004's project view: the files that use a unique ForeignKey's reverse manager."""

from __future__ import annotations

import ast
from pathlib import Path

from o2o_lint.config import Settings
from o2o_lint.index.build import build_index
from o2o_lint.index.facts import facts_for_tree
from o2o_lint.rules.oto004_reverse_manager_use import ReverseManagerUses
from tests.helpers import write_project

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
