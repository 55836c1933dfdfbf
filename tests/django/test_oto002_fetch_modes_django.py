"""OTO002 against real Django 6.1: fetch modes, where one read caches the answer on every peer.

``QuerySet.fetch_mode(models.FETCH_PEERS)`` (new in Django 6.1) makes the first read of
``o.profile`` on any instance the queryset fetched run one query for all of them and cache
each answer, "none" included, on every instance. A loop that creates the missing row by id
and then reads the accessor is right without the fetch mode (each element's read is its
own) and stale with it from its second element on: the first iteration's read already
cached "none" on the later elements, before their rows were created.

The flows below run in a fresh Django process (SQLite in memory) on the untouched copy and
on a copy fixed by the real CLI (``python -m o2o_lint --fix``). ``fetch_mode`` does not
exist before 6.1, so those run on 6.1 only (under a Python 3.12+ interpreter the harness
finds: the test fails, never skips, when there is none). The same loop without the fetch
mode runs on every release line and is neither stale nor reported.
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
FINDING = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): OTO002 (?P<message>.*)$", re.MULTILINE)

MODELS = '''
from django.db import models


class Owner(models.Model):
    name = models.CharField(max_length=50, default="")


class Profile(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="profile")
    bio = models.TextField(blank=True)
'''

FLOWS = '''
from django.db import models
from django.db.models import FETCH_PEERS

from shop.models import Owner, Profile


def ensure_all():
    answers = []
    for o in Owner.objects.fetch_mode(FETCH_PEERS).order_by("pk"):
        if not Profile.objects.filter(owner_id=o.pk).exists():
            Profile.objects.create(owner_id=o.pk)
        answers.append(hasattr(o, "profile"))
    return answers


def ensure_bios():
    bios = []
    owners = Owner.objects.fetch_mode(models.FETCH_PEERS).filter(name__startswith="o")
    for o in owners.order_by("pk"):
        Profile.objects.get_or_create(owner_id=o.pk, defaults={"bio": o.name})
        bios.append(o.profile.bio)
    return bios


def ensure_saved():
    answers = []
    owners = list(Owner.objects.fetch_mode(FETCH_PEERS).order_by("pk"))
    for o in owners:
        Profile(owner_id=o.pk).save()
        answers.append(getattr(o, "profile", None) is not None)
    return answers


def purge():
    purged = []
    for o in Owner.objects.fetch_mode(FETCH_PEERS).order_by("pk")[:10]:
        if o.profile.bio == "":
            Profile.objects.filter(owner_id=o.pk).delete()
            purged.append(o)
    return purged


def ensure_profile(owner):
    Profile.objects.get_or_create(owner_id=owner.pk)


def through_a_call():
    bios = []
    for o in Owner.objects.fetch_mode(FETCH_PEERS).order_by("pk"):
        ensure_profile(o)
        bios.append(o.profile.bio)
    return bios


def ensure_iterated():
    answers = []
    for o in Owner.objects.fetch_mode(FETCH_PEERS).order_by("pk").iterator():
        Profile.objects.create(owner_id=o.pk)
        answers.append(hasattr(o, "profile"))
    return answers


def backfill():
    for o in Owner.objects.fetch_mode(FETCH_PEERS):
        if not hasattr(o, "profile"):
            Profile.objects.create(owner_id=o.pk)


def touch_all():
    answers = []
    for o in Owner.objects.fetch_mode(FETCH_PEERS).order_by("pk"):
        bio = o.profile.bio
        Profile.objects.get_or_create(owner_id=o.pk, defaults={"bio": bio})
        answers.append(hasattr(o, "profile"))
    return answers
'''

#: The loop of ``ensure_all`` without a fetch mode: right on every release line.
PLAIN = '''
from shop.models import Owner, Profile


def ensure_all():
    answers = []
    for o in Owner.objects.order_by("pk"):
        if not Profile.objects.filter(owner_id=o.pk).exists():
            Profile.objects.create(owner_id=o.pk)
        answers.append(hasattr(o, "profile"))
    return answers
'''

PROBE = r'''
import json
from django.core.exceptions import FieldFetchBlocked
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from shop.flows import (
    backfill, ensure_all, ensure_bios, ensure_iterated, ensure_saved, purge, through_a_call, touch_all,
)
from shop.models import Owner, Profile

results = {}


def owners(count=3, with_profiles=False):
    Profile.objects.all().delete()
    Owner.objects.all().delete()
    for number in range(count):
        owner = Owner.objects.create(name=f"o{number}")
        if with_profiles:
            Profile.objects.create(owner=owner)


def outcome(function):
    try:
        return function()
    except Exception as exc:
        return type(exc).__name__


# What FETCH_PEERS does: one read caches the answer on every instance of the evaluation.
owners()
fetched = list(Owner.objects.fetch_mode(models.FETCH_PEERS))
with CaptureQueriesContext(connection) as queries:
    hasattr(fetched[0], "profile")
results["peers_cached"] = [o._state.fields_cache.get("profile", "unread") for o in fetched]
results["peers_queries"] = len(queries)
fetched = list(Owner.objects.fetch_mode(models.FETCH_ONE))
hasattr(fetched[0], "profile")
results["one_cached"] = [o._state.fields_cache.get("profile", "unread") for o in fetched]
# FETCH_RAISE: a read raises FieldFetchBlocked (not an AttributeError: hasattr does not swallow it).
blocked = Owner.objects.fetch_mode(models.FETCH_RAISE).first()
try:
    hasattr(blocked, "profile")
    results["raise"] = "no error"
except FieldFetchBlocked as exc:
    results["raise"] = [type(exc).__name__, isinstance(exc, AttributeError), "profile" in blocked._state.fields_cache]

owners()
results["ensure_all"] = outcome(ensure_all)
results["ensure_all_rows"] = Profile.objects.count()
owners()
results["ensure_bios"] = outcome(ensure_bios)
owners()
results["ensure_saved"] = outcome(ensure_saved)
owners(with_profiles=True)
results["purge"] = [hasattr(o, "profile") for o in purge()]
results["purge_rows"] = Profile.objects.count()
owners()
results["through_a_call"] = outcome(through_a_call)
owners()
results["ensure_iterated"] = outcome(ensure_iterated)
owners()
backfill()
results["backfill_rows"] = Profile.objects.count()
owners(with_profiles=True)
results["touch_all"] = outcome(touch_all)
Profile.objects.filter(owner__name="o1").delete()
results["touch_all_missing"] = outcome(touch_all)
print("RESULTS " + json.dumps(results))
'''

PLAIN_PROBE = r'''
import json
from shop.models import Owner, Profile
from shop.plain import ensure_all

for number in range(3):
    Owner.objects.create(name=f"o{number}")
print("RESULTS " + json.dumps({"ensure_all": ensure_all(), "rows": Profile.objects.count()}))
'''


def findings(output: str) -> dict[tuple[str, int], str]:
    return {(m["path"].replace("\\", "/"), int(m["line"])): m["message"] for m in FINDING.finditer(output)}


def write_project(root: Path) -> None:
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "models.py").write_text(MODELS)
    (root / "shop" / "flows.py").write_text(FLOWS)
    (root / "shop" / "plain.py").write_text(PLAIN)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The untouched project, and a copy after one and after two ``o2o-lint --fix`` runs."""
    base = tmp_path_factory.mktemp("oto002_fetch_modes")
    before, after = base / "before", base / "after"
    write_project(before)
    write_project(after)
    check = run_cli(*SELECT, ".", cwd=before)
    first = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=after)
    second = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=after)
    return {"before": before, "after": after, "check": check, "first": first, "second": second}


