"""OTO003's and OTO005's screens only rule out what their visitors cannot report.

Every case of both rules runs with the screens as they are and with the screens forced open
(every file reaches LibCST, whole): the findings must be the same. Snippets aimed at each way
OTO003's tree screen rules a flow out check that what the flow analysis reports still passes,
and that what it cannot report is never parsed with LibCST.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from o2o_lint.rules import all_rules
from o2o_lint.rules.base import Invalid, Valid
from o2o_lint.rules.oto003_unsaved_instance.rule import _MODELS
from o2o_lint.sourcefile import line_numbers
from tests.helpers import engine_for, engine_for_case, record_libcst_parses, rule_cases, write_project

CODES = ("OTO003", "OTO005")


def _open_screens(monkeypatch: pytest.MonkeyPatch) -> None:
    for code in CODES:
        rule = all_rules()[code]
        monkeypatch.setattr(rule, "screen", classmethod(lambda cls, context: True))
        monkeypatch.setattr(rule, "screen_tree", classmethod(lambda cls, context, tree: True))


def _described(findings: list) -> list[tuple]:
    return [(f.line, f.column, f.end_line, f.end_column, f.code, f.message, f.fix and (f.fix.description, f.fix.safe))
            for f in findings]


@pytest.mark.parametrize(("code", "case"), [p for p in rule_cases("VALID", "INVALID") if p.values[0] in CODES])
def test_screens_and_open_screens_agree_on_every_case(tmp_path: Path, code: str, case: Valid | Invalid,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    engine, path = engine_for_case(tmp_path / "screened", code, case)
    screened = _described(engine.analyze(path, Path(path).read_text()).findings)
    _open_screens(monkeypatch)
    engine, path = engine_for_case(tmp_path / "open", code, case)
    assert _described(engine.analyze(path, Path(path).read_text()).findings) == screened


_FILES = {
    "places/__init__.py": "",
    "places/models.py": _MODELS,
    "places/forms.py": textwrap.dedent("""\
        from django import forms
        from places.models import Place


        class PlaceForm(forms.ModelForm):
            class Meta:
                model = Place
                fields = ["name"]


        class TicketPlaceForm(forms.ModelForm):
            class Meta:
                model = Place
                fields = ["name"]

            def __init__(self, ticket, *args, **kwargs):
                super().__init__(*args, **kwargs)
        """),
}
_HEAD = ("from django.db.models import Q\nfrom places import models as place_models\n"
         "from places.forms import PlaceForm, TicketPlaceForm\n"
         "from places.models import Article, Author, Book, Place, Restaurant, Tag\nfrom signals import done, register\n\n\n")

#: (what, function, how many OTO003 findings the flow analysis reports): each must pass the screens.
REPORTED = [
    ("a keyword of Q inside a lookup", """
        def f():
            p = Place(name="x")
            return Restaurant.objects.filter(Q(place=p) | Q(pk=1))
        """, 1),
    ("a constructor called through a module", """
        def f():
            p = Place(name="x")
            place_models.Restaurant(place=p).save()
        """, 1),
    ("a constructor held by a local name", """
        def f():
            model = Restaurant
            p = Place(name="x")
            model(place=p).save()
        """, 1),
    ("an async twin of create", """
        async def f():
            p = Place(name="x")
            await Restaurant.objects.acreate(place=p)
        """, 1),
    ("get_or_create's defaults", """
        def f():
            p = Place(name="x")
            Restaurant.objects.get_or_create(serves_pizza=True, defaults={"place": p})
        """, 1),
    ("the reverse one-to-one setter", """
        def f():
            r = Restaurant.objects.get(pk=1)
            p = Place(name="x")
            p.restaurant = r
            r.save()
        """, 1),
    ("paired unpacking", """
        def f():
            p, n = Place(name="x"), 1
            Restaurant.objects.create(place=p)
        """, 1),
    ("handed on, then rebound to a new instance", """
        def f():
            p = Place(name="a")
            register(p)
            p = Place(name="b")
            Restaurant.objects.create(place=p)
        """, 1),
    ("handed on in a branch only", """
        def f(flag):
            p = Place(name="a")
            if flag:
                register(p)
            Restaurant.objects.create(place=p)
        """, 1),
    ("a list handed on, then given a new element", """
        def f():
            places = [Place(name="a")]
            register(places)
            places.append(Place(name="b"))
            Restaurant.objects.filter(place__in=places).exists()
        """, 1),
    ("handed to a function that only looks at it", """
        def f():
            p = Place(name="a")
            print(p)
            Restaurant.objects.create(place=p)
        """, 1),
    ("handed on after the save point", """
        def f():
            p = Place(name="a")
            Restaurant.objects.create(place=p)
            register(p)
        """, 1),
    ("a relation's key read", """
        def f():
            p = Place(name="x")
            r = Restaurant(place=p)
            p.save()
            return r.place_id
        """, 1),
    ("instances attached, then written in bulk", """
        async def f(names):
            built = [Restaurant(place=Place(name=name)) for name in names]
            await Restaurant.objects.abulk_create(built)
        """, 1),
    ("a form's instance, the form built plainly", """
        def f(request):
            form = PlaceForm(request.POST)
            place = form.save(commit=False)
            Restaurant.objects.create(place=place)
        """, 1),
    ("saved in a branch, attached after it", """
        def f(flag):
            a = Author(name="a")
            if flag:
                a.save()
            Book.objects.create(author=a)
        """, 1),
    ("saved in a loop, attached after it", """
        def f(names):
            a = Author(name="a")
            for name in names:
                a.save()
            Book.objects.create(author=a)
        """, 1),
    ("saved by a name the flow analysis reads as a logger", """
        def f():
            log = Author(name="a")
            log.save()
            Book.objects.create(author=log)
        """, 1),
    ("validated with Django's own method, then attached", """
        def f():
            a = Author(name="a")
            a.full_clean()
            Book.objects.create(author=a)
        """, 1),
    ("a related manager of an unsaved instance", """
        def f():
            a = Author(name="a")
            a.book_set.create(title="x")
        """, 1),
    ("a many-to-many manager of an unsaved instance", """
        def f():
            article = Article()
            article.tags.add(Tag.objects.get(pk=1))
        """, 1),
]

#: Functions whose flows the flow analysis cannot report (django-helpdesk's shapes): never parsed.
NOT_REPORTED = [
    ("a signal sent with an unsaved instance as a keyword", """
        def f():
            p = Place(name="x")
            done.send(sender="f", place=p)
        """),
    ("a method of the receiver given keywords", """
        class View:
            def f(self):
                p = Place(name="x")
                self.notify(place=p, restaurant=p)
        """),
    ("a template context", """
        def f(request):
            p = Place(name="x")
            return render(request, "page.html", {"place": p, "restaurant": p})
        """),
    ("a form given an existing row", """
        def f(request, place):
            form = PlaceForm(request.POST, instance=place)
            saved = form.save(commit=False)
            return {"place": saved}, Restaurant.objects.filter(place=saved)
        """),
    ("a form whose __init__ may hand it a row", """
        def f(request, ticket):
            form = TicketPlaceForm(ticket, request.POST)
            place = form.save(commit=False)
            Restaurant.objects.create(place=place)
        """),
    ("unpacking a call's result", """
        def f():
            p, n = make_place()
            Restaurant.objects.create(place=p)
        """),
    ("an attribute set on an instance that is no reverse one-to-one accessor", """
        def f(owner):
            p = Place(name="x")
            p.owner = owner
            return p
        """),
    ("an object graph built in memory only", """
        def f():
            r = Restaurant(place=Place(name="x"))
            return r.serves_pizza, r.place.name
        """),
    ("handed on before the save points", """
        def f(flag):
            p = Place(name="a")
            register(p)
            if flag:
                Restaurant.objects.create(place=p)
            p.restaurant = Restaurant.objects.get(pk=1)
        """),
    ("built, saved, then attached, in a branch", """
        def f(flag):
            if flag:
                a = Author(name="a")
                a.save()
                Book.objects.create(author=a)
        """),
    ("built, saved, then attached, in a with block", """
        def f(path):
            with open(path) as stream:
                a = Author(name=stream.read())
                a.save(update_fields=None)
                b = Book.objects.get(pk=1)
                b.author = a
                b.save()
        """),
    ("built, handed on, then attached, in a handler", """
        def f():
            try:
                pass
            except ValueError:
                a = Author(name="a")
                register(a)
                Book.objects.create(author=a)
        """),
    ("built, given to a method of its own, then attached, in a branch", """
        def f(flag, user):
            if flag:
                a = Author(name="a")
                created = a.set_owner(user)
                Book.objects.create(author=a, title=created)
        """),
    ("an attribute named like a relation to the instance's model, read", """
        def f():
            a = Author(name="x")
            return a.author.name, Book.objects.count()
        """),
    ("a method of an attribute named like a relation to the instance's model", """
        def f(upload):
            a = Author(name="x")
            a.author.save("name", upload)
            return a
        """),
]


@pytest.mark.parametrize(("what", "function", "expected"), REPORTED, ids=[r[0] for r in REPORTED])
def test_what_the_flow_analysis_reports_passes_the_screens(tmp_path: Path, what: str, function: str,
                                                           expected: int, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _HEAD + textwrap.dedent(function)
    write_project(tmp_path / "screened", {**_FILES, "app/views.py": source})
    screened = engine_for(tmp_path / "screened", select=("OTO003",)).analyze(
        str(tmp_path / "screened/app/views.py"), source).findings
    _open_screens(monkeypatch)
    write_project(tmp_path / "open", {**_FILES, "app/views.py": source})
    opened = engine_for(tmp_path / "open", select=("OTO003",)).analyze(str(tmp_path / "open/app/views.py"), source).findings
    assert len([f for f in opened if f.code == "OTO003"]) == expected, [f.message for f in opened]
    assert _described(screened) == _described(opened)


@pytest.mark.parametrize(("what", "function"), NOT_REPORTED, ids=[r[0] for r in NOT_REPORTED])
def test_what_the_flow_analysis_cannot_report_is_not_parsed(tmp_path: Path, what: str, function: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    source = _HEAD + textwrap.dedent(function)
    write_project(tmp_path / "open", {**_FILES, "app/views.py": source})
    with monkeypatch.context() as opened:
        _open_screens(opened)
        findings = engine_for(tmp_path / "open", select=("OTO003",)).analyze(
            str(tmp_path / "open/app/views.py"), source).findings
    assert findings == []
    write_project(tmp_path / "screened", {**_FILES, "app/views.py": source})
    parsed = record_libcst_parses(monkeypatch)
    assert engine_for(tmp_path / "screened", select=("OTO003",)).analyze(
        str(tmp_path / "screened/app/views.py"), source).findings == []
    assert parsed == []


# -- OTO005's words: searched word by word when the project has a few accessor names -------

_ACCESSOR_TEXTS = [
    "user", "x.user.count()", "users user_set username _user user_", "request.user\n", "é_user useré user",
    "company__user_set company__user __user__ user__x a__b__user", "place_ptr x_ptr _ptr ptr_ __init__ __ptr",
    "ünïcode_ptr user\u00b2 user\u0661 \u0661user", "# user\n'''user_set'''\nuser_set.all()", "",
]


def _accessors_module() -> ModuleType:
    """The module defining OTO005's ``OneToOneAccessors`` (its rule's, or its screen's)."""
    rule_module = sys.modules[all_rules()["OTO005"].__module__]
    return sys.modules[rule_module.OneToOneAccessors.__module__]


