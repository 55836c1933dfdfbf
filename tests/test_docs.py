"""Documentation stays in step with the code."""

from __future__ import annotations

import re

from o2o_lint.rules import all_rules
from tests.helpers import REPO

DOCS = REPO / "docs" / "rules"
SECTIONS = ["What it does", "Why is this bad?", "Example", "Use instead", "Fix safety", "Options", "References"]


def test_every_code_has_a_page_and_every_page_a_code() -> None:
    pages = {path.stem for path in DOCS.glob("*.md")}
    assert pages == set(all_rules())


def test_pages_have_ruffs_sections_and_the_rule_name() -> None:
    for code, rule in all_rules().items():
        text = (DOCS / f"{code}.md").read_text()
        assert text.splitlines()[0] == f"# {code}: {rule.name}"
        headings = re.findall(r"^## (.+)$", text, flags=re.M)
        assert headings == SECTIONS, code


def test_pages_only_mention_codes_that_exist() -> None:
    known = set(all_rules()) | {"OTO000"}
    for path in DOCS.glob("*.md"):
        assert set(re.findall(r"\bOTO\d{3}\b", path.read_text())) <= known, path.name


def test_every_rule_module_explains_its_trap() -> None:
    for rule in all_rules().values():
        module = __import__(rule.__module__, fromlist=["_"])
        assert module.__doc__ and len(module.__doc__) > 200, rule.code
