"""Newer Python syntax for an older interpreter's ``ast``, positions kept.

Only used for a file the running interpreter's ``ast.parse`` rejects (see
:mod:`o2o_lint.syntax`). LibCST's native parser reads Python 3.0 to 3.14; when it
accepts the file, the constructs older interpreters do not know are rewritten into
ones they do, in place, and the rewritten text goes to ``ast.parse``:

* PEP 758 ``except A, B:`` becomes ``except (A, B):``;
* PEP 695 type parameter lists (``class Box[T]``, ``def f[T]``, with PEP 696
  defaults) are blanked, and ``type X = v`` becomes the expression ``(       v)``;
* a PEP 701 f-string or PEP 750 t-string the interpreter cannot read becomes a tuple of
  its replacement fields' expressions, ``f"{a!r} {b}"`` -> ``( a,    b, )``, so the
  names it reads stay visible;
* PEP 654 ``except*`` (for Python 3.10) becomes ``except``.

Every line keeps its number; columns that moved (an inserted parenthesis or comma)
are mapped back, so every node's position is the one in the original text.
"""

from __future__ import annotations

import ast
import bisect
import hashlib
import re
import sys
from collections.abc import Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

#: The oldest and newest Python whose syntax is read (LibCST's parser reads them all).
SUPPORTED = "3.8 to 3.14"
#: CPython refuses more nested brackets in every version (its tokenizer's MAXLEVEL).
MAX_BRACKET_DEPTH = 200
#: LibCST's native parser takes quadratic time on long operator chains and crashes the
#: process (a stack overflow in native code) beyond a few thousand: an upper bound on
#: the nesting a statement can produce, as a count of tokens not separated by commas.
MAX_CHAIN = 2000