def _reference_spelled(view: object, text: str) -> frozenset[str]:
    """OTO005's words of *text* as every word of it looked up (the way large projects take)."""
    words = set(re.findall(r"\w+", text))
    found = words & view._spellings  # type: ignore[attr-defined]
    found.update(w for w in words if ("__" in w or w.endswith("_ptr")) and view.pattern.search(w))  # type: ignore[attr-defined]
    return frozenset(found)


@pytest.mark.parametrize("few", [64, 0], ids=["word-by-word", "every-word"])
def test_oto005_words_are_found_the_same_either_way(tmp_path: Path, few: int, monkeypatch: pytest.MonkeyPatch) -> None:
    module = _accessors_module()
    monkeypatch.setattr(module, "_FEW_SPELLINGS", few)
    write_project(tmp_path, {"app/models.py": textwrap.dedent("""\
        from django.db import models


        class Account(models.Model):
            user = models.OneToOneField("auth.User", models.CASCADE)
            company = models.OneToOneField("Company", models.CASCADE, related_name="user_set_x")


        class Company(models.Model):
            pass
        """)})
    view = engine_for(tmp_path, select=("OTO005",)).index.view(module.OneToOneAccessors)
    texts = _ACCESSOR_TEXTS + [textwrap.dedent(case.code) for code, case in (p.values for p in rule_cases("VALID", "INVALID"))
                               if code == "OTO005"]
    for text in texts:
        spelled = view.spelled(text)
        assert spelled == _reference_spelled(view, text), text
        pattern = re.compile(r"(?<!\w)(?:%s)(?!\w)" % "|".join(map(re.escape, sorted(spelled)))) if spelled else None
        expected = line_numbers(text, [m.start() for m in pattern.finditer(text)]) if pattern else []
        assert view.lines_spelling(text, spelled) == expected, text


