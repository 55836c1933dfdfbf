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

LibCST reads only the statements ``ast`` rejects, each alone (an indented one under an
``if 1:`` line): the smallest statement around the line ``ast`` stopped at (a simple
statement's logical line, or a compound statement with its clauses and decorators),
then the next one ``ast`` stops at once that one is rewritten, and so on; when ``ast``
still stops in a statement already read, the statement before it is read with it (an
older tokenizer can take a PEP 701 f-string for the start of a long string). A scan that
knows strings, f-strings and brackets finds the logical lines, and the tree of the whole
rewritten text must hold each statement read alone as a run of sibling statements: if
not, or if anything else is unexpected, the whole module is read, as it always was
before. The edits, hence the tree, are those of the whole module's reading; on 3.12 and
3.13, whose ``ast`` reads PEP 695 while that reading blanks it, a statement using it is
read too. The one difference: a statement ``ast`` accepts is never handed to LibCST, so
a file that LibCST alone would refuse there (where it is stricter than CPython) is no
longer refused. LibCST's parse and positions cost several times ``ast``'s, in
proportion to what they read: a large module with one newer construct now costs about
one statement's worth (tendenci's 3,210-line ``events/forms.py``: 1.2 s to 0.1 s).
"""

from __future__ import annotations

import ast
import bisect
import hashlib
import re
import sys
import warnings
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
    tree = None
    if edits is None:
        edits, tree = _rewrites(text, filename, rejected)
        if len(_REWRITES) >= _REWRITES_KEPT:
            _REWRITES.pop(next(iter(_REWRITES)))
        _REWRITES[key] = edits
    if tree is None:
        rewritten = _Rewritten(text, edits)
        try:
            tree = ast.parse(rewritten.text, filename=filename)
        except SyntaxError:
            raise rejected from None  # LibCST is more lenient than CPython (`1 = x`, ...)
        rewritten.map_positions(tree)
    return tree


Edits = list[tuple[int, int, str]]


def _rewrites(text: str, filename: str, rejected: SyntaxError) -> tuple[Edits, ast.Module | None]:
    """The edits that make *text* readable by this interpreter's ``ast``, with the tree
    they give when it was already built; SyntaxError when no supported Python reads it."""
    problem = _too_deep(text)
    if problem is not None:
        raise SyntaxError(f"{rejected.msg} (not tried as newer Python syntax: {problem})",
                          (filename, rejected.lineno, rejected.offset, rejected.text)) from None
    found = _StatementRewrites(text, filename).run(rejected.lineno)
    if found is not None:
        return found
    return _module_rewrites(text, filename, rejected), None


def _module_rewrites(text: str, filename: str, rejected: SyntaxError) -> Edits:
    """The edits of LibCST's reading of the whole of *text*."""
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
        for node in _nodes(tree):
            line = getattr(node, "lineno", None)
            if line is not None and line in self.touched:
                node.col_offset = self._column(line, node.col_offset)  # type: ignore[attr-defined]
            end_line = getattr(node, "end_lineno", None)
            if end_line is not None and end_line in self.touched and node.end_col_offset is not None:  # type: ignore[attr-defined]
                node.end_col_offset = self._column(end_line, node.end_col_offset)  # type: ignore[attr-defined]


def _nodes(tree: ast.AST) -> list[ast.AST]:
    """The nodes :func:`ast.walk` yields (in another order) but the expression contexts,
    which have no position, at half its cost."""
    found = []
    pending = [tree]
    node_type, context = ast.AST, ast.expr_context
    while pending:
        node = pending.pop()
        found.append(node)
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                pending += [item for item in value if isinstance(item, node_type)]
            elif isinstance(value, node_type) and not isinstance(value, context):
                pending.append(value)
    return found


# The statements ast rejects, read alone ------------------------------------------------

#: The tokens of code outside strings: what matters is brackets, strings, comments and line
#: breaks (a string's prefix letters are read back from the text before its quote). The
#: ``%s`` are a replacement field's extra stop and ``colon`` token.
_CODE_TOKENS = r"""
    (?P<skip>[^\r\n'"\#\\()\[\]{}%s]+)
    |(?P<newline>\r\n|[\r\n])
    |(?P<continuation>\\(?:\r\n|[\r\n]))
    |(?P<comment>\#[^\r\n]*)
    |(?P<quote>'''|\"\"\"|'|\")
    |(?P<open>[(\[{])
    |(?P<close>[)\]}])
    %s
    |(?P<other>.)
    """