def test_writes_by_id_after_a_read_on_a_peer_are_reported(projects: dict) -> None:
    check = projects["check"]
    assert check.returncode == 1, check.stdout + check.stderr
    found = findings(check.stdout)
    flows = "shop/flows.py"

    def at(text: str, function: str = "") -> tuple[str, int]:
        """The line of *text* in FLOWS (its first one after ``def <function>(``)."""
        lines = FLOWS.splitlines()
        start = next(n for n, line in enumerate(lines) if line.startswith(f"def {function}(")) if function else 0
        return (flows, next(n for n, line in enumerate(lines[start:], start + 1) if text in line))

    assert set(found) == {
        at("Profile.objects.create(owner_id=o.pk)", "ensure_all"),
        at("Profile.objects.get_or_create(owner_id=o.pk, defaults"),
        at("Profile(owner_id=o.pk).save()"),
        at("Profile.objects.filter(owner_id=o.pk).delete()"),
        at("Profile.objects.get_or_create(owner_id=owner.pk)"),  # the writer a loop calls
        at("ensure_profile(o)"),  # the call: fixed in the writer
    }, check.stdout
    # Not reported: .iterator() (its peers are the instances fetched so far), the backfill that
    # moves on, touch_all (its own load comes first) and the same loop without a fetch mode.
    message = found[at("Profile.objects.get_or_create(owner_id=o.pk, defaults")]
    read = at("bios.append(o.profile.bio)", "ensure_bios")[1]
    assert f"was read at line {read} in an earlier iteration (with `fetch_mode(models.FETCH_PEERS)` one read caches " \
           "the answer on every instance of the queryset)" in message, message
    assert "`o` escapes: passed to `purged.append()`" in found[at("Profile.objects.filter(owner_id=o.pk).delete()")]


