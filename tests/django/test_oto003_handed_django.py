"""OTO003 on instances handed over by comprehensions, methods and model formsets, against real Django.

A project has ``Place``, ``Restaurant(place=OneToOneField(Place, primary_key=True))``,
``Waiter(restaurant=ForeignKey)`` and ``Article(tags=ManyToManyField(Tag))``, and code that
attaches unsaved instances built by a list comprehension, returned by a method of the class
(``self.build_place()``) or listed by a model formset's ``save(commit=False)``; beside it, the
correct forms (the elements saved by ``bulk_create()`` or a loop first, a method a subclass
overrides to save, a formset whose objects are saved first, a formset with a ``formset=`` class
of its own whose ``save_new()`` saves, a formset's listed objects saved through the formset:
a first list's loop, ``formset.save()``, its forms, its forms' instances). The real CLI
reports exactly the wrong forms, without a fix (``--fix --unsafe-fixes`` leaves the code
unchanged); on Django 4.2, 5.2 and 6.1, each wrong form raises the ``ValueError`` the message
names (the 4.2 lookup silently matches nothing) and each correct one works. ``bulk_create()`` sets the primary keys on SQLite (3.35+, every line).
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


class Place(models.Model):
    name = models.CharField(max_length=50, default="")


class Restaurant(models.Model):
    place = models.OneToOneField(Place, models.CASCADE, primary_key=True)


class Waiter(models.Model):
    restaurant = models.ForeignKey(Restaurant, models.CASCADE)
    name = models.CharField(max_length=50, default="")


class Tag(models.Model):
    name = models.CharField(max_length=50, default="")


class Article(models.Model):
    tags = models.ManyToManyField(Tag)
'''

SERVICES = '''\
from django.forms import BaseModelFormSet, inlineformset_factory, modelformset_factory

from places.models import Article, Place, Restaurant, Tag, Waiter

PlaceFormSet = modelformset_factory(Place, fields=["name"])
WaiterFormSet = inlineformset_factory(Restaurant, Waiter, fields=["name"])


class SavingFormSet(BaseModelFormSet):
    def save_new(self, form, commit=True):
        return super().save_new(form, commit=True)


SavingPlaceFormSet = modelformset_factory(Place, fields=["name"], formset=SavingFormSet)


def new_places(data, publish=False):
    formset = PlaceFormSet(data, queryset=Place.objects.none())
    assert formset.is_valid(), formset.errors
    for place in formset.save(commit=False):
        if publish:
            place.save()
        Restaurant.objects.create(place=place)
    return Restaurant.objects.count()


def restaurants_of_new_waiters(data, restaurant):
    formset = WaiterFormSet(data, instance=restaurant)
    assert formset.is_valid(), formset.errors
    waiters = formset.save(commit=False)
    return list(Restaurant.objects.filter(waiter__in=waiters).values_list("pk", flat=True))


def open_all(names):
    places = [Place(name=n) for n in names]
    Restaurant.objects.bulk_create([Restaurant(place=p) for p in places])


def tag_all(names):
    article = Article.objects.create()
    tags = [Tag(name=n) for n in names]
    article.tags.add(*tags)


class Opening:
    def build_place(self):
        place = Place(name="built")
        return place

    def run(self):
        place = self.build_place()
        Restaurant(place=place).save()


def open_all_bulk_created(names):
    places = [Place(name=n) for n in names]
    Place.objects.bulk_create(places)
    Restaurant.objects.bulk_create([Restaurant(place=p) for p in places])
    return Restaurant.objects.count()


def open_all_saved(names):
    places = [Place(name=n) for n in names]
    for place in places:
        place.save()
    Restaurant.objects.bulk_create([Restaurant(place=p) for p in places])
    return Restaurant.objects.count()


def tag_all_saved(names):
    article = Article.objects.create()
    tags = [Tag(name=n) for n in names]
    for tag in tags:
        tag.save()
    article.tags.add(*tags)
    return article.tags.count()


class Reopening:
    def build_place(self):
        return Place(name="built")

    def run(self):
        Restaurant.objects.create(place=self.build_place())
        return Restaurant.objects.count()


class SavedReopening(Reopening):
    def build_place(self):
        return Place.objects.create(name="saved")


def new_places_saved_by_the_formset_class(data):
    formset = SavingPlaceFormSet(data, queryset=Place.objects.none())
    assert formset.is_valid(), formset.errors
    for place in formset.save(commit=False):
        Restaurant.objects.create(place=place)
    return Restaurant.objects.count()


def new_places_saved_then_listed_again(data):
    formset = PlaceFormSet(data, queryset=Place.objects.none())
    assert formset.is_valid(), formset.errors
    for place in formset.save(commit=False):
        place.save()
    for place in formset.save(commit=False):
        Restaurant.objects.create(place=place)
    return Restaurant.objects.count()


def new_places_saved_by_the_formset(data):
    formset = PlaceFormSet(data, queryset=Place.objects.none())
    assert formset.is_valid(), formset.errors
    objs = formset.save(commit=False)
    formset.save()
    for o in objs:
        Restaurant.objects.create(place=o)
    return Restaurant.objects.count()


def new_places_saved_by_the_forms(data):
    formset = PlaceFormSet(data, queryset=Place.objects.none())
    assert formset.is_valid(), formset.errors
    objs = formset.save(commit=False)
    for form in formset.forms:
        form.save()
    for o in objs:
        Restaurant.objects.create(place=o)
    return Restaurant.objects.count()


def new_places_saved_as_form_instances(data):
    formset = PlaceFormSet(data, queryset=Place.objects.none())
    assert formset.is_valid(), formset.errors
    objs = formset.save(commit=False)
    for form in formset.extra_forms:
        form.instance.save()
    Restaurant.objects.bulk_create([Restaurant(place=o) for o in objs])
    return Restaurant.objects.count()
'''

FILES = {"places/models.py": MODELS, "places/services.py": SERVICES}

SCRIPT = """
import json
from places import services
from places.models import Place, Restaurant