#: Code outside strings.
_CODE = re.compile(_CODE_TOKENS % ("", ""), re.VERBOSE | re.DOTALL)
#: The same in an f-string's replacement field, where a colon outside brackets starts the
#: format spec.
_FIELD_CODE = re.compile(_CODE_TOKENS % (":", "|(?P<colon>:)"), re.VERBOSE | re.DOTALL)
#: The rest of a string that has no replacement fields, after its opening quote.
_STRING_REST = {
    "'''": re.compile(r"[^\\']*(?:(?:\\.|'(?!''))[^\\']*)*'''", re.DOTALL),
    '"""': re.compile(r'[^\\"]*(?:(?:\\.|"(?!""))[^\\"]*)*"""', re.DOTALL),
    "'": re.compile(r"[^\\'\r\n]*(?:\\(?:\r\n|.)[^\\'\r\n]*)*'", re.DOTALL),
    '"': re.compile(r'[^\\"\r\n]*(?:\\(?:\r\n|.)[^\\"\r\n]*)*"', re.DOTALL),
}
#: In an f-string's (or t-string's) literal text or format spec: what ends a run of text.
#: A backslash never hides a brace (``\{`` opens a field), except in ``\N{NAME}``
#: outside raw strings.
_TEXT_STOP = re.compile(r"\\N\{[^{}\r\n'\"]*\}|\\(?:\r\n|[^{}])|\\|\{\{|\}\}|[{}'\"\r\n]", re.DOTALL)
_RAW_TEXT_STOP = re.compile(r"\\(?:\r\n|[^{}])|\\|\{\{|\}\}|[{}'\"\r\n]", re.DOTALL)
_STRING_PREFIXES = frozenset(("", "r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt"))
#: Clauses that continue the compound statement above them at the same indentation.
_CLAUSES = frozenset(("elif", "else", "except", "finally"))
_FIRST_WORD = re.compile(r"\w+|@")
#: How many times a run of statements read alone is extended to the statement before it
#: (see :meth:`_StatementRewrites.run`) before the whole module is read instead.
_WIDENINGS = 4
_TEXT, _FIELD, _SPEC = 0, 1, 2
#: Where a PEP 695 statement or type parameter list may be (a line continuation included).
_PEP_695 = re.compile(r"\btype\b|\b(?:class|def)\b[^:(]*\[")


def _logical_lines(text: str) -> list[tuple[int, int]] | None:
    """(offset of the first token, offset of the line break ending it) of every logical
    line of *text* (its NEWLINE tokens, as CPython's tokenizer and LibCST's place them,
    PEP 701 f-strings included); None when the scan meets what it does not expect (an
    unterminated string, an unbalanced bracket)."""
    found: list[tuple[int, int]] = []
    depth = 0  # brackets open in code outside f-strings
    # f-string frames, innermost last: [kind, closing quote, raw, brackets open in a field]
    frames: list[list] = []
    first: int | None = None  # where the current logical line starts
    position, end = 0, len(text)
    while position < end:
        if frames:
            position = _scan_fstring(text, position, frames)
            if position < 0:
                return None
            continue
        match = _CODE.match(text, position)
        assert match is not None  # `other` matches any character
        kind = match.lastgroup
        if kind == "newline":
            if depth == 0 and first is not None:
                found.append((first, position))
                first = None
        elif kind == "skip":
            if first is None:
                token = match.group()
                code = token.lstrip(" \t\f")
                if code:
                    first = match.end() - len(code)
        elif kind in ("continuation", "comment"):
            pass
        else:
            if first is None:
                first = position
            if kind == "quote":
                position = _open_string(text, match, frames)
                if position < 0:
                    return None
                continue
            if kind == "open":
                depth += 1
            elif kind == "close":
                depth -= 1
                if depth < 0:
                    return None
        position = match.end()
    if depth or frames:
        return None
    if first is not None:
        found.append((first, end))
    return found


