"""OTO003 on factory_boy and model_bakery instances, against real Django.

A project has ``Author`` and ``Book(author=ForeignKey(Author, null=True))``, an
``AuthorFactory(factory.django.DjangoModelFactory)``, and code that hands an instance
built by ``AuthorFactory.build()``, ``build_batch()`` or ``baker.prepare(Author)`` (none of
them saves) to a relation, a lookup or a reverse manager, directly and through pytest
fixtures (of the test module and of a ``conftest.py``); beside it, the correct forms
(``create()``, calling the factory, ``baker.make()``, build then ``save()``, a fixture that
creates). The real CLI reports exactly the wrong forms, without a fix; on Django 4.2, 5.2
and 6.1 (with factory_boy and model_bakery installed beside each by the harness), each
wrong form raises the ``ValueError`` the message names (the 4.2 lookup silently matches
NULL instead) and each correct one works.

pytest is not installed beside Django: the Django run replaces it with a module whose
``fixture`` decorator returns the function, and calls each fixture's function itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.django_harness import VERSIONS, run_django
from tests.helpers import run_cli, write_project, line_of

#: Left out by `pytest -m "not slow"`: real Django in subprocesses.
pytestmark = pytest.mark.slow

MODELS = '''\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=50, default="")


class Book(models.Model):
    title = models.CharField(max_length=50, default="")
    author = models.ForeignKey(Author, models.CASCADE, null=True)
'''

FACTORIES = '''\
import factory

from library.models import Author


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    name = factory.Sequence(lambda n: f"author {n}")
'''

BOOKS = '''\
from model_bakery import baker

from library.factories import AuthorFactory
from library.models import Author, Book


def book_by_built_author():
    author = AuthorFactory.build()
    return Book.objects.create(title="built", author=author)


def books_by_built_batch():
    for author in AuthorFactory.build_batch(2):
        Book.objects.create(title="batch", author=author)


def book_by_prepared_author():
    return Book.objects.create(title="prepared", author=baker.prepare(Author))


def titles_of_prepared_author():
    return [book.title for book in Book.objects.filter(author=baker.prepare(Author))]


def titles_of_built_author():
    author = AuthorFactory.build()
    return [book.title for book in author.book_set.all()]


def book_by_created_author():
    return Book.objects.create(title="created", author=AuthorFactory.create()).author_id


def book_by_called_factory():
    return Book.objects.create(title="called", author=AuthorFactory()).author_id


def book_by_made_author():
    return Book.objects.create(title="made", author=baker.make(Author)).author_id


def book_by_built_then_saved_author():
    author = AuthorFactory.build()
    author.save()
    return Book.objects.create(title="saved", author=author).author_id
'''

CONFTEST = '''\
import pytest
from model_bakery import baker

from library.models import Author


@pytest.fixture
def prepared_author():
    return baker.prepare(Author)


@pytest.fixture
def made_author():
    return baker.make(Author)
'''

TEST_BOOKS = '''\
import pytest

from library.factories import AuthorFactory
from library.models import Book


@pytest.fixture
def built_author():
    return AuthorFactory.build()


@pytest.fixture
def created_author():
    return AuthorFactory.create()


def test_book_by_built_author(built_author):
    return Book.objects.create(title="fixture built", author=built_author)


def test_book_by_prepared_author(prepared_author):
    return Book.objects.create(title="fixture prepared", author=prepared_author)


def test_book_by_created_author(created_author):
    return Book.objects.create(title="fixture created", author=created_author).author_id


def test_book_by_made_author(made_author):
    return Book.objects.create(title="fixture made", author=made_author).author_id
'''

FILES = {
    "library/models.py": MODELS,
    "library/factories.py": FACTORIES,
    "library/books.py": BOOKS,
    "library/conftest.py": CONFTEST,
    "library/test_books.py": TEST_BOOKS,
}

#: Runs each function (each test with its fixture's result) and records its value or error.
SCRIPT = """
import json, sys, types
sys.modules["pytest"] = types.SimpleNamespace(fixture=lambda function: function)
from library import books, conftest, test_books
from library.models import Author, Book

Book.objects.create(title="anonymous")  # no author: author_id IS NULL
results = {}
def attempt(name, call):
    try:
        value = call()
        results[name] = {"value": value if value is None or isinstance(value, (int, list)) else str(value)}
    except Exception as exc:
        results[name] = {"error": f"{type(exc).__name__}: {exc}"}

for name in WRONG:
    attempt(name, getattr(books, name))
attempt("test_book_by_built_author", lambda: test_books.test_book_by_built_author(test_books.built_author()))
attempt("test_book_by_prepared_author", lambda: test_books.test_book_by_prepared_author(conftest.prepared_author()))
results["rows after the wrong forms"] = [Author.objects.count(), Book.objects.count()]
for name in RIGHT:
    attempt(name, getattr(books, name))