data = {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "0", "form-0-name": "new"}
waiter_data = {"waiter_set-TOTAL_FORMS": "1", "waiter_set-INITIAL_FORMS": "0", "waiter_set-0-name": "w"}
results = {}
def attempt(name, call):
    try:
        results[name] = {"value": call()}
    except Exception as exc:
        results[name] = {"error": f"{type(exc).__name__}: {exc}"}

attempt("new_places", lambda: services.new_places(data))
attempt("restaurants_of_new_waiters", lambda: services.restaurants_of_new_waiters(
    waiter_data, Restaurant.objects.create(place=Place.objects.create(name="r"))))
attempt("open_all", lambda: services.open_all(["a", "b"]))
attempt("tag_all", lambda: services.tag_all(["a", "b"]))
attempt("Opening.run", lambda: services.Opening().run())
Restaurant.objects.all().delete()
attempt("new_places published", lambda: services.new_places(data, publish=True))
attempt("open_all_bulk_created", lambda: services.open_all_bulk_created(["c", "d"]))
attempt("open_all_saved", lambda: services.open_all_saved(["e", "f"]))
attempt("tag_all_saved", lambda: services.tag_all_saved(["g", "h"]))
attempt("SavedReopening.run", lambda: services.SavedReopening().run())
attempt("new_places_saved_by_the_formset_class", lambda: services.new_places_saved_by_the_formset_class(data))
for name in ("new_places_saved_then_listed_again", "new_places_saved_by_the_formset",
             "new_places_saved_by_the_forms", "new_places_saved_as_form_instances"):
    attempt(name, lambda: getattr(services, name)(data))
