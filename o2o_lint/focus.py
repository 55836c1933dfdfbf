"""Parse only the parts of a file where a finding is possible.

A tree screen (:meth:`o2o_lint.rules.base.Rule.screen_tree`) may answer with line
numbers instead of ``True``: no finding can lie outside the statements around them. A
4,000-line test module where one test builds a model instance then costs a LibCST parse
of that one test method, not of the module.

The focused source keeps every line of the chosen statements exactly where it was and
blanks every other line, so line and column numbers stay those of the real file. The
chosen statement is the top-level statement around a line, or, inside a top-level
class, the class header plus the member (method, assignment) around it: methods of
one class are analysed independently of each other.

A focused analysis is a screen, not the answer: when it finds anything, the engine
analyses the whole file again, so messages, fixes and ``noqa`` handling never depend
on what was blanked.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Collection, Iterable, Sequence

from o2o_lint.sourcefile import split_lines

#: Above this share of kept lines, parsing the whole file is as cheap and needs no second pass.
MAX_FOCUSED_SHARE = 0.6


def _start(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", ())
    return min([statement.lineno, *(decorator.lineno for decorator in decorators)])


def _end(statement: ast.stmt) -> int:
    return statement.end_lineno or statement.lineno


def _around(statements: Sequence[ast.stmt], starts: Sequence[int], line: int) -> ast.stmt | None:
    position = bisect.bisect_right(starts, line) - 1
    if position < 0:
        return None
    statement = statements[position]
    return statement if line <= _end(statement) else None


class Statements:
    """Finds the statement around a line: top level, or a member of a top-level class."""

    def __init__(self, tree: ast.Module) -> None:
        self.body = tree.body
        self.starts = [_start(statement) for statement in self.body]
        self._member_starts: dict[int, list[int]] = {}  # id(class) -> starts of its members

    def around(self, line: int) -> tuple[ast.stmt, ast.stmt | None] | None:
        """(top-level statement, class member or None), or None between statements."""
        statement = _around(self.body, self.starts, line)
        if statement is None:
            return None
        if isinstance(statement, ast.ClassDef) and statement.body:
            members = statement.body
            member_starts = self._member_starts.get(id(statement))
            if member_starts is None:
                member_starts = self._member_starts[id(statement)] = [_start(member) for member in members]
            if member_starts[0] > statement.lineno:  # not `class A: x = 1` on one line
                return statement, _around(members, member_starts, line)
        return statement, None

    def members(self, lines: Iterable[int]) -> list[ast.stmt] | None:
        """The innermost statements around *lines*, or None when a line is between statements."""
        found: dict[int, ast.stmt] = {}
        for line in lines:
            located = self.around(line)
            if located is None:
                return None
            statement, member = located
            chosen = member or statement
            found[id(chosen)] = chosen
        return list(found.values())


def kept_lines(tree: ast.Module, lines: Collection[int]) -> list[tuple[int, int]] | None:
    """The (first, last) line spans to keep, or None when some line needs the whole module."""
    statements = Statements(tree)
    spans: set[tuple[int, int]] = set()
    for line in lines:
        located = statements.around(line)
        if located is None:
            return None  # a line between statements: not one the screens produce
        statement, member = located
        if member is not None:
            # the class header: from its first decorator to the line before its first member
            spans.add((_start(statement), _start(statement.body[0]) - 1))  # type: ignore[attr-defined]
            spans.add((_start(member), _end(member)))
        else:
            spans.add((_start(statement), _end(statement)))
    return sorted(spans)


def focused_source(text: str, tree: ast.Module, lines: Collection[int]) -> str | None:
    """*text* with every line outside the statements around *lines* blanked.

    None when focusing would not pay: some line needs the whole module, or most of the
    file would be kept anyway.
    """
    spans = kept_lines(tree, lines)
    if spans is None:
        return None
    physical = split_lines(text)
    kept = [False] * (len(physical) + 1)
    for first, last in spans:
        for number in range(first, min(last, len(physical)) + 1):
            kept[number] = True
    if sum(kept) > MAX_FOCUSED_SHARE * len(physical):
        return None
    return "".join(
        line if kept[number] else _line_end(line) for number, line in enumerate(physical, start=1)
    )


def _line_end(line: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith(("\n", "\r")):
        return line[-1]
    return ""