attempt("test_book_by_created_author", lambda: test_books.test_book_by_created_author(test_books.created_author()))
attempt("test_book_by_made_author", lambda: test_books.test_book_by_made_author(conftest.made_author()))
print("RESULTS=" + json.dumps(results))
"""

WRONG = ["book_by_built_author", "books_by_built_batch", "book_by_prepared_author",
         "titles_of_prepared_author", "titles_of_built_author"]
RIGHT = ["book_by_created_author", "book_by_called_factory", "book_by_made_author",
         "book_by_built_then_saved_author"]

SAVE_ERROR = "ValueError: save() prohibited to prevent data loss due to unsaved related object 'author'."
FILTER_ERROR = "ValueError: Model instances passed to related filters must be saved."
MANAGER_ERROR = ("ValueError: 'Author' instance needs to have a primary key value before this "
                 "relationship can be used.")


@pytest.mark.parametrize("version", VERSIONS)
def test_the_wrong_forms_are_reported_without_a_fix_and_the_right_ones_are_not(tmp_path: Path, version: str) -> None:
    project = write_project(tmp_path / "project", FILES)
    report = run_cli("--no-cache", "--select", "OTO003", "--output-format", "json",
                     "--target-version", version, ".", cwd=project)
    assert report.returncode == 1, report.stderr
    findings = json.loads(report.stdout)
    assert [(f["path"], f["line"]) for f in findings] == [
        ("library/books.py", line_of(BOOKS, 'title="built"')),
        ("library/books.py", line_of(BOOKS, 'title="batch"')),
        ("library/books.py", line_of(BOOKS, 'title="prepared"')),
        ("library/books.py", line_of(BOOKS, "Book.objects.filter(author=baker.prepare(Author))")),
        ("library/books.py", line_of(BOOKS, "author.book_set.all()")),
        ("library/test_books.py", line_of(TEST_BOOKS, 'title="fixture built"')),
        ("library/test_books.py", line_of(TEST_BOOKS, 'title="fixture prepared"')),
    ]
    assert all(f["code"] == "OTO003" and f["fix"] is None for f in findings)
    built, batch, prepared, lookup, manager, fixture_built, fixture_prepared = (f["message"] for f in findings)
    for message in (built, batch, prepared, fixture_built, fixture_prepared):
        assert f'Django raises "{SAVE_ERROR}"' in message
    assert "no automatic fix: `AuthorFactory.build()` builds it unsaved on purpose; use `AuthorFactory.create()`" in built
    assert "no automatic fix: `AuthorFactory.build_batch(2)` builds it unsaved on purpose; use `AuthorFactory.create()`" in batch
    assert "no automatic fix: `baker.prepare(Author)` builds it unsaved on purpose; use `baker.make()`" in prepared
    assert "no automatic fix: the fixture `built_author` builds it unsaved on purpose; use `AuthorFactory.create()`" in fixture_built
    assert "no automatic fix: the fixture `prepared_author` builds it unsaved on purpose; use `baker.make()`" in fixture_prepared
    if version == "4.2":
        assert "silently matches NULL (`author IS NULL`)" in lookup
    else:
        assert f'Django raises "{FILTER_ERROR}"' in lookup
    assert f'Django raises "{MANAGER_ERROR}"' in manager


@pytest.mark.parametrize("version", VERSIONS)
def test_the_wrong_forms_fail_on_real_django_and_the_right_ones_work(tmp_path: Path, version: str) -> None:
    project = write_project(tmp_path / "project", FILES)
    script = f"WRONG = {WRONG!r}\nRIGHT = {RIGHT!r}\n" + SCRIPT
    result = run_django(project, ["library"], script, version=version)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS="))
    results = json.loads(line[len("RESULTS="):])

    for name in ("book_by_built_author", "books_by_built_batch", "book_by_prepared_author",
                 "test_book_by_built_author", "test_book_by_prepared_author"):
        assert results[name] == {"error": SAVE_ERROR}, name
    assert results["titles_of_built_author"] == {"error": MANAGER_ERROR}
    if version == "4.2":  # the unsaved author silently becomes `author IS NULL`
        assert results["titles_of_prepared_author"] == {"value": ["anonymous"]}
    else:
        assert results["titles_of_prepared_author"] == {"error": FILTER_ERROR}
    # build() and prepare() wrote nothing: only the anonymous book is there.
    assert results["rows after the wrong forms"] == [0, 1]

    for number, name in enumerate([*RIGHT, "test_book_by_created_author", "test_book_by_made_author"], 1):
        assert results[name] == {"value": number}, name  # each saved a new author, the book points to it
