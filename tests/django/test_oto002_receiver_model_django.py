"""OTO002 against real Django: the receiver's model must own the accessor that was read.

A project written here holds receivers whose model the code tells (an annotation, a
``get()``, a loop over a queryset, ``get_user_model()``): a multi-table child and a proxy
reading their parent's accessor, a user model reading a ``settings.AUTH_USER_MODEL``
relation's accessor, and a ``Guest`` reading ``ticket``, which is another model's
(``Host``'s) accessor. The CLI reports and fixes the first three and leaves the
``Guest`` code alone; a probe, run in a fresh Django process (SQLite in memory) on the
untouched copy and on the copy ``--fix`` wrote, shows on Django 4.2, 5.2 and 6.1 that
the reported caches are stale before the fix and right after, and that the ``Guest``
code's behaviour is the same, since nothing was written there. The probe also shows what
the fix once offered for it would have done: made the next ``hasattr()`` answer ``True``.

A second project has a user model of its own that no module names in ``AUTH_USER_MODEL``
(Django runs with it set, as from the environment): ``request.user`` is that model there,
so its accessor is reported and fixed, stale before and right after.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.django_harness import VERSIONS, run_django
from tests.helpers import run_cli

#: Left out by `pytest -m "not slow"`: real Django, run in subprocesses.
pytestmark = pytest.mark.slow

SELECT = ("--select", "OTO002", "--no-cache")
FINDING = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): OTO002 ", re.MULTILINE)

MODELS = '''
from django.conf import settings
from django.db import models


class Host(models.Model):
    name = models.CharField(max_length=50, default="")


class Guest(models.Model):
    name = models.CharField(max_length=50, default="")


class Ticket(models.Model):
    holder = models.OneToOneField(Host, models.CASCADE, related_name="ticket")


class Place(models.Model):
    name = models.CharField(max_length=50, default="")


class Restaurant(Place):
    pass


class ProxyPlace(Place):
    class Meta:
        proxy = True


class Lease(models.Model):
    place = models.OneToOneField(Place, models.CASCADE, related_name="lease")


class Badge(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="badge")
'''

FLOWS = '''
from django.contrib.auth import get_user_model

from venue.models import Badge, Guest, Lease, ProxyPlace, Restaurant, Ticket


def open_lease(restaurant: Restaurant):
    if not hasattr(restaurant, "lease"):
        Lease.objects.create(place_id=restaurant.pk)
    return restaurant


def open_proxy_lease(pk):
    place = ProxyPlace.objects.get(pk=pk)
    if not hasattr(place, "lease"):
        Lease.objects.create(place_id=place.pk)
    return place


def award(pk):
    user = get_user_model().objects.get(pk=pk)
    if not hasattr(user, "badge"):
        Badge.objects.create(user_id=user.pk)
    return user


def admit(guest: Guest):
    if not hasattr(guest, "ticket"):
        Ticket.objects.create(holder_id=guest.pk)
    return guest


def admit_all():
    admitted = []
    for guest in Guest.objects.all():
        if getattr(guest, "ticket", None) is None:
            Ticket.objects.create(holder_id=guest.pk)
        admitted.append(guest)
    return admitted
'''

#: The lines of FLOWS (as written: it starts with a newline) holding the three true findings.
REPORTED = {("venue/flows.py", 9), ("venue/flows.py", 16), ("venue/flows.py", 23)}

PROBE = r'''
import json
from django.contrib.auth import get_user_model
from venue.flows import admit, admit_all, award, open_lease, open_proxy_lease
from venue.models import Badge, Guest, Host, Lease, ProxyPlace, Restaurant, Ticket

results = {}

restaurant = open_lease(Restaurant.objects.create(name="Demon Dogs"))
results["mti"] = {"cached": hasattr(restaurant, "lease"), "in_db": Lease.objects.filter(place_id=restaurant.pk).exists()}
place = open_proxy_lease(ProxyPlace.objects.create(name="Ace").pk)
results["proxy"] = {"cached": hasattr(place, "lease"), "in_db": Lease.objects.filter(place_id=place.pk).exists()}
user = award(get_user_model().objects.create(username="ann").pk)
results["user"] = {"cached": hasattr(user, "badge"), "in_db": Badge.objects.filter(user_id=user.pk).exists()}

# Guest and Host rows share primary keys: the Guest code creates tickets for the Hosts.
for name in ("a", "b", "c", "d"):
    Host.objects.create(name=name)
Guest.objects.create(name="a")
Guest.objects.create(name="b")
admitted = admit_all()
results["admit_all"] = {"hasattr": [hasattr(g, "ticket") for g in admitted], "tickets": Ticket.objects.count()}
guest = admit(Guest.objects.create(name="c"))
results["admit"] = {"hasattr": hasattr(guest, "ticket"), "cached": "ticket" in guest._state.fields_cache,
                    "tickets": Ticket.objects.count()}

# What the fix once offered for `admit` would have done: a plain attribute on the Guest.
guest = Guest.objects.create(name="d")
if not hasattr(guest, "ticket"):
    guest.ticket = Ticket.objects.create(holder_id=guest.pk)
results["assigned"] = {"hasattr": hasattr(guest, "ticket")}
print("RESULTS " + json.dumps(results))
'''


def findings(output: str) -> set[tuple[str, int]]:
    return {(m["path"].replace("\\", "/"), int(m["line"])) for m in FINDING.finditer(output)}


def write_project(root: Path) -> None:
    (root / "venue").mkdir(parents=True)
    (root / "venue" / "__init__.py").write_text("")
    (root / "venue" / "models.py").write_text(MODELS)
    (root / "venue" / "flows.py").write_text(FLOWS)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("oto002_receivers")
    for name in ("before", "after"):
        write_project(base / name)
    check = run_cli(*SELECT, ".", cwd=base / "before")
    first = run_cli("--fix", *SELECT, ".", cwd=base / "after")
    second = run_cli("--fix", *SELECT, ".", cwd=base / "after")
    return {"before": base / "before", "after": base / "after", "check": check, "first": first, "second": second}


def function_source(text: str, name: str) -> str:
    start = text.index(f"\ndef {name}(")
    end = text.find("\ndef ", start + 1)
    return text[start:end if end != -1 else len(text)]


def test_only_receivers_whose_model_owns_the_accessor_are_reported_and_fixed(projects: dict) -> None:
    check, first, second = projects["check"], projects["first"], projects["second"]
    assert check.returncode == 1, check.stdout + check.stderr
    assert findings(check.stdout) == REPORTED, check.stdout
    assert "Fixed 3 findings" in first.stdout, first.stdout + first.stderr
    assert first.returncode == 0 and findings(first.stdout) == set(), first.stdout + first.stderr
    assert second.returncode == 0 and findings(second.stdout) == set(), second.stdout + second.stderr
    fixed = (projects["after"] / "venue" / "flows.py").read_text()
    assert "restaurant.lease = Lease.objects.create(place_id=restaurant.pk)" in fixed
    assert "place.lease = Lease.objects.create(place_id=place.pk)" in fixed
    assert "user.badge = Badge.objects.create(user_id=user.pk)" in fixed
    for name in ("admit", "admit_all"):  # the Guest code: not a character changed
        assert function_source(fixed, name) == function_source(FLOWS, name)


@pytest.mark.parametrize("version", VERSIONS)
def test_reported_caches_are_stale_until_fixed_and_the_wrong_model_code_is_unchanged(projects: dict, version: str) -> None:
    results = {}
    for name in ("before", "after"):
        run = run_django(projects[name], ["venue"], PROBE, version=version)
        assert run.returncode == 0, run.stderr[-3000:]
        line = next(line for line in run.stdout.splitlines() if line.startswith("RESULTS "))
        results[name] = json.loads(line[len("RESULTS "):])
    before, after = results["before"], results["after"]

    # A multi-table child, a proxy, the user model: each owns the accessor; the cache is stale
    # before the fix (the row exists, hasattr says no) and right after it.
    for name in ("mti", "proxy", "user"):
        assert before[name] == {"cached": False, "in_db": True}, (name, before[name])
        assert after[name] == {"cached": True, "in_db": True}, (name, after[name])

    # A Guest has no `ticket`: the read cached nothing, the rows were written, and the code
    # left alone by --fix behaves exactly as before.
    assert before["admit_all"] == {"hasattr": [False, False], "tickets": 2}
    assert before["admit"] == {"hasattr": False, "cached": False, "tickets": 3}
    for name in ("admit", "admit_all"):
        assert after[name] == before[name], (name, before[name], after[name])
    # The assignment a fix would have added turns the next hasattr() around.
    assert before["assigned"] == after["assigned"] == {"hasattr": True}


# -- a user model of the project's own, named only in the environment's settings ----------

MEMBER_MODELS = '''
from django.contrib.auth.models import AbstractUser
from django.db import models


class Member(AbstractUser):
    pass


class Card(models.Model):
    member = models.OneToOneField(Member, models.CASCADE, related_name="card")
'''

MEMBER_VIEWS = '''
from members.models import Card


def card(request):
    if not hasattr(request.user, "card"):
        Card.objects.create(member_id=request.user.pk)
    return request.user
'''

MEMBER_PROBE = r'''
import json
from types import SimpleNamespace
from members.models import Card, Member
from members.views import card

user = card(SimpleNamespace(user=Member.objects.create(username="ann")))
print("RESULTS " + json.dumps({"cached": hasattr(user, "card"), "in_db": Card.objects.filter(member=user).exists()}))
'''


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """No module of the project sets AUTH_USER_MODEL: the settings the code runs with do."""
    base = tmp_path_factory.mktemp("oto002_members")
    for name in ("before", "after"):
        (base / name / "members").mkdir(parents=True)
        (base / name / "members" / "__init__.py").write_text("")
        (base / name / "members" / "models.py").write_text(MEMBER_MODELS)
        (base / name / "members" / "views.py").write_text(MEMBER_VIEWS)
    check = run_cli(*SELECT, ".", cwd=base / "before")
    fixed = run_cli("--fix", *SELECT, ".", cwd=base / "after")
    return {"before": base / "before", "after": base / "after", "check": check, "fixed": fixed}


@pytest.mark.parametrize("version", VERSIONS)
def test_request_user_may_be_the_projects_own_user_model(members: dict, version: str) -> None:
    assert findings(members["check"].stdout) == {("members/views.py", 7)}, members["check"].stdout
    assert "Fixed 1 finding" in members["fixed"].stdout, members["fixed"].stdout + members["fixed"].stderr
    results = {}
    for name in ("before", "after"):
        run = run_django(members[name], ["members"], MEMBER_PROBE, version=version,
                         extra_settings='AUTH_USER_MODEL="members.Member",')
        assert run.returncode == 0, run.stderr[-3000:]
        line = next(line for line in run.stdout.splitlines() if line.startswith("RESULTS "))
        results[name] = json.loads(line[len("RESULTS "):])
    assert results["before"] == {"cached": False, "in_db": True}
    assert results["after"] == {"cached": True, "in_db": True}