#: The rewrites of the texts read in this process, by digest: the facts pass and the
#: analysis parse the same file, and LibCST's parse and positions cost most of the work.
_REWRITES: dict[bytes, list[tuple[int, int, str]]] = {}
_REWRITES_KEPT = 64

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\f]+|\\\r\n|\\[\r\n])
    |(?P<newline>\r\n|[\r\n])
    |(?P<comment>\#[^\r\n]*)
    |(?P<fstart>(?:[fFtT][rR]?|[rR][fFtT])(?:'''|\"\"\"|'|\"))
    |(?P<string>(?:[bB][rR]?|[rR][bB]?|[uU])?
        (?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^\\'\r\n])*'|\"(?:\\.|[^\\\"\r\n])*\"))
    |(?P<name>\w+)
    |(?P<open>[(\[{])
    |(?P<close>[)\]}])
    |(?P<separator>[,;])
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
#: Inside an f-string's literal text: what ends a run of text.
_LITERAL_STOP = re.compile(r"\\.|\{\{|\}\}|[{}]|'''|\"\"\"|['\"]|\r\n|[\r\n]", re.DOTALL)


def _too_deep(text: str) -> str | None:
    """Why LibCST must not be handed *text* (too deep for its native parser), else None.

    A tokenizer good enough to bound nesting from above: strings are single tokens,
    f-strings are scanned through (their fields are code), comments are skipped. The
    cost of a comma-separated item is its tokens plus the costliest item nested in it.
    """
    # per open bracket: [cost of the current item, costliest item inside, bracket kind]
    stack: list[list[int]] = [[0, 0]]
    fstrings: list[tuple[str, int]] = []  # (closing quote, bracket depth of its literal text)
    position, end = 0, len(text)
    worst = 0
    while position < end:
        if fstrings and fstrings[-1][1] == len(stack):  # in an f-string's literal text
            quote = fstrings[-1][0]
            match = _LITERAL_STOP.search(text, position)
            if match is None:
                return None  # unterminated: LibCST rejects it on its own
            position = match.end()
            token = match.group()
            if token == quote:
                fstrings.pop()
                stack[-1][0] += 1
            elif token == "{":
                stack.append([0, 0])
            elif token in "\r\n" and len(quote) == 1:
                fstrings.pop()  # unterminated single-quoted f-string: recover
            continue
        match = _TOKEN.match(text, position)
        assert match is not None  # `other` matches any character
        position = match.end()
        kind = match.lastgroup
        if kind in ("space", "comment"):
            continue
        if kind == "newline":
            if len(stack) == 1:
                worst = max(worst, stack[0][0] + stack[0][1])
                stack[0] = [0, 0]
            continue
        if kind == "open":
            stack.append([0, 0])
            if len(stack) > MAX_BRACKET_DEPTH:
                return f"more than {MAX_BRACKET_DEPTH} nested brackets"
        elif kind == "close":
            if len(stack) > 1:
                inner = stack.pop()
                stack[-1][0] += 1 + max(inner[0] + inner[1], inner[1])
        elif kind == "separator":
            item = stack[-1]
            item[1] = max(item[1], item[0])
            item[0] = 0
            if match.group() == ";" and len(stack) == 1:
                worst = max(worst, item[1])
                stack[0] = [0, 0]
        elif kind == "fstart":
            quote = match.group().lstrip("fFtTrR")
            stack[-1][0] += 1
            fstrings.append((quote, len(stack)))
        else:
            stack[-1][0] += 1
        item = stack[-1]
        if item[0] + item[1] > MAX_CHAIN or worst > MAX_CHAIN:
            return f"a statement of more than {MAX_CHAIN} chained tokens"
    if max([worst] + [item[0] + item[1] for item in stack]) > MAX_CHAIN:
        return f"a statement of more than {MAX_CHAIN} chained tokens"
    return None


def parse_newer_syntax(text: str, filename: str, rejected: SyntaxError) -> ast.Module:
    """The ``ast`` of *text*, which the running interpreter rejected with *rejected*,
    when some Python from 3.8 to 3.14 accepts it; else :class:`SyntaxError`."""
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    edits = _REWRITES.get(key)
    if edits is None:
        edits = _rewrites(text, filename, rejected)
        if len(_REWRITES) >= _REWRITES_KEPT:
            _REWRITES.pop(next(iter(_REWRITES)))
        _REWRITES[key] = edits
    rewritten = _Rewritten(text, edits)
    try:
        tree = ast.parse(rewritten.text, filename=filename)
    except SyntaxError:
        raise rejected from None  # LibCST is more lenient than CPython (`1 = x`, ...)
    rewritten.map_positions(tree)
    return tree


def _rewrites(text: str, filename: str, rejected: SyntaxError) -> list[tuple[int, int, str]]:
    """The edits that make *text* readable by this interpreter's ``ast``; SyntaxError when
    no supported Python reads it."""
    problem = _too_deep(text)
    if problem is not None:
        raise SyntaxError(f"{rejected.msg} (not tried as newer Python syntax: {problem})",
                          (filename, rejected.lineno, rejected.offset, rejected.text)) from None
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise _no_python_accepts(exc, rejected, filename) from None
    try:
        return _Rewrites(text, MetadataWrapper(module, unsafe_skip_copy=True)).edits()
    except RecursionError:
        raise rejected from None


def _no_python_accepts(exc: cst.ParserSyntaxError, rejected: SyntaxError, filename: str) -> SyntaxError:
    """LibCST's reading of the error when it is further down than ``ast``'s (which stopped
    at the first construct it did not know); else ``ast``'s clearer words and position.
    LibCST places an error where parsing stopped, often at the next line's first token."""
    detail = exc.message
    found = re.match(r"parser error: error at (\d+):(\d+): (.*)", detail, re.DOTALL)
    line, column = exc.raw_line, exc.raw_column
    if found is not None:
        line, column, detail = int(found.group(1)), int(found.group(2)), found.group(3)
    if line <= (rejected.lineno or 1) + 1:
        return rejected
    detail = detail.splitlines()[0] if detail else "invalid syntax"
    if len(detail) > 120:
        detail = detail[:117] + "..."
    return SyntaxError(f"invalid syntax in every Python {SUPPORTED}: {detail}", (filename, line, column + 1, None))


class _Rewrites(cst.CSTVisitor):
    """The text edits that make a LibCST-parsed module readable by this ``ast``."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, text: str, wrapper: MetadataWrapper) -> None:
        super().__init__()
        self.text = text
        self.wrapper = wrapper
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        self.positions = wrapper.resolve(PositionProvider)
        self.found: list[tuple[int, int, str]] = []
        self.in_unit: set[cst.CSTNode] = set()

    def edits(self) -> list[tuple[int, int, str]]:
        self.wrapper.module.visit(self)
        return sorted(self.found)

    def _span(self, node: cst.CSTNode) -> tuple[int, int]:
        where: CodeRange = self.positions[node]
        return (self.starts[where.start.line - 1] + where.start.column,
                self.starts[where.end.line - 1] + where.end.column)

    # PEP 758 --------------------------------------------------------------------------
    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._parenthesize(node.type)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._parenthesize(node.type)
        if sys.version_info < (3, 11):  # PEP 654 `except*`
            start = self._span(node)[0] + len("except") + len(node.whitespace_after_except.value)
            self.found.append((start, start + 1, " "))

    def _parenthesize(self, types: cst.BaseExpression | None) -> None:
        if isinstance(types, cst.Tuple) and not types.lpar:
            start, end = self._span(types)
            self.found += [(start, start, "("), (end, end, ")")]

    # PEP 695 / 696 --------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._drop_type_parameters(node.type_parameters)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._drop_type_parameters(node.type_parameters)

    def _drop_type_parameters(self, parameters: cst.TypeParameters | None) -> None:
        if parameters is not None:
            start, end = self._span(parameters)
            region = re.sub(r"[^\r\n]", " ", self.text[start:end])
            self.found.append((start, end, re.sub(r" (\r\n|\r|\n)", r"\\\1", region)))

    def visit_TypeAlias(self, node: cst.TypeAlias) -> bool:
        start = self._span(node)[0]
        value_start, value_end = self._span(node.value)
        region = re.sub(r"[^\r\n]", " ", self.text[start + 1:value_start])
        self.found += [(start, value_start, "(" + region), (value_end, value_end, ")")]
        return True

    # PEP 701 / 750 --------------------------------------------------------------------
    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        if node not in self.in_unit:
            self._string_unit(node, _parts(node))

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        if node not in self.in_unit:
            self._string_unit(node, [node])

    def visit_TemplatedString(self, node: cst.CSTNode) -> None:
        if node not in self.in_unit:
            self._string_unit(node, [node])

    def _string_unit(self, unit: cst.CSTNode, parts: Sequence[cst.CSTNode]) -> None:
        """Leave *unit* (a string, or strings side by side) alone when this ``ast`` reads
        it; else make it the tuple of its replacement fields' expressions."""
        self.in_unit.update(parts)
        if not any(isinstance(part, (cst.FormattedString, _TEMPLATED)) for part in parts):
            return
        start, end = self._span(unit)
        try:
            ast.parse("(" + self.text[start:end] + "\n)", mode="eval")
            return
        except SyntaxError:
            pass
        kept = sorted(self._span(expression) for part in parts for expression in _field_expressions(part))
        cursor = start + 1
        self.found.append((start, start + 1, "("))
        for expression_start, expression_end in kept:
            self.found.append((cursor, expression_start, _spaces(self.text[cursor:expression_start])))
            cursor = expression_end
            self.found.append((cursor, cursor, ","))
        self.found.append((cursor, end - 1, _spaces(self.text[cursor:end - 1])))
        self.found.append((end - 1, end, ")"))


_TEMPLATED: tuple[type, ...] = tuple(getattr(cst, name) for name in ("TemplatedString",) if hasattr(cst, name))


def _spaces(region: str) -> str:
    return re.sub(r"[^\r\n]", " ", region)


def _parts(node: cst.BaseExpression) -> list[cst.CSTNode]:
    if isinstance(node, cst.ConcatenatedString):
        return _parts(node.left) + _parts(node.right)
    return [node]


def _field_expressions(part: cst.CSTNode) -> list[cst.BaseExpression]:
    """The expressions of an f-string's (or t-string's) replacement fields, those nested
    in format specs included."""
    return [expression for item in getattr(part, "parts", ()) for expression in _field_expressions_of(item)]


def _field_expressions_of(item: cst.CSTNode) -> list[cst.BaseExpression]:
    expression = getattr(item, "expression", None)
    if not isinstance(expression, cst.BaseExpression):
        return []
    found = [expression]
    for spec in getattr(item, "format_spec", None) or ():
        found += _field_expressions_of(spec)
    return found


class _Rewritten:
    """*text* with *edits* (start, end, replacement) applied, none spanning a line break it
    does not keep, and a map from the new text's positions back to the old one's."""

    def __init__(self, text: str, edits: list[tuple[int, int, str]]) -> None:
        self.old = text
        pieces: list[str] = []
        self.old_starts: list[int] = []
        self.new_starts: list[int] = []
        self.old_ends: list[int] = []
        self.new_ends: list[int] = []
        cursor = shift = 0
        touched: set[int] = set()
        old_line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        for start, end, replacement in edits:
            if start < cursor:
                raise SyntaxError("overlapping rewrites")  # a bug of ours: the file stays unread
            pieces += [text[cursor:start], replacement]
            self.old_starts.append(start)
            self.old_ends.append(end)
            self.new_starts.append(start + shift)
            shift += len(replacement) - (end - start)
            self.new_ends.append(end + shift)
            cursor = end
            first = bisect.bisect_right(old_line_starts, start)
            last = bisect.bisect_right(old_line_starts, end)
            touched.update(range(first, last + 1))
        pieces.append(text[cursor:])
        self.text = "".join(pieces)
        self.touched = touched
        self.old_line_starts = old_line_starts
        self.new_line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(self.text)]

    def _old_offset(self, new: int) -> int:
        at = bisect.bisect_right(self.new_starts, new) - 1
        if at < 0:
            return new
        if new >= self.new_ends[at]:
            return new - self.new_ends[at] + self.old_ends[at]
        return self.old_starts[at] + min(new - self.new_starts[at], self.old_ends[at] - self.old_starts[at])

    def _column(self, line: int, column: int) -> int:
        """The old text's byte column of the new text's byte *column* on *line*."""
        new_line = self._line(self.text, self.new_line_starts, line)
        characters = len(new_line.encode("utf-8")[:column].decode("utf-8", "replace"))
        old = self._old_offset(self.new_line_starts[line - 1] + characters) - self.old_line_starts[line - 1]
        return len(self._line(self.old, self.old_line_starts, line)[:old].encode("utf-8"))

    @staticmethod
    def _line(text: str, starts: list[int], line: int) -> str:
        return text[starts[line - 1]:starts[line] if line < len(starts) else len(text)]

    def map_positions(self, tree: ast.AST) -> None:
        if not self.touched:
            return
        for node in ast.walk(tree):
            line = getattr(node, "lineno", None)
            if line is not None and line in self.touched:
                node.col_offset = self._column(line, node.col_offset)  # type: ignore[attr-defined]
            end_line = getattr(node, "end_lineno", None)
            if end_line is not None and end_line in self.touched and node.end_col_offset is not None:  # type: ignore[attr-defined]
                node.end_col_offset = self._column(end_line, node.end_col_offset)  # type: ignore[attr-defined]
