"""Every Python syntax from 3.8 to 3.14 is read, whatever interpreter runs o2o-lint.

The suite runs on Python 3.11: PEP 695 generics, PEP 701 f-strings (3.12) and PEP 758
``except A, B:`` (3.14) are rejected by its ``ast``; the facts, screens and findings of
such files must still come out, at the positions of the original text.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from o2o_lint.syntax import parse_module
from tests.helpers import run_cli, write_project

MODELS = '''\
from django.db import models

type Label = str


class Box[T]:
    def __init__(self, item: T) -> None:
        self.item = item


def first[T: models.Model](items: list[T]) -> T:
    return items[0]


class Company(models.Model):
    def __str__(self):
        return f"{self.name!r} {f"{"nested"}"}"


class Address(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True)
'''
SERVICES = '''\
def first_address(company):
    try:
        return company.address_set.get()
    except ValueError, TypeError:
        return None
'''

NEWER_SYNTAX = {
    "except-comma": "try:\n    pass\nexcept ValueError, TypeError: x = 1  # c\n",
    "except-star-comma": "try:\n    pass\nexcept* ValueError, TypeError:\n    pass\n",
    "generic-class": "class Box[T](Base[int]):\n    x: T\n",
    "generic-class-lines": "class Box[\n    T,\n](Base):\n    x: T\n",
    "generic-def": "def f[T: int, *Ts, **P](x: T) -> T:\n    return x\n",
    "type-alias": "type Alias[T] = list[T]\nz = 1\n",
    "type-default": "class A[T = int]: pass\n",
    "nested-quotes": "x = f\"{'a'}{\"b\"}{f\"{1}\"}\" + y\n",
    "multi-line-field": "x = f\"{\n  1 + 2\n}\" ; q = 1\n",
    "backslash-in-field": "x = f\"\u00e9{'\\n'.join(a)!r:>{w}}\"  + company.address_set.get()\n",
    "concatenated": "x = 'a' f\"{\"b\"}\" + z\n",
    "t-string": "x = t\"{a}\"\n",
}


@pytest.mark.parametrize("source", list(NEWER_SYNTAX.values()), ids=list(NEWER_SYNTAX))
def test_newer_syntax_parses_with_the_positions_of_the_original_text(source: str) -> None:
    tree = parse_module(source)
    lines = source.splitlines()
    names = 0
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)) and node.lineno == node.end_lineno:
            segment = lines[node.lineno - 1].encode()[node.col_offset:node.end_col_offset].decode()
            expected = node.id if isinstance(node, ast.Name) else ast.unparse(node)
            assert segment == expected, (segment, expected)
            names += 1
    assert names or "A[T = int]" in source


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("print 'hello'\n", "Missing parentheses"),
        ("x = 1\n<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> branch\n", "invalid syntax"),
        # before 3.12 the first error ast meets is newer syntax and the real one, LibCST's, is
        # further down; 3.12+ reads PEP 695 itself and its ast reports the real one
        ("class A[T]:\n    pass\n\ndef f(:\n    pass\n",
         "invalid syntax in every Python 3.8 to 3.14" if sys.version_info < (3, 12) else "invalid syntax"),
        # too deep for LibCST's native parser (which would crash the process)
        ("x = 1" + "+1" * 10000 + "\ntry:\n  pass\nexcept A, B:\n  pass\n", "not tried as newer Python syntax"),
        ("x = " + "(" * 250 + ")" * 250 + "\ntype A = int\n", "nested"),
    ],
    ids=["python-2", "merge-conflict", "error-after-newer-syntax", "deep-chain", "deep-brackets"],
)
def test_what_no_supported_python_reads_is_a_syntax_error(source: str, fragment: str) -> None:
    with pytest.raises(SyntaxError) as raised:
        parse_module(source)
    assert fragment in str(raised.value.msg)


def test_a_file_the_interpreter_reads_never_loads_libcst() -> None:
    script = (
        "import sys\n"
        "from o2o_lint.syntax import parse_module\n"
        "parse_module('x = 1\\n')\n"
        "print('libcst' in sys.modules, 'o2o_lint.syntax_compat' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_findings_in_files_of_newer_syntax(tmp_path: Path) -> None:
    """A models file of PEP 695 and 701 declares the unique ForeignKey; its reverse manager
    is used in a file of PEP 758: both are found, and the conversion is unsafe."""
    write_project(tmp_path, {"app/models.py": MODELS, "app/services.py": SERVICES})
    result = run_cli("--output-format", "json", "--no-cache", ".", cwd=tmp_path)
    found = {(r["code"], r["filename"].rpartition("/")[2], r["location"]["row"]) for r in json.loads(result.stdout)}
    assert found == {("OTO001", "models.py", 21), ("OTO004", "services.py", 3)}, result.stdout
    fix = run_cli("--fix", ".", cwd=tmp_path)
    assert "is used as a manager in 1 file(s)" in fix.stdout and "OTO000" not in fix.stdout
    assert "models.ForeignKey(Company, models.CASCADE, unique=True)" in (tmp_path / "app" / "models.py").read_text()
    # with the use gone, the fix is safe and applied; the file keeps its syntax
    (tmp_path / "app" / "services.py").write_text(SERVICES.replace("company.address_set.get()", "None"))
    fixed = run_cli("--fix", "--no-cache", ".", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout
    text = (tmp_path / "app" / "models.py").read_text()
    assert "models.OneToOneField(Company, models.CASCADE)" in text and "class Box[T]:" in text


def test_a_file_of_newer_syntax_is_rewritten_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The facts pass and the analysis parse the same text: LibCST reads it (and resolves
    its positions) once; the second tree is the first, positions included."""
    from o2o_lint import syntax_compat

    text = 'def f(a, b):\n    try:\n        return a / b\n    except ZeroDivisionError, TypeError:\n        return f"{a!r} {b}"\n'
    rejected = SyntaxError("rejected", ("x.py", 4, 5, ""))
    rewrites: list[str] = []
    real = syntax_compat._rewrites
    monkeypatch.setattr(syntax_compat, "_rewrites", lambda *args: rewrites.append(args[0]) or real(*args))
    first = syntax_compat.parse_newer_syntax(text, "x.py", rejected)
    second = syntax_compat.parse_newer_syntax(text, "x.py", rejected)
    assert rewrites == [text]
    assert ast.dump(first, include_attributes=True) == ast.dump(second, include_attributes=True)
    handler = first.body[0].body[0].handlers[0]
    assert isinstance(handler.type, ast.Tuple) and (handler.type.lineno, handler.type.col_offset) == (4, 11)
    syntax_compat.parse_newer_syntax(text + "\n", "x.py", rejected)  # other text: read again
    assert rewrites == [text, text + "\n"]
