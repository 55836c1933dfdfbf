"""OTO003 beyond its VALID/INVALID snippets: target versions, cross-file models, the
screen, fix placement in unusual statements, and the "never import the code" rule."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from o2o_lint.findings import Finding
from o2o_lint.rules.base import FileContext
from o2o_lint.rules.oto003_unsaved_instance.rule import _MODELS, UnsavedInstance
from o2o_lint.rules.oto003_unsaved_instance.screen import _model_calls
from tests.helpers import engine_for, write_project

#: The models file the rule's cases use, and the import line their snippets start with.
_FILES = {"places/models.py": _MODELS}
_IMPORT = "from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter\n\n\n"

CODE = "app/code.py"


def lint(tmp_path: Path, code: str, files: dict[str, str] | None = None, **settings: object) -> tuple[list[Finding], str]:
    """Findings of OTO003 for *code* (as ``app/code.py``) and the text ``--fix --unsafe-fixes`` makes of it."""
    write_project(tmp_path, {**(_FILES if files is None else files), CODE: code})
    engine = engine_for(tmp_path, select=("OTO003",), **settings)
    path = str(tmp_path / CODE)
    source = Path(path).read_text()
    findings = engine.analyze(path, source).findings
    return findings, engine.fix(path, source, unsafe=True).text


def case(body: str) -> str:
    return _IMPORT + textwrap.dedent(body)


# -- messages follow --target-version ---------------------------------------------------

LOOKUP = case("""\
    def find():
        author = Author(name='x')
        return Book.objects.filter(author=author)
    """)


@pytest.mark.parametrize(
    ("version", "expected", "absent"),
    [
        ((3, 2), "before Django 5.0 the lookup silently matches NULL (`author IS NULL`)", "Django raises"),
        ((4, 2), "before Django 5.0 the lookup silently matches NULL (`author IS NULL`)", "Django raises"),
        ((5, 0), 'Django raises "ValueError: Model instances passed to related filters must be saved."', "NULL"),
        ((6, 1), 'Django raises "ValueError: Model instances passed to related filters must be saved."', "NULL"),
    ],
)
def test_lookup_wording_follows_the_target_version(
    tmp_path: Path, version: tuple[int, int], expected: str, absent: str
) -> None:
    findings, fixed = lint(tmp_path, LOOKUP, target_version=version)
    assert len(findings) == 1
    message = findings[0].message
    assert expected in message and absent not in message
    assert "`author` (Author, constructed on line 5)" in message and "`Book.author`" in message
    assert "no automatic fix" in message and findings[0].fix is None
    assert fixed == LOOKUP


def test_in_lookup_wording_below_5_0(tmp_path: Path) -> None:
    code = case("""\
        def find():
            author = Author(name='x')
            return Book.objects.filter(author__in=[author])
        """)
    findings, _ = lint(tmp_path, code, target_version=(4, 2))
    assert "silently becomes NULL in `author__in`, which matches nothing for it" in findings[0].message


@pytest.mark.parametrize(("version", "expected"), [
    ((4, 0), "silently writes NULL to `author`"),
    ((4, 1), '"ValueError: bulk_update() prohibited to prevent data loss due to unsaved related object \'author\'."'),
])
def test_bulk_update_wording(tmp_path: Path, version: tuple[int, int], expected: str) -> None:
    code = case("""\
        def rehome(book):
            author = Author(name='x')
            book.author = author
            Book.objects.bulk_update([book], ['author'])
        """)
    findings, _ = lint(tmp_path, code, target_version=version)
    assert expected in findings[0].message


@pytest.mark.parametrize(("version", "expected"), [
    ((4, 0), "returns an empty result without a query"),
    ((4, 1), "\"ValueError: 'Author' instance needs to have a primary key value before this relationship can be used.\""),
])
def test_reverse_manager_read_wording(tmp_path: Path, version: tuple[int, int], expected: str) -> None:
    code = case("""\
        def count():
            author = Author(name='x')
            return author.book_set.count()
        """)
    findings, _ = lint(tmp_path, code, target_version=version)
    assert expected in findings[0].message and findings[0].fix is None


# -- the project index: models in other files and packages ------------------------------

SHOP = {
    "shop/models/__init__.py": "from .base import Place, Restaurant, Stall\n",
    "shop/models/base.py": textwrap.dedent("""\
        from django.db import models


        class Place(models.Model):
            name = models.CharField(max_length=50)


        class Restaurant(Place):  # multi-table inheritance
            serves_pizza = models.BooleanField(default=False)


        class Located(models.Model):
            place = models.ForeignKey(Place, models.CASCADE)

            class Meta:
                abstract = True


        class Stall(Located):
            number = models.IntegerField()
        """),
}


def test_models_from_another_package_abstract_fields_and_inheritance(tmp_path: Path) -> None:
    code = textwrap.dedent("""\
        from shop import models as shop


        def open_stall(number):
            # an MTI child is a Place: an unsaved one fails the same way
            restaurant = shop.Restaurant(name='x')
            return shop.Stall.objects.create(place=restaurant, number=number)
        """)
    findings, fixed = lint(tmp_path, code, files=SHOP)
    assert [f.line for f in findings] == [7]
    assert "`restaurant` (Restaurant, constructed on line 6)" in findings[0].message
    assert "`Stall.place`" in findings[0].message  # declared on the abstract base
    assert "    restaurant.save()\n    return shop.Stall.objects.create" in fixed


def test_relative_import_and_a_name_that_only_looks_like_a_model(tmp_path: Path) -> None:
    files = {**SHOP, "shop/services.py": textwrap.dedent("""\
        from .models import Place, Stall


        def first(number):
            return Stall.objects.create(place=Place(name='x'), number=number)


        def other(Place):  # a parameter: not the model
            return Stall.objects.create(place=Place(name='x'), number=1)
        """)}
    write_project(tmp_path, {**files, CODE: ""})
    engine = engine_for(tmp_path, select=("OTO003",))
    path = tmp_path / "shop/services.py"
    findings = engine.analyze(str(path), path.read_text()).findings
    assert [f.line for f in findings] == [5]


# -- the screen: most files are never parsed ------------------------------------------------

@pytest.mark.parametrize(("code", "expected"), [
    ("def f(x):\n    return x.save()\n", False),  # no model class is called
    (_IMPORT + "class Cafe(Place):\n    pass\n", False),  # a class statement is not a call
    (_IMPORT + "def f():\n    return Place(name='x').save()\n", False),  # Place reaches nothing that takes it
    (_IMPORT + "def f():\n    return Restaurant.objects.create(place=Place(name='x'))\n", True),
    ("from places.models import Place as P\n\n\ndef f(r):\n    r.place = P()\n    r.save()\n", True),
])
def test_screen(tmp_path: Path, code: str, expected: bool) -> None:
    write_project(tmp_path, {**_FILES, CODE: code})
    engine = engine_for(tmp_path, select=("OTO003",))
    path = str(tmp_path / CODE)
    facts = engine.index.facts_by_path[path]
    context = FileContext(path=path, text=code, facts=facts, index=engine.index, settings=engine.settings)
    assert UnsavedInstance.screen(context) is expected


def test_tree_screen_walks_the_whole_module_when_a_model_is_built_outside_functions(tmp_path: Path) -> None:
    # the instance is built in one top-level statement and saved through in another
    findings, _ = lint(tmp_path, case("""\
        PLACE = Place(name='x')


        def helper():
            return 1


        Restaurant.objects.create(place=PLACE)
        """))
    assert [f.line for f in findings] == [11]


def test_tree_screen_answers_with_the_constructing_functions_only(tmp_path: Path) -> None:
    code = case("""\
        class Tests(TestCase):
            def test_reads(self):
                Restaurant.objects.filter(place__name='x')

            def test_builds(self):
                p = Place(name='x')
                Restaurant.objects.create(place=p)


        def unrelated(r):
            r.place = None
        """)
    write_project(tmp_path, {**_FILES, CODE: code})
    engine = engine_for(tmp_path, select=("OTO003",))
    path = str(tmp_path / CODE)
    context = FileContext(path=path, text=code, facts=engine.index.facts_by_path[path], index=engine.index,
                          settings=engine.settings)
    assert UnsavedInstance.screen_tree(context, ast.parse(code)) == {8}  # the line of `def test_builds`


CALLED = re.compile(r"(?<!class )\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")  # what the fast search must agree with


@pytest.mark.parametrize("text", [
    "Place(name='x')", "p = Place (name='x')", "MyPlace()", "xPlace()", "_Place()", "Place2()",
    "class Place(models.Model):\n    pass\n", "class Place(Base): pass\nPlace()", "models.Place()",
    "Place\n(", "é Place()", "éPlace()", "Restaurant(place=Place())", "class  Place()", "(Place)()",
    "subclass Place()", "PPlace() Place", "Place", "",
])
def test_model_calls_agree_with_a_plain_identifier_regex(text: str) -> None:
    names = {"Place", "Restaurant", "_Place", "Place2", "é"}
    calls = _model_calls(text, names)
    assert set(calls) == set(CALLED.findall(text)) & names
    for name, offsets in calls.items():  # each offset is where the name's call starts
        assert offsets and all(text.startswith(name, offset) for offset in offsets)


# -- fix placement and safety in unusual statements -----------------------------------------

def test_semicolon_separated_statements_get_the_save_in_line(tmp_path: Path) -> None:
    findings, fixed = lint(tmp_path, case("def f():\n    a = Author(name='x'); Book.objects.create(author=a)\n"))
    assert findings[0].fix is not None and findings[0].fix.safe
    assert fixed.endswith("    a = Author(name='x'); a.save(); Book.objects.create(author=a)\n")


def test_conditional_expression_makes_the_fix_unsafe(tmp_path: Path) -> None:
    findings, fixed = lint(tmp_path, case("""\
        def f(c):
            a = Author(name='x')
            return Book.objects.create(author=a) if c else None
        """))
    assert findings[0].fix is not None and not findings[0].fix.safe
    assert "the save point runs on some paths only" in findings[0].message
    assert "    a.save()\n    return Book.objects.create(author=a) if c else None\n" in fixed


def test_save_point_in_a_loop_gets_no_fix_unless_built_in_it(tmp_path: Path) -> None:
    outside, _ = lint(tmp_path / "a", case("""\
        def f(titles):
            a = Author(name='x')
            for title in titles:
                Book.objects.create(author=a, title=title)
        """))
    inside, fixed = lint(tmp_path / "b", case("""\
        def f(names):
            for name in names:
                a = Author(name=name)
                Book.objects.create(author=a, title=name)
        """))
    # the second iteration finds it saved by the first: a save there is not provably needed
    assert outside[0].fix is None and "no automatic fix" in outside[0].message
    assert inside[0].fix is not None and inside[0].fix.safe
    assert "        a = Author(name=name)\n        a.save()\n" in fixed


def test_elif_test_is_reported_without_a_fix(tmp_path: Path) -> None:
    findings, _ = lint(tmp_path, case("""\
        def f(c):
            a = Author(name='x')
            if c:
                pass
            elif Book.objects.create(author=a):
                pass
        """))
    assert [f.line for f in findings] == [8] and findings[0].fix is None


def test_one_finding_per_unsaved_instance_and_a_single_save(tmp_path: Path) -> None:
    findings, fixed = lint(tmp_path, case("""\
        def f():
            p = Place(name='x')
            Restaurant.objects.create(place=p)
            Waiter.objects.filter(restaurant__place=p)
        """))
    # after the first save point the instance is saved (the fix, or the error): the lookup is fine
    assert [f.line for f in findings] == [6]
    assert fixed.count("p.save()") == 1


@pytest.mark.parametrize("body", [
    # a closure may save it
    "a = Author(name='x')\ndef later():\n    a.save()\nlater()\nBook.objects.create(author=a)\n",
    # built from a dict that may hold the pk
    "a = Author(**data)\nBook.objects.create(author=a)\n",
    # a custom manager method may save it
    "a = Author(name='x')\nAuthor.objects.register(a)\nBook.objects.create(author=a)\n",
    # saved through the relation
    "b = Book(author=Author(name='x'))\nb.author.save()\nb.save()\n",
    # a noqa comment
    "a = Author(name='x')\nBook.objects.create(author=a)  # noqa: OTO003\n",
])
def test_quiet(tmp_path: Path, body: str) -> None:
    code = _IMPORT + "def f(data):\n" + textwrap.indent(body, "    ")
    findings, _ = lint(tmp_path, code)
    assert findings == []


# -- one engine for every front end; the linted code is never imported -------------------------

def test_flake8_plugin_reports_it(tmp_path: Path) -> None:
    write_project(tmp_path, {**_FILES, CODE: LOOKUP})
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "OTO003", CODE],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(f"{CODE}:6:12: OTO003 `Book.objects.filter(author=author)` with unsaved `author`")


def test_the_linted_code_is_never_imported(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    trap = f"open({str(marker)!r}, 'w').close()\nraise SystemExit('imported')\n"
    files = {"places/models.py": trap + _FILES["places/models.py"]}
    findings, fixed = lint(tmp_path, trap + case("""\
        def open_restaurant():
            p3 = Place(name='Demon Dogs')
            return Restaurant.objects.create(place=p3)
        """), files=files)
    assert len(findings) == 1 and "p3.save()" in fixed
    assert not marker.exists()


# -- no state crosses functions or analyses -----------------------------------------------------

LOOP_SAVED = """\
def loop_saved():
    authors = (Author(name='1'), Author(name='2'))
    for author in authors:
        author.save()
    Book.objects.bulk_create((Book(author=authors[0]), Book(author=authors[1])))