def _open_string(text: str, quote: re.Match[str], frames: list[list]) -> int:
    """Past a string without fields whose opening quote is *quote*; at the text of an
    f-string or t-string (pushed on *frames*); -1 when unterminated."""
    start = quote.start()
    prefix_start = start
    while prefix_start > 0 and start - prefix_start < 3 and (text[prefix_start - 1].isalnum() or text[prefix_start - 1] == "_"):
        prefix_start -= 1
    prefix = text[prefix_start:start].lower()
    if prefix not in _STRING_PREFIXES or (prefix_start > 0 and (text[prefix_start - 1].isalnum() or text[prefix_start - 1] == "_")):
        prefix = ""  # a name before a plain string: not valid Python, left to ast
    if "f" in prefix or "t" in prefix:
        frames.append([_TEXT, quote.group(), "r" in prefix, 0])
        return quote.end()
    rest = _STRING_REST[quote.group()].match(text, quote.end())
    return -1 if rest is None else rest.end()


def _scan_fstring(text: str, position: int, frames: list[list]) -> int:
    """One step through an f-string (or t-string): its text, a replacement field's code,
    or a format spec; the position after it, -1 when the string is malformed."""
    frame = frames[-1]
    kind, quote, raw = frame[0], frame[1], frame[2]
    if kind == _FIELD:
        match = _FIELD_CODE.match(text, position)
        assert match is not None
        token_kind = match.lastgroup
        if token_kind == "quote":
            return _open_string(text, match, frames)
        if token_kind == "open":
            frame[3] += 1
        elif token_kind == "close":
            if frame[3]:
                frame[3] -= 1
            elif match.group() == "}":
                frames.pop()  # the field ends: back to the text or format spec around it
            else:
                return -1
        elif token_kind == "colon" and not frame[3]:
            frames.append([_SPEC, quote, raw, 0])
        return match.end()
    match = (_RAW_TEXT_STOP if raw else _TEXT_STOP).search(text, position)
    if match is None:
        return -1
    token, start = match.group(), match.start()
    if token[0] == "\\" or token == "{{" and kind == _TEXT or token == "}}" and kind == _TEXT:
        return match.end()
    if token[0] in "{}":
        if token[0] == "{":
            frames.append([_FIELD, quote, raw, 0])
        elif kind == _SPEC:
            del frames[-2:]  # the spec and its field end
        else:
            return -1  # a single `}` in an f-string's text
        return start + 1
    if token in "\r\n":
        return -1 if len(quote) == 1 else match.end()
    if text.startswith(quote, start):
        if kind != _TEXT:
            return -1
        frames.pop()
        return start + len(quote)
    return start + 1


