"""OTO001's per-file facts, on the stdlib ``ast``: the screen in front of the rule.

The callee names (their last part: ``ForeignKey``, ``FK``, ``TenantForeignKey``) of calls
that may declare a unique field: ``unique=`` or ``primary_key=`` given ``True`` or a name
(a constant the index may resolve: ``unique=ONE_PER_COMPANY``), or a ``**`` dict
(``**{"unique": True}``, ``**UNIQUE``). A full ``ast.walk`` costs as much as the parse, so
only files whose text can hold such a call pay for it, and only for the statements that
spell ``unique``, ``primary_key`` or ``**`` (or, in a file that is not ASCII, hold a
character beyond ASCII).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from o2o_lint.astutil import dotted_name, walk_near
from o2o_lint.index.facts import FactsExtractor
from o2o_lint.sourcefile import line_numbers

#: A file without these holds no such call: no walk. ``**`` counts when a dict display or
#: a constant-looking name follows (``**kwargs`` passed on is no field declaration).
_UNIQUE = re.compile(
    r"\b(?:unique|primary_key)\s*=\s*(?!False\b|None\b)[A-Za-z_]"
    r"|\*\*\s*(?:\{|[A-Z_][A-Z0-9_]*\b|[\w.]*(?:unique|UNIQUE|primary|PRIMARY))"
)
#: Where a match of :data:`_UNIQUE` can start.
_BEGINNINGS = ("unique", "primary_key", "**")
_KEYWORDS = ("unique", "primary_key")
#: Where such a call's keyword can be: its name or its ``**`` is spelled on that line.
_SPELLED = re.compile(r"unique|primary_key|\*\*")
#: In a file that is not ASCII, a keyword may be spelled with other letters (identifiers are
#: NFKC-normalised: ``ｕnique=`` is ``unique=``): its line then holds a character beyond ASCII.
_SPELLED_OR_OTHER = re.compile(r"unique|primary_key|\*\*|[^\x00-\x7f]+")


def _may_hold_unique(text: str) -> bool:
    """``_UNIQUE.search(text) is not None``, at a fraction of its cost: a match starts where one
    of its literal beginnings does, and ``str.find`` finds those faster than the regex engine."""
    for literal in _BEGINNINGS:
        position = text.find(literal)
        while position != -1:
            if _UNIQUE.match(text, position) is not None:  # ``\b`` looks before the start
                return True
            position = text.find(literal, position + 1)
    return False


def _may_be_true(value: ast.expr) -> bool:
    if isinstance(value, ast.Constant):
        return value.value is True
    return dotted_name(value) is not None


def _may_declare_unique(node: ast.Call) -> bool:
    for kw in node.keywords:
        if kw.arg in _KEYWORDS and _may_be_true(kw.value):
            return True
        if kw.arg is None:
            if isinstance(kw.value, ast.Dict):
                if any(isinstance(k, ast.Constant) and k.value in _KEYWORDS for k in kw.value.keys):
                    return True
            elif dotted_name(kw.value) is not None:
                return True
    return False


def unique_calls(tree: ast.Module, text: str | None) -> list[str]:
    """Callee names (their last part) of calls that may declare a unique field."""
    found: set[str] = set()
    if text is not None and not _may_hold_unique(text):
        return []
    nodes: Iterable[ast.AST] = ast.walk(tree)
    if text is not None:
        spelled = _SPELLED if text.isascii() else _SPELLED_OR_OTHER
        nodes = walk_near(tree, line_numbers(text, [match.start() for match in spelled.finditer(text)]))
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else dotted_name(node.func)
        if callee is not None and _may_declare_unique(node):
            found.add(callee.rpartition(".")[2])
    return sorted(found)


EXTRACTOR = FactsExtractor("OTO001", 2, unique_calls)
