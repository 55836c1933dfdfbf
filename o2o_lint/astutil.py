"""Small stdlib ``ast`` helpers shared by the index and the rules (no LibCST here:
the facts pass imports this module in pool workers)."""

from __future__ import annotations

import ast
import bisect
from collections import deque
from collections.abc import Iterator, Sequence


def dotted_name(node: ast.AST) -> str | None:
    """``models.ForeignKey`` for the expression ``models.ForeignKey``; None otherwise.

    A loop, not recursion: a chain of thousands of attributes must not overflow the stack.
    """
    kind = type(node)  # the two commonest shapes first: the facts pass asks for every load
    if kind is ast.Name:
        return node.id  # type: ignore[attr-defined,no-any-return]
    if kind is ast.Attribute and type(node.value) is ast.Name:  # type: ignore[attr-defined]
        return f"{node.value.id}.{node.attr}"  # type: ignore[attr-defined]
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute module of ``from <level dots><target> import ...`` written in *module*."""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: max(len(parts) - (level - 1), 0)]
    base = ".".join(parts)
    if target:
        return f"{base}.{target}" if base else target
    return base


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """``list(ast.iter_child_nodes(node))``, in the same order, without its two generators."""
    children: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            children.append(value)
        elif isinstance(value, list):
            children.extend(item for item in value if isinstance(item, ast.AST))
    return children


def walk_near(tree: ast.AST, lines: Sequence[int]) -> Iterator[ast.AST]:
    """``ast.walk(tree)`` (breadth first) without the statements that span none of the
    sorted line numbers *lines*, nor anything inside them.

    A statement's lines run from its first decorator to its end; every expression of the
    statement lies within them, whatever positions an expression of an old f-string has.
    """
    queue = deque([tree])
    while queue:
        node = queue.popleft()
        if isinstance(node, ast.stmt) and spans_none(node, lines):
            continue
        queue.extend(child_nodes(node))
        yield node


def spans_none(statement: ast.stmt, lines: Sequence[int]) -> bool:
    """Whether *statement*, from its first decorator to its end, spans none of the sorted
    line numbers *lines*."""
    first = statement.lineno
    decorators = getattr(statement, "decorator_list", None)
    if decorators:
        first = min(first, *(decorator.lineno for decorator in decorators))
    nearest = bisect.bisect_left(lines, first)
    return nearest == len(lines) or lines[nearest] > (statement.end_lineno or statement.lineno)