"""
LOOP_PARTLY_SAVED = """\
def loop_partly_saved():
    authors = (Author(name='1'), Author(name='2'))
    for author in authors:
        if author.name == '1':
            author.save()
    Book.objects.bulk_create((Book(author=authors[0]), Book(author=authors[1])))
"""
SETUP = """\
def setup():
    p = Place(name='x')
    p.save()
    Restaurant(place=p).save()
"""


def _functions(findings: list[Finding], code: str) -> list[str]:
    lines = code.splitlines()
    names = []
    for finding in findings:
        above = [line for line in lines[:finding.line] if line.startswith("def ")]
        names.append(above[-1].split("(")[0][4:])
    return names


@pytest.mark.parametrize("order", [
    (LOOP_SAVED,), (SETUP, LOOP_SAVED), (LOOP_PARTLY_SAVED, LOOP_SAVED), (LOOP_SAVED, LOOP_PARTLY_SAVED, SETUP),
])
def test_a_function_is_judged_alone(tmp_path: Path, order: tuple[str, ...]) -> None:
    code = _IMPORT + "\n\n".join(order)
    findings, _ = lint(tmp_path, code)
    assert _functions(findings, code) == (["loop_partly_saved"] if LOOP_PARTLY_SAVED in order else [])


def test_analyses_of_a_file_share_nothing(tmp_path: Path) -> None:
    code = _IMPORT + "\n\n".join((SETUP, LOOP_PARTLY_SAVED, LOOP_SAVED))
    write_project(tmp_path, {**_FILES, CODE: code})
    engine = engine_for(tmp_path, select=("OTO003",))
    path = str(tmp_path / CODE)
    first = [(f.line, f.message) for f in engine.analyze(path, code).findings]
    second = [(f.line, f.message) for f in engine.analyze(path, code).findings]
    alone = [(f.line, f.message) for f in engine.analyze(path, _IMPORT + LOOP_SAVED).findings]
    assert first == second and len(first) == 1 and alone == []
