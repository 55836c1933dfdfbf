"""OTO001's per-file facts, on the stdlib ``ast``: the screen in front of the rule.

The callee names of calls with a literal ``unique=True`` or ``primary_key=True``
(``ForeignKey``, ``FK``, ``models.ForeignKey`` all as their last part). A full
``ast.walk`` costs as much as the parse, so only files whose text can hold such a call
pay for it.
"""

from __future__ import annotations

import ast
import re

from o2o_lint.astutil import dotted_name
from o2o_lint.index.facts import FactsExtractor

#: A file without these words holds no unique=True call: no walk.
_UNIQUE = re.compile(r"\b(?:unique|primary_key)\s*=\s*True")


def unique_calls(tree: ast.Module, text: str | None) -> list[str]:
    """Callee names (their last part) of calls with a literal unique=True / primary_key=True."""
    found: set[str] = set()
    if text is not None and _UNIQUE.search(text) is None:
        return []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else dotted_name(node.func)
        if callee is None:
            continue
        if any(
            kw.arg in ("unique", "primary_key") and isinstance(kw.value, ast.Constant) and kw.value.value is True
            for kw in node.keywords
        ):
            found.add(callee.rpartition(".")[2])
    return sorted(found)


EXTRACTOR = FactsExtractor("OTO001", 1, unique_calls)
