"""Every rule page's examples, run through the real tool.

A page's "Example" block is written as ``app/models.py`` of a throwaway project (as the
rule cases are) and linted with its rule selected: the rule must report it. Its "Use
instead" block, linted the same way, must not be reported. Every top-level function of
an Example shows a trap, so each must hold a finding. The blocks are therefore
self-contained: they import and declare the models they use. An opt-in rule (OTO100)
is enabled on top of the default rules, as ``--extend-select`` does, since it judges
their ``noqa`` comments.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from o2o_lint.cli import main
from o2o_lint.rules import all_rules
from tests.helpers import REPO, SNIPPET, write_project

DOCS = REPO / "docs" / "rules"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```$", flags=re.M | re.S)


def sections(text: str) -> dict[str, str]:
    """Each ``## `` section of a page, by heading."""
    parts = re.split(r"^## (.+)\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def python_blocks(section: str) -> list[str]:
    return BLOCK.findall(section)


def lint(root: Path, code: str, source: str, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    """The findings of the CLI (JSON) on a project holding *source* as its snippet file."""
    write_project(root, {SNIPPET: source})
    rule = all_rules()[code]
    enable = ["--extend-select", code] if getattr(rule, "opt_in", False) else ["--select", code]
    capsys.readouterr()
    status = main([str(root), "--no-cache", "--jobs", "1", "--output-format", "json", *enable])
    out = capsys.readouterr().out
    findings = json.loads(out)
    assert status in (0, 1), (status, out)
    return findings


def test_every_page_has_one_python_block_per_example_section() -> None:
    problems = []
    for page in PAGES:
        found = sections(page.read_text())
        for heading in ("Example", "Use instead"):
            count = len(python_blocks(found.get(heading, "")))
            if count != 1:
                problems.append(f"{page.name}: {count} ```python blocks under '## {heading}', expected 1")
    assert not problems, "rule pages whose examples cannot be checked:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_page_example_is_reported_and_use_instead_is_not(tmp_path: Path, page: Path, capsys) -> None:
    code = page.stem
    found = sections(page.read_text())
    (example,), (better,) = python_blocks(found["Example"]), python_blocks(found["Use instead"])
    problems = []
    reported = lint(tmp_path / "example", code, example, capsys)
    if any(f["code"] == "OTO000" for f in reported):
        problems.append(f"Example does not parse: {reported}")
    rows = {f["location"]["row"] for f in reported if f["code"] == code}
    if not rows:
        problems.append(f"Example: {code} reports nothing (does the block declare the models it uses?)")
    else:
        for node in ast.parse(example).body:
            if isinstance(node, ast.FunctionDef) and not any(node.lineno <= row <= node.end_lineno for row in rows):
                problems.append(f"Example: {code} reports nothing in {node.name}()")
    remaining = [f for f in lint(tmp_path / "better", code, better, capsys) if f["code"] in (code, "OTO000")]
    if remaining:
        shown = [f"{f['location']['row']}: {f['code']} {f['message']}" for f in remaining]
        problems.append(f"Use instead is reported: {shown}")
    assert not problems, f"{page.name}:\n" + "\n".join(problems)