_TEMPLATES = [
    "{{ a.user.count }}", "{{ a.xuser.count }}", "{{ a.user_set }}", "{% for x in a.user %}", "{% for x in a.user reversed %}",
    "{% for x in a.users %}", "{{ place_ptr.all }}", "{{ a.b_ptr_set }}", "{{ _ptr.all }}", "{{ a._ptr.all }}",
    "{{ é_ptr.all }}", "{{ user }}", "user.count", "{{ a.company.exists }}", "{% for c in a.company -%}", "",
    "{{ a.account.first }}{{ a.account_set.all }}", "xaccount.first",
]


def test_oto005_template_screen_matches_the_same_templates(tmp_path: Path) -> None:
    module = _accessors_module()
    write_project(tmp_path, {"app/models.py": textwrap.dedent("""\
        from django.db import models


        class Account(models.Model):
            user = models.OneToOneField("auth.User", models.CASCADE)
            company = models.OneToOneField("Company", models.CASCADE)


        class Company(models.Model):
            pass
        """)})
    view = engine_for(tmp_path, select=("OTO005",)).index.view(module.OneToOneAccessors)
    names = "|".join(map(re.escape, sorted(view.names)))
    methods = "|".join(sorted(module.METHODS))
    reference = re.compile(rf"\b(?:{names}|\w+_ptr)(?:_set\b|\.(?:{methods})\b|\s*(?:reversed\s*)?[-+]?%\}})")
    texts = _TEMPLATES + [textwrap.dedent(case.code) for code, case in (p.values for p in rule_cases("VALID", "INVALID"))
                          if code == "OTO005"]
    assert sum(reference.search(text) is not None for text in texts) > 10
    for text in texts:
        assert (view.template_pattern.search(text) is None) == (reference.search(text) is None), text


