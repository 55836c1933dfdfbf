"""Parse only the parts of a file where a finding is possible.

A tree screen (:meth:`o2o_lint.rules.base.LintRule.screen_tree`) may answer with line
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
import re
from collections.abc import Collection, Sequence

#: The line ends ``ast`` counts; ``str.splitlines`` also splits on \f, \v, \x1c... which Python does not.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
#: Above this share of kept lines, parsing the whole file is as cheap and needs no second pass.
MAX_FOCUSED_SHARE = 0.6


def _start(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", ())
    return min([statement.lineno, *(decorator.lineno for decorator in decorators)])


def _around(statements: Sequence[ast.stmt], starts: Sequence[int], line: int) -> ast.stmt | None:
    position = bisect.bisect_right(starts, line) - 1
    if position < 0:
        return None
    statement = statements[position]
    return statement if line <= (statement.end_lineno or statement.lineno) else None


def kept_lines(tree: ast.Module, lines: Collection[int]) -> list[tuple[int, int]] | None:
    """The (first, last) line spans to keep, or None when some line needs the whole module."""
    statements = tree.body
    starts = [_start(statement) for statement in statements]
    spans: set[tuple[int, int]] = set()
    for line in lines:
        statement = _around(statements, starts, line)
        if statement is None:
            return None  # a line between statements: not one the screens produce
        first, last = _start(statement), statement.end_lineno or statement.lineno
        if isinstance(statement, ast.ClassDef) and statement.body:
            members = statement.body
            member_starts = [_start(member) for member in members]
            member = _around(members, member_starts, line)
            header_end = member_starts[0] - 1
            if member is not None and header_end >= first:
                spans.add((first, header_end))
                first, last = _start(member), member.end_lineno or member.lineno
        spans.add((first, last))
    return sorted(spans)


def focused_source(text: str, tree: ast.Module, lines: Collection[int]) -> str | None:
    """*text* with every line outside the statements around *lines* blanked.

    None when focusing would not pay: some line needs the whole module, or most of the
    file would be kept anyway.
    """
    spans = kept_lines(tree, lines)
    if spans is None:
        return None
    physical = _LINE.findall(text)
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