class _StatementRewrites:
    """The edits of LibCST's reading of only the statements this ``ast`` rejects (see the
    module's docstring), with the tree they give; None wherever the statements cannot be
    trusted to be read alone, and the whole module is then read."""

    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def scan(self) -> bool:
        """Find the logical lines; False when the scan cannot be trusted."""
        lines = _logical_lines(self.text)
        if not lines:
            return False
        self.lines = lines
        self.first_lines = [self._line_of(start) for start, _ in lines]
        self.indents: dict[int, int] = {}
        return True

    def run(self, error_line: int | None) -> tuple[Edits, ast.Module] | None:
        if not self.scan():
            return None
        lines = self.lines
        chunks: dict[tuple[int, int], Edits] = {}  # (first, last logical line) -> its edits
        widened = 0
        for attempt in range(len(lines) + _WIDENINGS):
            chunk = self._statement_at(error_line)
            if chunk is None:
                return None
            holder = next((read for read in chunks if read[0] <= chunk[0] and chunk[1] <= read[1]), None)
            if holder is not None:  # ast still stops in it: what it misreads is above
                widened += 1
                chunk = self._with_previous(holder) if widened <= _WIDENINGS else None
                if chunk is None:
                    return None
            for inner in [inner for inner in chunks if chunk[0] <= inner[0] and inner[1] <= chunk[1]]:
                del chunks[inner]
            if any(read[0] <= chunk[1] and chunk[0] <= read[1] for read in chunks):
                return None  # statements overlapping without nesting: a scan gone wrong
            edits = self._read_alone(chunk)
            if edits is None:
                return None
            chunks[chunk] = edits
            edits = sorted(edit for found in chunks.values() for edit in found)
            try:
                rewritten = _Rewritten(self.text, edits)
            except SyntaxError:
                return None
            # After the first time, the text from the module-level statement just read
            # on is parsed first (ast read the text above it last time): a module with
            # many rejected statements is not parsed whole once for each.
            error_line, tree = self._parse(rewritten, self._top_level_line(chunk) if attempt else 1)
            if tree is None:
                continue
            rewritten.map_positions(tree)
            if not all(self._is_statement_run(tree, chunk) for chunk in chunks):
                return None
            error_line = self._newer_line_read(tree, chunks)
            if error_line is None:
                return edits, tree
        return None

    # The logical lines and statements ---------------------------------------------------
    def _line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def _indent(self, index: int) -> int:
        """The column of logical line *index*'s first token, as CPython counts it."""
        known = self.indents.get(index)
        if known is None:
            start = self.lines[index][0]
            known = 0
            for character in self.text[self.line_starts[self._line_of(start) - 1]:start]:
                known = (known // 8 + 1) * 8 if character == "\t" else 0 if character == "\f" else known + 1
            self.indents[index] = known
        return known

    def _first_word(self, index: int) -> str:
        match = _FIRST_WORD.match(self.text, self.lines[index][0])
        return "" if match is None else match.group()

    def _statement_at(self, line: int | None) -> tuple[int, int] | None:
        """The logical lines (first, last) of the smallest statement holding *line*."""
        if line is None:
            return None
        index = bisect.bisect_right(self.first_lines, line) - 1
        if index < 0 or self._line_of(self.lines[index][1]) < line:
            return None  # not in a logical line
        if self._first_word(index) == "case":
            parent = self._parent(index)
            if parent is not None and self._first_word(parent) == "match":
                index = parent  # a case clause is read with its match statement
        return self._statement(index)

    def _with_previous(self, chunk: tuple[int, int]) -> tuple[int, int] | None:
        """*chunk* and the statement before it (the one around it when it is the first of
        its block)."""
        indent = self._indent(chunk[0])
        index = chunk[0] - 1
        while index >= 0 and self._indent(index) > indent:
            index -= 1
        if index < 0:
            return None
        if self._indent(index) == indent:
            before = self._statement(index)
            return None if before is None else (before[0], chunk[1])
        return self._statement_at(self.first_lines[index])

    def _parent(self, index: int) -> int | None:
        indent = self._indent(index)
        while index > 0:
            index -= 1
            if self._indent(index) < indent:
                return index
        return None

    def _statement(self, index: int) -> tuple[int, int] | None:
        """The logical lines of the statement that logical line *index* begins, continues
        (a clause: ``else``, ``except``...) or decorates."""
        indent = self._indent(index)
        first = index
        while self._first_word(first) in _CLAUSES:
            first -= 1
            while first >= 0 and self._indent(first) > indent:
                first -= 1
            if first < 0 or self._indent(first) != indent:
                return None
        while first > 0 and self._first_word(first - 1) == "@" and self._indent(first - 1) == indent:
            first -= 1
        last = first
        count = len(self.lines)
        while self._first_word(last) == "@":
            last += 1
            if last == count or self._indent(last) != indent:
                return None
        while True:
            following = last + 1
            while following < count and self._indent(following) > indent:
                following += 1
            last = following - 1
            if following < count and self._indent(following) == indent and self._first_word(following) in _CLAUSES:
                last = following
                continue
            return first, last

    def _top_level_line(self, chunk: tuple[int, int]) -> int:
        """The first line of the module-level statement holding *chunk*."""
        index = chunk[0]
        while index > 0 and self._indent(index) > 0:
            index -= 1
        top = self._statement(index)
        return self.first_lines[top[0] if top is not None and top[0] <= chunk[0] else 0]

    # LibCST's reading of one statement --------------------------------------------------
    def _read_alone(self, chunk: tuple[int, int]) -> Edits | None:
        """The edits of LibCST's reading of *chunk* alone, at their offsets in the text."""
        start = self.line_starts[self.first_lines[chunk[0]] - 1]
        last_line = self._line_of(self.lines[chunk[1]][1])
        end = self.line_starts[last_line] if last_line < len(self.line_starts) else len(self.text)
        code = self.text[start:end]
        header = ""
        if self._indent(chunk[0]):
            line_break = _LINE_BREAK.search(code)
            header = "if 1:" + (line_break.group() if line_break else "\n")
        try:
            module = cst.parse_module(header + code)
            edits = _Rewrites(header + code, MetadataWrapper(module, unsafe_skip_copy=True)).edits()
        except (cst.ParserSyntaxError, RecursionError):
            return None
        shift = start - len(header)
        if any(edit_start < len(header) for edit_start, _, _ in edits):
            return None
        return [(edit_start + shift, edit_end + shift, replacement) for edit_start, edit_end, replacement in edits]

    # ast's reading of the whole text ----------------------------------------------------
    def _parse(self, rewritten: _Rewritten, from_line: int) -> tuple[int | None, ast.Module | None]:
        """The line ``ast`` next stops at in *rewritten*, else its tree; when *from_line* is
        not the first, the text from that line on is read first."""
        if from_line > 1:
            probe = "\n" * (from_line - 1) + rewritten.text[rewritten.new_line_starts[from_line - 1]:]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ast.parse(probe, filename=self.filename)
            except SyntaxError as error:
                return error.lineno, None
            except (ValueError, RecursionError, MemoryError):
                return None, None
        try:
            return None, ast.parse(rewritten.text, filename=self.filename)
        except SyntaxError as error:
            return error.lineno, None
        except (ValueError, RecursionError, MemoryError):
            return None, None

    def _is_statement_run(self, tree: ast.Module, chunk: tuple[int, int]) -> bool:
        """Whether the lines of *chunk* hold exactly a run of sibling statements of *tree*,
        the first one at the chunk's first token."""
        start = self.lines[chunk[0]][0]
        first_line = self.first_lines[chunk[0]]
        line_start = self.line_starts[first_line - 1]
        if self.text[line_start:start].strip(" \t\f"):
            return False
        column = start - line_start  # ast counts bytes, and indentation is ASCII
        last_line = self._line_of(self.lines[chunk[1]][1])
        blocks: list[list[ast.stmt]] = [tree.body]
        while blocks:
            body = blocks.pop()
            for index, statement in enumerate(body):
                decorators = getattr(statement, "decorator_list", None)
                begins = decorators[0].lineno if decorators else statement.lineno
                if begins > first_line:
                    break
                if (statement.end_lineno or 0) < first_line:
                    continue
                if begins == first_line and statement.col_offset == column:
                    return self._run_ends(body, index, first_line, last_line)
                blocks += _blocks(statement)  # it spans the chunk's first line: look inside
        return False

    @staticmethod
    def _run_ends(body: list[ast.stmt], index: int, first_line: int, last_line: int) -> bool:
        if index and (body[index - 1].end_lineno or 0) >= first_line:
            return False
        for following, statement in enumerate(body[index:], index):
            if (statement.end_lineno or 0) > last_line:
                return False
            after = body[following + 1] if following + 1 < len(body) else None
            if statement.end_lineno == last_line and (after is None or after.lineno > last_line):
                return True
        return False

    def _newer_line_read(self, tree: ast.Module, chunks: dict[tuple[int, int], Edits]) -> int | None:
        """On Python 3.12 and 3.13, whose ``ast`` reads PEP 695 that LibCST's reading blanks:
        the first line of a statement using it outside *chunks*."""
        if sys.version_info < (3, 12) or not _PEP_695.search(self.text):
            return None
        spans = [(self.first_lines[first], self._line_of(self.lines[last][1])) for first, last in chunks]
        pending: list[ast.stmt] = list(tree.body)
        while pending:
            statement = pending.pop()
            if any(first <= statement.lineno and (statement.end_lineno or 0) <= last for first, last in spans):
                continue
            if isinstance(statement, getattr(ast, "TypeAlias", ())) or getattr(statement, "type_params", None):
                return statement.lineno
            pending += [inner for block in _blocks(statement) for inner in block]
        return None


def _blocks(statement: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists directly inside *statement*."""
    found = [getattr(statement, name) for name in ("body", "orelse", "finalbody") if isinstance(getattr(statement, name, None), list)]
    for clause in getattr(statement, "handlers", ()) or getattr(statement, "cases", ()):
        found.append(clause.body)
    return found
