"""LibCST reads only the statements the interpreter's ``ast`` rejects, each alone.

The oracle is the reading of the whole module (what ``syntax_compat`` did before, and still
does when the statements cannot be trusted to be read alone): for every text here the
edits, hence the tree with every position, are the same, and LibCST is handed far less
than the module. Every text is rejected on Python 3.10 to 3.13 (PEP 758 ``except A, B:``
or a PEP 750 t-string somewhere); PEP 701 f-strings and PEP 695 generics are rejected
before 3.12, and on 3.12 and 3.13 still rewritten as the whole module's reading does.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

import libcst
import pytest

from o2o_lint import syntax_compat
from o2o_lint.syntax import parse_module

#: Ordinary code of every kind the statement scan must step over: strings holding code,
#: quotes and braces, f-strings of Python 3.10, continuations, decorators, clauses.
UNIT = '''\
@decorator(name="@I")
class Model@I(Base):
    """Docstring with 'quotes', "double", {braces} and except A, B: text."""

    field = models.CharField(
        max_length=10,  # a comment with a ' quote and a "
        help_text=f"{value!r:>{width}} {'nested'} {{escaped}}",
    )

    def method(self, a, b):
        if a:
            return f'{a["key"]}' + r"\\d{2}" + b'bytes' + rf"\\{a}" + f"\\N{EM DASH}"
        elif b:
            values = [
                x for x in range(10)
                if x % 2
            ]
        else:
            values = {"a": 1, 'b': [1, 2, (3, 4)]}
        try:
            return values
        except (ValueError, TypeError):
            return None


def function_@I(x, *args, **kwargs):
    total = x + \\
        1
    text = """triple
    with 'single' and "double" quotes and a # not a comment
    """
    return total; pass

'''


def filler(first: int, count: int) -> str:
    return "".join(UNIT.replace("@I", str(number)) for number in range(first, first + count))


EXCEPT_COMMA = "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n"
#: (text, whether LibCST must read much less than the module).
CASES = {
    "middle-of-a-large-module": filler(0, 20) + EXCEPT_COMMA + filler(20, 20),
    "nested-function-in-a-method": filler(0, 5) + (
        "class Outer:\n"
        "    x = 1\n\n"
        "    def method(self):\n"
        "        def inner(values):\n"
        "            y = 2\n"
        "            try:\n"
        "                return values[0]\n"
        "            except IndexError, KeyError:\n"
        "                return t'{values!r}'\n"
        "        return inner\n\n"
        "    z = 3\n"
    ) + filler(5, 5),
    "two-distant-statements": "import os\n" + EXCEPT_COMMA + filler(0, 15) + "label = t'{os.sep}'\n" + filler(15, 5),
    "rewriting-one-uncovers-the-next": filler(0, 5) + (
        "def f(a):\n"
        "    try:\n"
        "        return f\"{a[\"key\"]!r}\"\n"
        "    except KeyError, TypeError:\n"
        "        return None\n"
    ) + filler(5, 5),
    "misread-by-an-older-tokenizer": filler(0, 3) + (
        "x = f\"{'''\"'''}\"\n"
        "y = 1\n"
        "z = '''abc'''\n"
    ) + filler(3, 3) + EXCEPT_COMMA,
    "generics-away-from-the-rejected-statement": (
        "@dataclass\n"
        "class Box[T]:\n"
        "    item: T\n\n"
        "type Pair[K] = tuple[K, K]\n\n"
        "class Plain:\n"
        "    def first[T](self, items: list[T]) -> T:\n"
        "        return items[0]\n"
    ) + filler(0, 10) + EXCEPT_COMMA,
    "clauses": filler(0, 5) + (
        "if a:\n    pass\nelif b:\n    x = t'{c}'\nelse:\n    pass\n"
        "for item in items:\n    pass\nelse:\n    label = t'{item}'\n"
    ) + filler(5, 5),
    "case-guard": filler(0, 5) + (
        "match command:\n"
        "    case 'go' if t'{command}':\n"
        "        pass\n"
        "    case _:\n"
        "        pass\n"
    ) + filler(5, 5),
    "decorator": filler(0, 5) + (
        "@decorator\n"
        "@other(t'{name}')\n"
        "def decorated():\n"
        "    pass\n"
    ) + filler(5, 5),
    "one-line-compound-with-clause": filler(0, 5) + "if a: x = t'{b}'; y = 1\nelse: z = 2\n" + filler(5, 5),
    "multi-line-field-in-a-class": filler(0, 5) + (
        "class Report:\n"
        "    title = f\"{\n"
        "        'a' + \"b\"\n"
        "    }\" ; code = t'{title}'\n"
    ) + filler(5, 5),
    "windows-line-breaks": (filler(0, 10) + EXCEPT_COMMA + filler(10, 10)).replace("\n", "\r\n"),
    "tabs": filler(0, 5) + "class Tabbed:\n\tdef m(self):\n\t\ttry:\n\t\t\tpass\n\t\texcept A, B:\n\t\t\tpass\n" + filler(5, 5),
    "first-and-last-lines": "x = t'{a}'\n" + filler(0, 10) + "y = t'{b}'",
    "rejected-in-a-large-class": (
        "class Large:\n" + "".join(f"    def m{n}(self):\n        return f'{{self!r}}' + '{n}'\n\n" for n in range(200))
        + "    def last(self):\n        return t'{self}'\n"
    ),
}


def _rejected(text: str) -> SyntaxError:
    with pytest.raises(SyntaxError) as raised:
        ast.parse(text)
    return raised.value


def _whole_module(text: str) -> tuple[list[tuple[int, int, str]], str]:
    edits = syntax_compat._module_rewrites(text, "x.py", _rejected(text))
    rewritten = syntax_compat._Rewritten(text, edits)
    tree = ast.parse(rewritten.text)
    rewritten.map_positions(tree)
    return edits, ast.dump(tree, include_attributes=True)


@pytest.mark.parametrize("text", list(CASES.values()), ids=list(CASES))
def test_statements_read_alone_give_the_whole_modules_edits_and_tree(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[int] = []
    real = libcst.parse_module
    monkeypatch.setattr(libcst, "parse_module", lambda code, *args, **kwargs: read.append(len(code)) or real(code, *args, **kwargs))
    found = syntax_compat._StatementRewrites(text, "x.py").run(_rejected(text).lineno)
    assert found is not None, "the statements were not read alone"
    edits, tree = found
    assert sum(read) * 4 < len(text), (read, len(text))
    assert (edits, ast.dump(tree, include_attributes=True)) == _whole_module(text)
    # and through the front door, whose cache keeps the edits
    syntax_compat._REWRITES.clear()
    assert ast.dump(parse_module(text), include_attributes=True) == ast.dump(tree, include_attributes=True)
    assert ast.dump(parse_module(text), include_attributes=True) == ast.dump(tree, include_attributes=True)


def _outcome(text: str, monkeypatch: pytest.MonkeyPatch, *, alone: bool) -> object:
    syntax_compat._REWRITES.clear()
    with monkeypatch.context() as patch:
        if not alone:
            patch.setattr(syntax_compat._StatementRewrites, "run", lambda self, line: None)
        try:
            return ast.dump(parse_module(text), include_attributes=True)
        except SyntaxError as error:
            return (error.msg, error.lineno, error.offset)


@pytest.mark.parametrize(
    "text",
    [
        filler(0, 3) + EXCEPT_COMMA + "x = = 1\n" + filler(3, 3),
        filler(0, 3) + "x = = 1\n" + EXCEPT_COMMA,
        filler(0, 3) + EXCEPT_COMMA + "print 'hello'\n",
        filler(0, 3) + "def f(:\n    pass\n" + "label = t'{a}'\n",
        EXCEPT_COMMA + "  indented = 1\n",
        filler(0, 3) + "s = '''unterminated\n" + EXCEPT_COMMA,
        EXCEPT_COMMA + "x = (\n",
    ],
    ids=["invalid-after", "invalid-before", "python-2-after", "error-in-a-def", "bad-indent", "unterminated", "unclosed"],
)
def test_what_no_python_reads_fails_as_when_the_whole_module_is_read(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    outcome = _outcome(text, monkeypatch, alone=True)
    assert isinstance(outcome, tuple), outcome
    assert outcome == _outcome(text, monkeypatch, alone=False)


def _tokenized_logical_lines(text: str) -> list[tuple[tuple[int, int], int]]:
    """(line, column) of each logical line's first token and the line of its NEWLINE,
    from the running interpreter's tokenizer."""
    found = []
    first = None
    skipped = {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.NEWLINE:
            if first is not None:
                found.append((first, token.start[0]))
            first = None
        elif token.type not in skipped and first is None:
            first = token.start
    return found


def _scanned_logical_lines(text: str) -> list[tuple[tuple[int, int], int]]:
    lines = syntax_compat._logical_lines(text)
    assert lines is not None
    starts = [0] + [index + 1 for index, character in enumerate(text) if character == "\n"]

    def where(offset: int) -> tuple[int, int]:
        line = max(number for number, start in enumerate(starts, 1) if start <= offset)
        return line, offset - starts[line - 1]

    return [(where(first), where(end)[0]) for first, end in lines]


TRICKY = {
    "continuations": "x = 1 + \\\n    2\ny = (1,\n 2)  # ) not a bracket\nz = [\n]\n",
    "strings": "a = '''x\n''' + \"\"\"y\n\"\"\"\nb = 'it''s' \"a\\\"b\"\nc = r'\\\\' + br'\\d' + u'x'\n",
    "f-strings": "d = f'{a:{b}>{c}}' + f\"{x!r}\" + f'{{}}' + rf'\\{a}' + f'\\N{EM DASH}{a}'\ne = 1\n",
    "comments": "# '''\nf = 1  # \"\n\n   # indented comment\ng = 2",
    "semicolons-and-compounds": "if a: b = 1; c = 2\nelse: pass\nwhile x:\n    pass\n",
}


@pytest.mark.parametrize("text", list(TRICKY.values()), ids=list(TRICKY))
def test_the_scan_finds_the_logical_lines_the_tokenizer_finds(text: str) -> None:
    assert _scanned_logical_lines(text) == _tokenized_logical_lines(text)


#: (text, its logical lines: where the first token is, the line of the NEWLINE).
TRICKY_PEP_701 = {
    "reused-quotes": ("x = f\"{a[\"k\"]} {f\"{\"deep\"}\"}\"\ny = 1\n", [((1, 0), 1), ((2, 0), 2)]),
    "multi-line-field": ("x = f\"{\n  1 + 2\n}\" ; q = 1\nz = 2\n", [((1, 0), 3), ((4, 0), 4)]),
    "triple-quote-in-a-field": ("x = f\"{'''\"'''}\"\ny = 1\nz = '''abc'''\n", [((1, 0), 1), ((2, 0), 2), ((3, 0), 3)]),
    "comment-in-a-field": ("x = f'''{a # comment ' \"\n}'''\ny = 1\n", [((1, 0), 2), ((3, 0), 3)]),
}


@pytest.mark.parametrize(("text", "expected"), list(TRICKY_PEP_701.values()), ids=list(TRICKY_PEP_701))
def test_the_scan_reads_pep_701_f_strings_as_python_3_12_does(text: str, expected: list) -> None:
    assert _scanned_logical_lines(text) == expected
    if sys.version_info >= (3, 12):  # the tokenizer that reads them agrees
        assert _tokenized_logical_lines(text) == expected


def test_the_scan_finds_the_logical_lines_of_o2o_lints_own_code() -> None:
    for path in sorted((Path(__file__).resolve().parent.parent / "o2o_lint").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert _scanned_logical_lines(text) == _tokenized_logical_lines(text), path


def test_a_statement_read_alone_must_be_a_run_of_statements_in_the_whole_tree() -> None:
    """The guard against a scan gone wrong (the whole module is read then)."""
    text = (
        's = """\n'         # 1: a string holding what looks like a statement
        "x = 1\n"           # 2
        '"""\n'             # 3
        "if a:\n"           # 4
        "    b = 1; c = 2\n"  # 5
        "    d = (1,\n"     # 6
        "         2)\n"     # 7
        "else:\n"           # 8
        "    e = 3\n"       # 9
    )
    reader = syntax_compat._StatementRewrites(text, "x.py")
    assert reader.scan()
    tree = ast.parse(text)
    at = {reader.first_lines[index]: index for index in range(len(reader.lines))}
    assert reader._is_statement_run(tree, (at[4], at[9]))  # the whole if statement
    assert reader._is_statement_run(tree, (at[5], at[5]))  # b = 1; c = 2
    assert reader._is_statement_run(tree, (at[5], at[6]))  # b, c and d
    assert reader._is_statement_run(tree, (at[9], at[9]))
    assert not reader._is_statement_run(tree, (at[4], at[8]))  # the if statement but its else block
    assert not reader._is_statement_run(tree, (at[4], at[5]))  # the if statement but its first line
    assert not reader._is_statement_run(tree, (at[6], at[9]))  # across the else
    # a logical line the scan would have wrongly found inside the string
    reader.lines.insert(1, (text.index("x = 1"), text.index("x = 1") + 5))
    reader.first_lines.insert(1, 2)
    reader.indents.clear()
    assert not reader._is_statement_run(tree, (1, 1))
