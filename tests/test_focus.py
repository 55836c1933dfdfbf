"""Focused parsing: LibCST parses only the statements a tree screen points at.

A focused analysis must never hide a finding the whole-file analysis has: every rule
case runs both ways and must agree, and a file with a finding is always reported (and
fixed) from the whole file.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from o2o_lint import focus
from o2o_lint.focus import focused_source, kept_lines
from o2o_lint.rules.base import Invalid, Valid
from o2o_lint.rules.oto003_unsaved_instance.rule import _MODELS
from tests.helpers import engine_for, engine_for_case, record_libcst_parses, rule_cases, write_project

#: The models file the rule's cases use, and the import line their snippets start with.
_FILES = {"places/models.py": _MODELS}
_IMPORT = "from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter\n\n\n"

MODULE = textwrap.dedent("""\
    import os


    @decorator(
        option=True,
    )
    class Tests(Base):
        '''Docstring.'''

        fixtures = ["a.json"]

        def test_one(self):
            return 1

        @property
        def test_two(self):
            x = '''
    a string at column 0
    '''
            return x


    def helper():
        return 2
    """)


def kept(text: str) -> list[int]:
    return [number for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def test_a_method_keeps_its_class_header_and_nothing_else() -> None:
    tree = ast.parse(MODULE)
    focused = focused_source(MODULE, tree, {18})  # inside test_two's string
    assert focused is not None
    # the decorator and the header up to the docstring; test_two with its decorator and its string
    assert kept(focused) == [4, 5, 6, 7, 15, 16, 17, 18, 19, 20]
    original = MODULE.splitlines()
    assert all(focused.splitlines()[number - 1] == original[number - 1] for number in kept(focused))
    assert len(focused.splitlines()) == len(original)  # positions stay those of the file
    ast.parse(focused)


def test_a_top_level_function_is_kept_whole() -> None:
    tree = ast.parse(MODULE)
    assert kept_lines(tree, {24}) == [(23, 24)]


def test_a_line_in_a_class_header_keeps_the_whole_class() -> None:
    tree = ast.parse(MODULE)
    assert kept_lines(tree, {5}) == [(4, 20)]


def test_a_line_outside_every_statement_needs_the_whole_module() -> None:
    tree = ast.parse(MODULE)
    assert kept_lines(tree, {2}) is None


def test_no_focus_when_most_of_the_file_is_kept() -> None:
    tree = ast.parse(MODULE)
    assert focused_source(MODULE, tree, {13, 18}) is not None  # 12 lines of 24
    assert focused_source(MODULE, tree, {5}) is None  # the whole class: 17 of 24


def test_line_ends_are_kept_as_they_were() -> None:
    text = "def a():\r\n    return 1\r\n\r\n\x0c\r\ndef b():\r\n    return 2\r\n" + "\r\n" * 10
    focused = focused_source(text, ast.parse(text), {5})
    assert focused == "\r\n" * 4 + "def b():\r\n    return 2\r\n" + "\r\n" * 10


# -- the engine: focused and whole-file analyses agree ------------------------------------

FILLER = "".join(f"\n\ndef _filler_{n}(value):\n    return value + {n}\n" for n in range(20))


def _findings(tmp_path: Path, code: str, case: Valid | Invalid, share: float, monkeypatch) -> tuple[list[tuple], bool]:
    """Findings of *case* (with unrelated functions appended), and whether a focused parse ran."""
    source = textwrap.dedent(case.code) + FILLER
    engine, path = engine_for_case(tmp_path, code, case, source)
    parsed = record_libcst_parses(monkeypatch)
    monkeypatch.setattr(focus, "MAX_FOCUSED_SHARE", share)
    findings = [
        (f.line, f.column, f.end_line, f.end_column, f.code, f.message, f.fix and (f.fix.description, f.fix.safe))
        for f in engine.analyze(path, source).findings
    ]
    # a focused text keeps the file's lines; other files parsed (OTO003's conftest.py fixtures) do not count
    return findings, any(text != source and text.count("\n") == source.count("\n") for text in parsed)


@pytest.mark.parametrize(("code", "case"), list(rule_cases("VALID", "INVALID")))
def test_focused_and_whole_file_analyses_agree(tmp_path: Path, code: str, case: Valid | Invalid, monkeypatch) -> None:
    whole, focused_parse = _findings(tmp_path / "whole", code, case, -1.0, monkeypatch)
    assert not focused_parse
    focused, _ = _findings(tmp_path / "focused", code, case, 1.0, monkeypatch)
    assert focused == whole


@pytest.mark.slow
def test_rule_cases_do_exercise_focusing(tmp_path: Path, monkeypatch) -> None:
    focused_cases = 0
    for number, param in enumerate(rule_cases("VALID", "INVALID")):
        code, case = param.values
        if isinstance(case, Invalid):
            _, focused_parse = _findings(tmp_path / str(number), code, case, 1.0, monkeypatch)
            focused_cases += focused_parse
    assert focused_cases >= 30  # OTO002 and OTO003 cases inside functions


def test_large_module_parses_one_method_then_reports_from_the_whole_file(tmp_path: Path, monkeypatch) -> None:
    tests = "".join(f"    def test_{n}(self):\n        self.assertEqual(Place(name='{n}').name, '{n}')\n\n"
                    for n in range(30))
    source = (_IMPORT + "class PlaceTests(TestCase):\n    fixtures = ['x.json']\n\n" + tests
              + "    def test_open(self):\n        p = Place(name='x')\n        Restaurant.objects.create(place=p)\n")
    root = write_project(tmp_path, {**_FILES, "app/tests.py": source})
    engine = engine_for(root, select=("OTO003",))
    parsed = record_libcst_parses(monkeypatch)
    path = str(root / "app/tests.py")
    findings = engine.analyze(path, source).findings
    assert [(f.code, f.line, f.column) for f in findings] == [("OTO003", source.count("\n"), 8)]
    assert len(parsed) == 2 and parsed[1] == source
    assert kept(parsed[0]) == [4, 97, 98, 99]  # the class line, then test_open
    fixed = engine.fix(path, source).text
    assert fixed.endswith("        p = Place(name='x')\n        p.save()\n        Restaurant.objects.create(place=p)\n")


def test_a_clean_large_module_is_parsed_once_and_only_in_part(tmp_path: Path, monkeypatch) -> None:
    tests = "".join(f"    def test_{n}(self):\n        Restaurant.objects.filter(place__name='{n}')\n\n" for n in range(30))
    source = (_IMPORT + "class PlaceTests(TestCase):\n" + tests
              + "    def test_open(self):\n        p = Place(name='x')\n        if p.name:\n            p.save()\n"
              "            Restaurant.objects.create(place=p)\n")
    root = write_project(tmp_path, {**_FILES, "app/tests.py": source})
    engine = engine_for(root, select=("OTO003",))
    parsed = record_libcst_parses(monkeypatch)
    assert engine.analyze(str(root / "app/tests.py"), source).findings == []
    assert len(parsed) == 1 and len(kept(parsed[0])) == 6
