"""OTO003's and OTO005's screens only rule out what their visitors cannot report.

Every case of both rules runs with the screens as they are and with the screens forced open
(every file reaches LibCST, whole): the findings must be the same. Snippets aimed at each way
OTO003's tree screen rules a flow out check that what the flow analysis reports still passes,
and that what it cannot report is never parsed with LibCST.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from o2o_lint.rules import all_rules
from o2o_lint.rules.base import Invalid, Valid
from o2o_lint.rules.oto003_unsaved_instance import flow, screen
from o2o_lint.rules.oto003_unsaved_instance.rule import _MODELS
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
         "from places.models import Place, Restaurant\nfrom signals import done, register\n\n\n")

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
    ("a form's instance, the form built plainly", """
        def f(request):
            form = PlaceForm(request.POST)
            place = form.save(commit=False)
            Restaurant.objects.create(place=place)
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
    ("handed on before the save points", """
        def f(flag):
            p = Place(name="a")
            register(p)
            if flag:
                Restaurant.objects.create(place=p)
            p.restaurant = Restaurant.objects.get(pk=1)
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


def test_the_screen_knows_the_functions_that_hand_nothing_over() -> None:
    assert screen._NON_SAVING_FUNCTIONS == flow.NON_SAVING_FUNCTIONS