# -- OTO003's model calls: an alternation of the names when they are few, else first letters --

_CALL_TEXTS = [
    "x = PlaceForm(a)\nclass Place(models.Model):\n    p = Place (1); MyPlace(2); Place_(3)\n",
    "Restaurant(place=Place())\nRestaurantX(1)\n_Place(2)\n1Place(3)\nplace(4)\n",
    "class PlaceForm(forms.ModelForm): pass\nPlaceFormSet(x)\nPlaceFactory.build()\n", "Place", "",
]


@pytest.mark.parametrize("text", _CALL_TEXTS + [textwrap.dedent(case.code) for code, case in
                                                (p.values for p in rule_cases("VALID", "INVALID")) if code == "OTO003"])
def test_oto003_model_calls_are_found_the_same_either_way(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    screen = sys.modules[all_rules()["OTO003"].screen.__module__]
    names = {"Place", "PlaceForm", "PlaceFactory", "Restaurant", "Waiter", "Article", "Tag", "Author", "Book"}
    monkeypatch.setattr(screen, "_FEW_NAMES", 0)
    by_first_letters = screen._model_calls(text, names)
    monkeypatch.setattr(screen, "_FEW_NAMES", 10**6)
    assert screen._model_calls(text, names) == by_first_letters


_OTO005_MODELS = textwrap.dedent("""\
    from django.db import models


    class Place(models.Model):
        name = models.CharField(max_length=50)


    class Restaurant(models.Model):
        place = models.OneToOneField(Place, models.CASCADE)
        serves = models.BooleanField(default=False)
    """)

#: (what, views.py, whether OTO005's text screen lets it through): every snippet let through
#: is reported (None: let through but not reported), with the same findings as with the
#: screens forced open; a snippet ruled out is never parsed by LibCST.
_OTO005_TEXTS = [
    ("manager method", "def f(r: Restaurant):\n    return r.place.all()\n", True),
    ("method after a closing bracket", "def f(r: Restaurant):\n    return (r.place).count()\n", True),
    ("method on the next line", "def f(r: Restaurant):\n    return (r.place  # here\n            .first())\n", True),
    ("method across a continuation", "def f(r: Restaurant):\n    return r.place \\\n        .exists()\n", True),
    ("method on getattr", "def f(r: Restaurant):\n    return getattr(r, 'place').filter(name='x')\n", True),
    ("async method", "async def f(r: Restaurant):\n    return await r.place.afirst()\n", True),
    ("for iterable", "def f(r: Restaurant):\n    for p in r.place:\n        print(p)\n", True),
    ("comprehension iterable", "def f(r: Restaurant):\n    return [p for p in r.place]\n", True),
    ("comprehension with a condition", "def f(r: Restaurant):\n    return [p for p in r.place if p]\n", True),
    ("generator argument", "def f(r: Restaurant):\n    return sum(1 for p in r.place)\n", True),
    ("set name", "def f(p: Place):\n    return p.restaurant_set.all()\n", True),
    ("serializer source, many", (
        "from rest_framework import serializers\n\n\nclass S(serializers.ModelSerializer):\n"
        "    places = serializers.StringRelatedField(source='place', many=True)\n\n"
        "    class Meta:\n        model = Restaurant\n        fields = ['places']\n"), True),
    ("set name in a lookup", "def f():\n    return Restaurant.objects.prefetch_related('place__restaurant_set')\n", True),
    ("lookup", "def f():\n    return Restaurant.objects.values('owner__place').count()\n", False),
    ("dot before a comment", "def f(r: Restaurant):\n    return (r.  # the place\n            place.all())\n", True),
    ("condition on the accessor (let through, not reported)", "def f(r: Restaurant):\n    if r.place:\n        return 1\n", None),
    ("variable named like the accessor", "def f(place):\n    print(place)\n    return [place]\n", False),
    ("lambda parameter named like it", "def f(rows):\n    return sorted(rows, key=lambda place: place)\n", False),
    ("a line of hashes after it (linear, not exponential)",
     "def f(r: Restaurant):\n    x = r.place\n    " + "#" * 80 + "\n    # )))) ''\n    return x\n", False),
    ("non-ASCII method name", "def f(r: Restaurant):\n    return r.place.\uff41ll()\n", True),
    ("attribute of the object", "def f(r: Restaurant):\n    return r.place.name\n", False),
    ("keyword argument", "def f(p: Place):\n    return Restaurant.objects.create(place=p, serves=True)\n", False),
    ("assignment", "def f(r: Restaurant, p: Place):\n    r.place = p\n    r.save()\n", False),
    ("model delete", "def f(r: Restaurant):\n    r.place.delete()\n", False),
    ("string", "def f(r: Restaurant):\n    return {'place': r.pk}\n", False),
    ("method-like prefix", "def f(r: Restaurant):\n    return r.place.all_names\n", False),
    ("for over another attribute", "def f(r: Restaurant):\n    for x in r.place.name:\n        print(x)\n", False),
]


@pytest.mark.parametrize(("what", "views", "passes"), _OTO005_TEXTS, ids=[t[0].split(" (")[0].replace(" ", "-") for t in _OTO005_TEXTS])
def test_oto005_text_screen_passes_every_manager_read(tmp_path: Path, what: str, views: str, passes: bool | None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    source = "from app.models import Place, Restaurant\n\n\n" + views
    write_project(tmp_path, {"app/models.py": _OTO005_MODELS, "app/views.py": source})
    engine = engine_for(tmp_path, select=("OTO005",))
    path = str(tmp_path / "app/views.py")
    with monkeypatch.context() as recording:
        parsed = record_libcst_parses(recording)
        screened = engine.analyze(path, source).findings
    assert bool(screened) is bool(passes), what
    if passes is False:
        assert parsed == [], what
    with monkeypatch.context() as opened:
        _open_screens(opened)
        assert _described(engine.analyze(path, source).findings) == _described(screened), what
    view = engine.index.view(_accessors_module().OneToOneAccessors)
    assert view.may_read_as_manager(source, view.spelled(source)) is (passes is not False), what