def test_fix_assigns_or_refreshes_and_a_second_run_changes_nothing(projects: dict) -> None:
    first, second = projects["first"], projects["second"]
    assert first.returncode == 0, first.stdout + first.stderr
    assert "No findings remain." in first.stdout, first.stdout
    assert second.returncode == 0 and findings(second.stdout) == {}, second.stdout + second.stderr
    fixed = (projects["after"] / "shop" / "flows.py").read_text()
    assert "o.profile = Profile.objects.create(owner_id=o.pk)" in fixed
    assert 'o.profile, _ = Profile.objects.get_or_create(owner_id=o.pk, defaults={"bio": o.name})' in fixed
    assert "owner.profile, _ = Profile.objects.get_or_create(owner_id=owner.pk)" in fixed
    assert fixed.count('o.refresh_from_db(fields=["profile"])') == 2  # after the save() and the delete()
    assert (projects["after"] / "shop" / "plain.py").read_text() == PLAIN


def probe(project: Path, script: str, version: str) -> dict:
    result = run_django(project, ["shop"], script, version=version)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
    return json.loads(line[len("RESULTS "):])


def test_fetch_peers_loops_are_stale_before_the_fix_and_right_after_on_django_6_1(projects: dict) -> None:
    before = probe(projects["before"], PROBE, "6.1")
    after = probe(projects["after"], PROBE, "6.1")

    # One hasattr() on the first instance: one query, "none" cached on every peer; FETCH_ONE: on it alone.
    assert before["peers_cached"] == [None, None, None] and before["peers_queries"] == 1
    assert before["one_cached"] == [None, "unread", "unread"]
    assert before["raise"] == ["FieldFetchBlocked", False, False]  # and nothing cached

    # Every row was created, yet from the second element on the instance says there is none.
    assert before["ensure_all"] == [True, False, False] and before["ensure_all_rows"] == 3
    assert after["ensure_all"] == [True, True, True] and after["ensure_all_rows"] == 3
    assert before["ensure_bios"] == "RelatedObjectDoesNotExist"
    assert after["ensure_bios"] == ["o0", "o1", "o2"]
    assert before["ensure_saved"] == [True, False, False]
    assert after["ensure_saved"] == [True, True, True]
    # Deleted rows the returned instances still hold.
    assert before["purge"] == [True, True, True] and before["purge_rows"] == 0
    assert after["purge"] == [False, False, False] and after["purge_rows"] == 0
    assert before["through_a_call"] == "RelatedObjectDoesNotExist"
    assert after["through_a_call"] == ["", "", ""]
    # Not reported, and right: .iterator(), and the backfill that never reads again.
    assert before["ensure_iterated"] == after["ensure_iterated"] == [True, True, True]
    assert before["backfill_rows"] == after["backfill_rows"] == 3
    # Not reported, and right: an unguarded o.profile before the write raised or found the row
    # (FETCH_ONE raises there too), so get_or_create by id finds it and attaches nothing.
    assert before["touch_all"] == after["touch_all"] == [True, True, True]
    assert before["touch_all_missing"] == after["touch_all_missing"] == "RelatedObjectDoesNotExist"


@pytest.mark.parametrize("version", VERSIONS)
def test_the_same_loop_without_a_fetch_mode_is_right_and_not_reported(projects: dict, version: str) -> None:
    assert not any(path == "shop/plain.py" for path, _ in findings(projects["check"].stdout))
    assert probe(projects["before"], PLAIN_PROBE, version) == {"ensure_all": [True, True, True], "rows": 3}