print("RESULTS=" + json.dumps(results))
"""

SAVE_ERROR = "ValueError: save() prohibited to prevent data loss due to unsaved related object 'place'."
BULK_ERROR = "ValueError: bulk_create() prohibited to prevent data loss due to unsaved related object 'place'."
FILTER_ERROR = "ValueError: Model instances passed to related filters must be saved."
ADD_ERROR = ('ValueError: Cannot add "<Tag: Tag object (None)>": instance is on database "default", '
             'value is on database "None"')


@pytest.mark.parametrize("version", VERSIONS)
def test_the_wrong_forms_are_reported_without_a_fix_and_the_right_ones_are_not(tmp_path: Path, version: str) -> None:
    project = write_project(tmp_path / "project", FILES)
    report = run_cli("--no-cache", "--select", "OTO003", "--output-format", "json",
                     "--target-version", version, ".", cwd=project)
    assert report.returncode == 1, report.stderr
    findings = json.loads(report.stdout)
    assert {f["path"] for f in findings} == {"places/services.py"}
    lines = [f["line"] for f in findings]
    source_lines = SERVICES.splitlines()
    assert [source_lines[line - 1].strip() for line in lines] == [
        "Restaurant.objects.create(place=place)",
        'return list(Restaurant.objects.filter(waiter__in=waiters).values_list("pk", flat=True))',
        "Restaurant.objects.bulk_create([Restaurant(place=p) for p in places])",
        "article.tags.add(*tags)",
        "Restaurant(place=place).save()",
    ]
    assert lines[0] < line_of(SERVICES, "def restaurants_of_new_waiters")
    assert lines[2] < line_of(SERVICES, "def tag_all(")
    assert all(f["code"] == "OTO003" and f["fix"] is None for f in findings)
    formset, lookup, bulk, add, method = (f["message"] for f in findings)
    assert f'Django raises "{SAVE_ERROR}"' in formset
    assert "no automatic fix: `formset.save(commit=False)` builds it unsaved on purpose" in formset
    if version == "4.2":
        assert "silently becomes NULL in `waiter__in`, which matches nothing for it" in lookup
    else:
        assert f'Django raises "{FILTER_ERROR}"' in lookup
    assert "bulk_create() prohibited" in bulk
    assert "no automatic fix: it is built in a comprehension" in bulk
    assert "is added through `Article.tags`" in add
    assert f'Django raises "{SAVE_ERROR}"' in method
    assert "no automatic fix: it comes unsaved from `self.build_place()`" in method

    fixed = run_cli("--no-cache", "--select", "OTO003", "--fix", "--unsafe-fixes", ".", cwd=project)
    assert fixed.returncode == 1, fixed.stderr
    assert (project / "places/services.py").read_text() == SERVICES  # no fix: nothing written


@pytest.mark.parametrize("version", VERSIONS)
def test_the_wrong_forms_fail_on_real_django_and_the_right_ones_work(tmp_path: Path, version: str) -> None:
    project = write_project(tmp_path / "project", FILES)
    result = run_django(project, ["places"], SCRIPT, version=version)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS="))
    results = json.loads(line[len("RESULTS="):])

    assert results["new_places"] == {"error": SAVE_ERROR}
    if version == "4.2":  # the unsaved waiter silently becomes NULL: no restaurant found
        assert results["restaurants_of_new_waiters"] == {"value": []}
    else:
        assert results["restaurants_of_new_waiters"] == {"error": FILTER_ERROR}
    assert results["open_all"] == {"error": BULK_ERROR}
    assert results["tag_all"] == {"error": ADD_ERROR}
    assert results["Opening.run"] == {"error": SAVE_ERROR}

    assert results["new_places published"] == {"value": 1}
    assert results["open_all_bulk_created"] == {"value": 3}
    assert results["open_all_saved"] == {"value": 5}
    assert results["tag_all_saved"] == {"value": 2}
    assert results["SavedReopening.run"] == {"value": 6}
    assert results["new_places_saved_by_the_formset_class"] == {"value": 7}
    # save(commit=False) lists the forms' own instances: saved through the formset, the objects
    # of a list taken before or after are saved
    assert results["new_places_saved_then_listed_again"] == {"value": 8}
    assert results["new_places_saved_by_the_formset"] == {"value": 9}
    assert results["new_places_saved_by_the_forms"] == {"value": 10}
    assert results["new_places_saved_as_form_instances"] == {"value": 11}


NEVER_SAVED = '''\
from django.db import transaction

from places.models import Place, Restaurant


def hire_in_a_transaction(name):
    place = Place.objects.create(name=name)
    with transaction.atomic():
        restaurant = Restaurant(place=place)  # its primary key is set: no row is written
        restaurant.waiter_set.create(name="w")


def hire(name):
    place = Place.objects.create(name=name)
    restaurant = Restaurant(place=place)
    restaurant.waiter_set.create(name="w")


def hire_after_saving(name):
    place = Place.objects.create(name=name)
    restaurant = Restaurant(place=place)
    restaurant.save()
    return restaurant.waiter_set.create(name="w").restaurant_id == place.pk
'''

NEVER_SAVED_SCRIPT = """
import json
from places import hiring
from places.models import Waiter
results = {}
for name in ("hire_in_a_transaction", "hire", "hire_after_saving"):
    try:
        results[name] = {"value": getattr(hiring, name)(name)}
    except Exception as exc:
        results[name] = {"error": f"{type(exc).__name__}: {exc}"}
results["waiters"] = Waiter.objects.count()
print("RESULTS=" + json.dumps(results))
"""


@pytest.mark.parametrize("version", VERSIONS)
def test_a_never_saved_one_to_one_primary_key_fails_at_the_constraint_and_is_not_reported(
        tmp_path: Path, version: str) -> None:
    """The page's "deliberately not reported" case: the reverse manager of an instance whose
    primary key is a one-to-one to a saved row accepts create(), and the foreign key fails
    (at commit inside a transaction, at once in autocommit mode)."""
    project = write_project(tmp_path / "project", {"places/models.py": MODELS, "places/hiring.py": NEVER_SAVED})
    report = run_cli("--no-cache", "--select", "OTO003", ".", cwd=project)
    assert report.returncode == 0, report.stdout + report.stderr

    result = run_django(project, ["places"], NEVER_SAVED_SCRIPT, version=version)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS="))
    results = json.loads(line[len("RESULTS="):])
    constraint = {"error": "IntegrityError: FOREIGN KEY constraint failed"}
    assert results["hire_in_a_transaction"] == constraint
    assert results["hire"] == constraint
    assert results["hire_after_saving"] == {"value": True}
    assert results["waiters"] == 1  # the transaction rolled back; autocommit's insert failed
