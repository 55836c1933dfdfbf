"""OTO002 against real Django: the stale reverse one-to-one cache before and after ``--fix``.

The fixture project (``tests/fixtures/oto002_project``) holds the application code of
the forum thread "OneToOneField caching behavior" (``Company.create_address`` and its
``test_create_address_for_company``), a ``get_or_create`` keyed by ``user_id`` in a
service another module calls after ``hasattr``, a queryset delete after ``hasattr``, and
multi-table inheritance (``Restaurant(place_ptr_id=...)``, ``delete(keep_parents=True)``).

The same probe runs in a fresh Django process (SQLite in memory) on the untouched
copy and on a copy fixed by the real CLI (``python -m o2o_lint --fix``), on Django 4.2
and 5.2. For each scenario it reports what ``hasattr`` says on the very instance the
code used and what the database holds: before the fix they disagree (the bug), after it
they agree. Every assertion is on values Django produced.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.django_harness import VERSIONS, run_django
from tests.helpers import FIXTURES, run_cli

#: Left out by `pytest -m "not slow"`: real Django (installed on first use), run in subprocesses.
pytestmark = pytest.mark.slow

PROJECT = FIXTURES / "oto002_project"
APPS = ["companies", "accounts", "places"]
SELECT = ("--select", "OTO002", "--no-cache")
FINDING = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): OTO002 ", re.MULTILINE)

PROBE = r'''
import json
from django.contrib.auth.models import User
from accounts.maintenance import remove_profile
from accounts.models import Profile
from accounts.views import login
from companies.checks import test_create_address_for_company
from companies.models import Address, Company
from places.flows import close_restaurant, open_restaurant
from places.models import Place, Restaurant

results = {}


def outcome(function, *args):
    try:
        function(*args)
    except Exception as exc:
        return type(exc).__name__
    return "passed"


# 1. The forum thread's test, as written there.
results["forum_test"] = outcome(test_create_address_for_company)

# The same story, observed: the instance's answer against the database's.
company = Company.objects.create(name="Initech")
read_before = hasattr(company, "address")
company.create_address()
results["create_address"] = {
    "read_before": read_before,
    "cached": hasattr(company, "address"),
    "in_db": Address.objects.filter(company=company).exists(),
}

# 2. get_or_create keyed by user_id, in a service another module calls after hasattr.
user = User.objects.create(username="ann")
results["login"] = {"outcome": outcome(login, user)}
results["login"].update(cached=hasattr(user, "profile"), in_db=Profile.objects.filter(user=user).exists())

# 3. A queryset delete after hasattr cached the profile.
owner = User.objects.create(username="bob")
Profile.objects.create(user=owner)
owner = User.objects.get(pk=owner.pk)
answer = remove_profile(owner)
results["delete"] = {"returned": answer, "cached": hasattr(owner, "profile"),
                     "in_db": Profile.objects.filter(user=owner).exists()}

# 4. Multi-table inheritance: created through place_ptr_id, deleted with keep_parents=True.
place = Place.objects.create(name="Demon Dogs")
answer = open_restaurant(place)
results["mti_open"] = {"returned": answer, "cached": hasattr(place, "restaurant"),
                       "in_db": Restaurant.objects.filter(pk=place.pk).exists(),
                       "name_in_db": Place.objects.get(pk=place.pk).name}
place = Place.objects.get(pk=Restaurant.objects.create(name="Ace Hardware").pk)
answer = close_restaurant(place)
results["mti_close"] = {"returned": answer, "cached": hasattr(place, "restaurant"),
                        "in_db": Restaurant.objects.filter(pk=place.pk).exists(),
                        "parent_in_db": Place.objects.filter(pk=place.pk).exists()}
print("RESULTS " + json.dumps(results))
'''

SCENARIOS = ("create_address", "login", "delete", "mti_open", "mti_close")


def probe(project: Path, version: str) -> dict:
    result = run_django(project, APPS, PROBE, version=version)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
    return json.loads(line[len("RESULTS "):])


def findings(output: str) -> set[tuple[str, int]]:
    return {(m["path"].replace("\\", "/"), int(m["line"])) for m in FINDING.finditer(output)}


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The untouched project, and a copy after one and after two ``o2o-lint --fix`` runs."""
    base = tmp_path_factory.mktemp("oto002")
    before = base / "before"
    after = base / "after"
    shutil.copytree(PROJECT, before)
    shutil.copytree(PROJECT, after)
    check = run_cli(*SELECT, ".", cwd=before)
    # (--unsafe-fixes: some refreshes may drop other cached relations on Django 4.2; none here)
    first = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=after)
    second = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=after)
    return {"before": before, "after": after, "check": check, "first": first, "second": second}


def test_the_cli_reports_every_stale_write_and_the_calls_into_writers(projects: dict) -> None:
    check = projects["check"]
    assert check.returncode == 1, check.stdout + check.stderr
    assert findings(check.stdout) == {
        ("companies/models.py", 10),  # create(company_id=self.pk) after hasattr(self, "address")
        ("companies/checks.py", 9),  # company.create_address() after hasattr(company, "address")
        ("accounts/services.py", 5),  # the writer: its caller in views.py reads first
        ("accounts/views.py", 6),  # ensure_profile(user) after hasattr(user, "profile")
        ("accounts/maintenance.py", 6),  # Profile.objects.filter(user=user).delete()
        ("places/flows.py", 6),  # Restaurant(place_ptr_id=...).save()
        ("places/flows.py", 12),  # place.restaurant.delete(keep_parents=True)
    }, check.stdout


def test_fix_fixes_the_writers_and_a_second_run_changes_nothing(projects: dict) -> None:
    first, second = projects["first"], projects["second"]
    assert "Fixed 5 findings" in first.stdout, first.stdout + first.stderr
    # The call sites are fixed by fixing their writers (in other files): the same run
    # checks them again once the writers are fixed, so nothing remains.
    assert findings(first.stdout) == set(), first.stdout
    assert first.returncode == 0, first.stdout + first.stderr
    assert "No findings remain." in first.stdout
    assert second.returncode == 0, second.stdout + second.stderr
    assert findings(second.stdout) == set()
    after = projects["after"]
    for path in PROJECT.rglob("*.py"):
        fixed = (after / path.relative_to(PROJECT)).read_text()
        assert "refresh_from_db()" not in fixed  # never a bare refresh: it drops unsaved edits
    assert 'user.profile, _ = Profile.objects.get_or_create(user_id=user.pk)' in (after / "accounts/services.py").read_text()
    assert 'user.refresh_from_db(fields=["profile"])' in (after / "accounts/maintenance.py").read_text()


@pytest.mark.parametrize("version", VERSIONS)
def test_the_stale_cache_shows_before_the_fix_and_is_gone_after(projects: dict, version: str) -> None:
    before = probe(projects["before"], version)
    after = probe(projects["after"], version)

    # The forum thread: the test fails on the cached "no address", then passes.
    assert before["forum_test"] == "RelatedObjectDoesNotExist"
    assert after["forum_test"] == "passed"

    for name in SCENARIOS:
        # Before: the instance the code used disagrees with the database (the stale cache).
        assert before[name]["cached"] != before[name]["in_db"], (name, before[name])
        # After: they agree, whatever the database holds.
        assert after[name]["cached"] == after[name]["in_db"], (name, after[name])
        # The database writes themselves are the same: the fixes keep every write.
        assert after[name]["in_db"] == before[name]["in_db"], (name, before[name], after[name])

    assert before["create_address"]["read_before"] is False
    assert before["login"]["outcome"] == "RelatedObjectDoesNotExist"
    assert after["login"]["outcome"] == "passed"
    # The application's own answers were wrong before and right after.
    for name in ("delete", "mti_open", "mti_close"):
        assert before[name]["returned"] != before[name]["in_db"], (name, before[name])
        assert after[name]["returned"] == after[name]["in_db"], (name, after[name])
    # keep_parents=True kept the parent row; the parent's data survived the child insert.
    assert after["mti_close"]["parent_in_db"] is True
    assert after["mti_open"]["name_in_db"] == before["mti_open"]["name_in_db"] == "Demon Dogs"


# -- observability and repairs (a project of its own, written here) ------------------

OBSERVED_MODELS = '''
from django.db import models


class Owner(models.Model):
    name = models.CharField(max_length=50, default="")


class Profile(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="profile")
    bio = models.TextField(blank=True)
'''

OBSERVED_FLOWS = '''
from shop.models import Owner, Profile


def reset(pk):
    owner = Owner.objects.get(pk=pk)
    if hasattr(owner, "profile"):
        Profile.objects.filter(owner=owner).delete()
    return hasattr(owner, "profile")


def fill(pk, bios):
    owner = Owner.objects.get(pk=pk)
    for bio in bios:
        if not hasattr(owner, "profile"):
            Profile.objects.create(owner_id=owner.pk, bio=bio)


def fresh(pk):
    owner = Owner.objects.get(pk=pk)
    if not hasattr(owner, "profile"):
        Profile.objects.create(owner_id=owner.pk)
    return owner


def backfill():
    for owner in Owner.objects.all():
        if not hasattr(owner, "profile"):
            Profile.objects.create(owner_id=owner.pk)


def popped(owner):
    if not hasattr(owner, "profile"):
        Profile.objects.create(owner_id=owner.pk)
        owner._state.fields_cache.pop("profile", None)
    return owner


def cleared(owner):
    if not hasattr(owner, "profile"):
        Profile.objects.create(owner_id=owner.pk)
        owner._state.fields_cache.clear()
    return owner


def deleted_key(owner):
    if not hasattr(owner, "profile"):
        Profile.objects.create(owner_id=owner.pk)
        del owner._state.fields_cache["profile"]
    return owner


def replaced(owner):
    if hasattr(owner, "profile"):
        Profile.objects.filter(owner=owner).delete()
        Profile.objects.create(owner=owner, bio="new")
    return owner


def dropped(owner):
    if hasattr(owner, "profile"):
        Profile.objects.filter(owner=owner).delete()
        try:
            del owner.profile
        except AttributeError:
            pass
    return owner
'''

OBSERVED_PROBE = r'''
import json
from shop.flows import backfill, cleared, deleted_key, dropped, fill, fresh, popped, replaced, reset
from shop.models import Owner, Profile

results = {}


def present():
    owner = Owner.objects.create()
    Profile.objects.create(owner=owner)
    return Owner.objects.get(pk=owner.pk)


def agree(owner):
    return hasattr(owner, "profile") == Profile.objects.filter(owner_id=owner.pk).exists()


owner = present()
results["reset"] = {"returned": reset(owner.pk), "in_db": Profile.objects.filter(owner=owner).exists()}
owner = Owner.objects.create()
try:
    fill(owner.pk, ["a", "b"])
    results["fill"] = "passed"
except Exception as exc:
    results["fill"] = type(exc).__name__
owner = fresh(Owner.objects.create().pk)
results["fresh"] = agree(owner)
Owner.objects.create()
backfill()
results["backfill_rows"] = Owner.objects.filter(profile__isnull=True).count()
for name, function in (("popped", popped), ("cleared", cleared), ("deleted_key", deleted_key)):
    results[name] = agree(function(Owner.objects.get(pk=Owner.objects.create().pk)))
results["replaced"] = agree(replaced(present()))
owner = present()
try:
    del owner.profile
    results["del_accessor"] = "no error"
except AttributeError as exc:
    results["del_accessor"] = "AttributeError"
results["dropped"] = agree(dropped(present()))
print("RESULTS " + json.dumps(results))
'''


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("oto002_observed")
    for name in ("before", "after"):
        (base / name / "shop").mkdir(parents=True)
        (base / name / "shop" / "__init__.py").write_text("")
        (base / name / "shop" / "models.py").write_text(OBSERVED_MODELS)
        (base / name / "shop" / "flows.py").write_text(OBSERVED_FLOWS)
    check = run_cli(*SELECT, ".", cwd=base / "before")
    fixed = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=base / "after")
    return {"before": base / "before", "after": base / "after", "check": check, "fixed": fixed}


def test_only_observable_stale_writes_are_reported_and_repairs_are_honoured(observed: dict) -> None:
    check = observed["check"]
    lines = {line for _, line in findings(check.stdout)}
    # reset (read again), fill (next iteration), fresh (returned), dropped (`del owner.profile` repairs nothing)
    assert lines == {8, 16, 22, 62}, check.stdout
    assert "read again at line 9" in check.stdout
    assert "in the loop's next iteration" in check.stdout
    assert "`owner` escapes: returned at line 23" in check.stdout
    assert observed["fixed"].returncode == 0, observed["fixed"].stdout + observed["fixed"].stderr


@pytest.mark.parametrize("version", VERSIONS)
def test_observed_stale_caches_and_repairs_on_real_django(observed: dict, version: str) -> None:
    def run(name: str) -> dict:
        result = run_django(observed[name], ["shop"], OBSERVED_PROBE, version=version)
        assert result.returncode == 0, result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
        return json.loads(line[len("RESULTS "):])

    before, after = run("before"), run("after")
    # The reported writes: Django shows the stale answer before the fix, the right one after.
    assert before["reset"] == {"returned": True, "in_db": False}
    assert after["reset"] == {"returned": False, "in_db": False}
    assert before["fill"] == "IntegrityError" and after["fill"] == "passed"
    assert before["fresh"] is False and after["fresh"] is True
    assert before["dropped"] is False and after["dropped"] is True
    # `del owner.profile` raises: the reverse descriptor has no __delete__.
    assert before["del_accessor"] == "AttributeError"
    # The repairs the rule honours really repair (no finding, and Django agrees).
    for name in ("popped", "cleared", "deleted_key", "replaced"):
        assert before[name] is True, name
    # The unobservable backfill wrote every row (nothing to fix, nothing reported).
    assert before["backfill_rows"] == 0


# -- a write hidden in a custom manager's method -----------------------------------------

MANAGER_MODELS = '''
from django.db import models


class ProfileManager(models.Manager):
    def drop_for(self, owner):
        self.filter(owner=owner).delete()


class Owner(models.Model):
    name = models.CharField(max_length=50, default="")


class Profile(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="profile")
    objects = ProfileManager()
'''

MANAGER_FLOWS = '''
from shop.models import Profile


def logout(owner):
    if hasattr(owner, "profile"):
        Profile.objects.drop_for(owner)
    return owner
'''

MANAGER_PROBE = r'''
import json
from shop.flows import logout
from shop.models import Owner, Profile

owner = Owner.objects.create()
Profile.objects.create(owner=owner)
owner = logout(Owner.objects.get(pk=owner.pk))
print("RESULTS " + json.dumps({"cached": hasattr(owner, "profile"),
                               "in_db": Profile.objects.filter(owner=owner).exists()}))
'''


@pytest.mark.parametrize("version", VERSIONS)
def test_a_write_in_a_manager_method_is_reported_and_fixed(tmp_path: Path, version: str) -> None:
    results = {}
    for name in ("before", "after"):
        (tmp_path / name / "shop").mkdir(parents=True)
        (tmp_path / name / "shop" / "__init__.py").write_text("")
        (tmp_path / name / "shop" / "models.py").write_text(MANAGER_MODELS)
        (tmp_path / name / "shop" / "flows.py").write_text(MANAGER_FLOWS)
    check = run_cli(*SELECT, ".", cwd=tmp_path / "before")
    assert findings(check.stdout) == {("shop/models.py", 7), ("shop/flows.py", 7)}, check.stdout
    fixed = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=tmp_path / "after")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    for name in ("before", "after"):
        result = run_django(tmp_path / name, ["shop"], MANAGER_PROBE, version=version)
        assert result.returncode == 0, result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
        results[name] = json.loads(line[len("RESULTS "):])
    assert results["before"] == {"cached": True, "in_db": False}  # stale: the deleted row still cached
    assert results["after"] == {"cached": False, "in_db": False}


# -- caches filled without a read of the receiver itself ----------------------------------

FILLED_FLOWS = '''
from shop.models import Owner, Profile


def comprehension(owners):
    missing = [o for o in owners if not hasattr(o, "profile")]
    for o in missing:
        Profile.objects.create(owner_id=o.pk)


def any_read(owners):
    if not any(hasattr(o, "profile") for o in owners):
        for o in owners:
            Profile.objects.create(owner_id=o.pk)


def lambda_read(owners):
    for o in filter(lambda v: not hasattr(v, "profile"), owners):
        Profile.objects.create(owner_id=o.pk)


def selected(pk):
    owner = Owner.objects.select_related("profile").get(pk=pk)
    Profile.objects.create(owner_id=owner.pk)
    return owner


def purge():
    answers = []
    for owner in Owner.objects.prefetch_related("profile"):
        Profile.objects.filter(owner=owner).delete()
        answers.append(hasattr(owner, "profile"))
    return answers


def backfill():
    owners = list(Owner.objects.all())
    missing = [o for o in owners if not hasattr(o, "profile")]
    for o in missing:
        Profile.objects.create(owner_id=o.pk)


def through_local(pk):
    owners = Owner.objects.select_related("profile")
    owner = owners.get(pk=pk)
    Profile.objects.create(owner_id=owner.pk)
    return owner
'''

FILLED_PROBE = r'''
import json
from shop import flows
from shop.models import Owner, Profile

results = {}


def fresh(count=2):
    Profile.objects.all().delete()
    Owner.objects.all().delete()
    return [Owner.objects.create() for _ in range(count)]


def agree(owners):
    return [hasattr(o, "profile") == Profile.objects.filter(owner_id=o.pk).exists() for o in owners]


for name in ("comprehension", "any_read", "lambda_read"):
    owners = fresh()
    getattr(flows, name)(owners)
    results[name] = agree(owners)
owner = fresh(1)[0]
results["selected"] = agree([flows.selected(owner.pk)])
owner = fresh(1)[0]
results["through_local"] = agree([flows.through_local(owner.pk)])
for owner in fresh():
    Profile.objects.create(owner=owner)
results["purge"] = {"answers": flows.purge(), "rows": Profile.objects.count()}
fresh()
flows.backfill()
results["backfill_rows"] = Profile.objects.count()
print("RESULTS " + json.dumps(results))
'''


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("oto002_filled")
    for name in ("before", "after"):
        (base / name / "shop").mkdir(parents=True)
        (base / name / "shop" / "__init__.py").write_text("")
        (base / name / "shop" / "models.py").write_text(OBSERVED_MODELS)
        (base / name / "shop" / "flows.py").write_text(FILLED_FLOWS)
    check = run_cli(*SELECT, ".", cwd=base / "before")
    fixed = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=base / "after")
    return {"before": base / "before", "after": base / "after", "check": check, "fixed": fixed}


def test_caches_filled_on_elements_and_by_select_related_are_reported(filled: dict) -> None:
    check = filled["check"]
    # comprehension, any(), filter(lambda), select_related().get(), prefetch_related() loop;
    # not backfill (its local list of owners is never read again).
    assert {line for _, line in findings(check.stdout)} == {8, 14, 19, 24, 31, 46}, check.stdout
    assert "on every element of `owners`" in check.stdout
    assert 'by `select_related("profile")`' in check.stdout
    assert 'by `prefetch_related("profile")`' in check.stdout
    assert filled["fixed"].returncode == 0, filled["fixed"].stdout + filled["fixed"].stderr


@pytest.mark.parametrize("version", VERSIONS)
def test_caches_filled_on_elements_and_by_select_related_on_real_django(filled: dict, version: str) -> None:
    def run(name: str) -> dict:
        result = run_django(filled[name], ["shop"], FILLED_PROBE, version=version)
        assert result.returncode == 0, result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
        return json.loads(line[len("RESULTS "):])

    before, after = run("before"), run("after")
    for name in ("comprehension", "any_read", "lambda_read", "selected", "through_local"):
        assert not all(before[name]), (name, before[name])  # the stale "none" on the instances
        assert all(after[name]), (name, after[name])
    assert before["purge"] == {"answers": [True, True], "rows": 0}  # prefetched rows, deleted
    assert after["purge"] == {"answers": [False, False], "rows": 0}
    assert before["backfill_rows"] == after["backfill_rows"] == 2  # not reported: every row written


# -- the async ORM: the fixes must stay async-safe ------------------------------------------

ASYNC_FLOWS = '''
from shop.models import Owner, Profile


async def ensure(pk):
    owner = await Owner.objects.select_related("profile").aget(pk=pk)
    if not hasattr(owner, "profile"):
        await Profile.objects.acreate(owner_id=owner.pk)
    return owner


async def ensure_pair(pk):
    owner = await Owner.objects.select_related("profile").aget(pk=pk)
    if not hasattr(owner, "profile"):
        await Profile.objects.aget_or_create(owner_id=owner.pk)
    return owner


async def drop(pk):
    owner = await Owner.objects.select_related("profile").aget(pk=pk)
    if hasattr(owner, "profile"):
        await Profile.objects.filter(owner=owner).adelete()
    return owner
'''

#: Async code needs a database every thread sees: a file, not SQLite's ``:memory:``.
ASYNC_PROBE = r'''
import asyncio, json, os, sys, tempfile
sys.path.insert(0, os.getcwd())
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "shop"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                           "NAME": os.path.join(tempfile.mkdtemp(), "db.sqlite3")}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField", USE_TZ=True,
)
django.setup()
from django.core.management import call_command
call_command("migrate", run_syncdb=True, verbosity=0)
from shop import flows
from shop.models import Owner, Profile


async def answer(function, pk):
    owner = await function(pk)
    try:
        cached = hasattr(owner, "profile")  # in async code: only a cached answer is allowed
    except Exception as exc:
        cached = type(exc).__name__
    return {"cached": cached, "in_db": await Profile.objects.filter(owner_id=pk).aexists()}


async def main():
    results = {}
    for name in ("ensure", "ensure_pair"):
        owner = await Owner.objects.acreate()
        results[name] = await answer(getattr(flows, name), owner.pk)
    owner = await Owner.objects.acreate()
    await Profile.objects.acreate(owner=owner)
    results["drop"] = await answer(flows.drop, owner.pk)
    owner = await Owner.objects.select_related("profile").aget(pk=owner.pk)
    await owner.arefresh_from_db(fields=["profile"])
    try:
        results["after_arefresh"] = hasattr(owner, "profile")
    except Exception as exc:
        results["after_arefresh"] = type(exc).__name__
    return results


print("RESULTS " + json.dumps(asyncio.run(main())))
'''


@pytest.mark.parametrize("version", VERSIONS)
def test_async_writes_are_fixed_without_emptying_the_cache(tmp_path: Path, version: str) -> None:
    for name in ("before", "after"):
        (tmp_path / name / "shop").mkdir(parents=True)
        (tmp_path / name / "shop" / "__init__.py").write_text("")
        (tmp_path / name / "shop" / "models.py").write_text(OBSERVED_MODELS)
        (tmp_path / name / "shop" / "flows.py").write_text(ASYNC_FLOWS)
    check = run_cli(*SELECT, ".", cwd=tmp_path / "before")
    assert {line for _, line in findings(check.stdout)} == {8, 15, 22}, check.stdout
    fixed = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=tmp_path / "after")
    assert "Fixed 2 findings" in fixed.stdout, fixed.stdout + fixed.stderr
    flows = (tmp_path / "after" / "shop" / "flows.py").read_text()
    assert "owner.profile = await Profile.objects.acreate(owner_id=owner.pk)" in flows
    assert "owner.profile, _ = await Profile.objects.aget_or_create(owner_id=owner.pk)" in flows
    assert "refresh_from_db" not in flows  # the delete is reported without a fix
    results = {}
    for name in ("before", "after"):
        result = run_django(tmp_path / name, ["shop"], ASYNC_PROBE, version=version, setup=False)
        assert result.returncode == 0, result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
        results[name] = json.loads(line[len("RESULTS "):])
    before, after = results["before"], results["after"]
    for name in ("ensure", "ensure_pair"):
        assert before[name] == {"cached": False, "in_db": True}, (name, before[name])  # stale
        assert after[name] == {"cached": True, "in_db": True}, (name, after[name])
    assert before["drop"] == after["drop"] == {"cached": True, "in_db": False}  # stale, left unfixed
    # Why no refresh in async code: it empties the cache, and the next read must query.
    assert before["after_arefresh"] == "SynchronousOnlyOperation"


# -- writes in managers and querysets of another module ------------------------------------

ELSEWHERE_MANAGERS = '''
from django.db import models


class ProfileQuerySet(models.QuerySet):
    def drop_for(self, owner):
        self.filter(owner=owner).delete()


class ProfileManager(models.Manager):
    def ensure_for(self, owner):
        self.get_or_create(owner_id=owner.pk)
'''

ELSEWHERE_MODELS = '''
from django.db import models

from shop.managers import ProfileManager, ProfileQuerySet


class Owner(models.Model):
    name = models.CharField(max_length=50, default="")


class Profile(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="profile")
    objects = ProfileManager()
    rows = ProfileQuerySet.as_manager()
'''

ELSEWHERE_FLOWS = '''
from shop.models import Profile


def login(owner):
    if not hasattr(owner, "profile"):
        Profile.objects.ensure_for(owner)
    return owner


def logout(owner):
    if hasattr(owner, "profile"):
        Profile.rows.drop_for(owner)
    return owner
'''

ELSEWHERE_PROBE = r'''
import json
from shop.flows import login, logout
from shop.models import Owner, Profile

owner = login(Owner.objects.create())
results = {"login": {"cached": hasattr(owner, "profile"), "in_db": Profile.objects.filter(owner=owner).exists()}}
owner = logout(Owner.objects.get(pk=owner.pk))
results["logout"] = {"cached": hasattr(owner, "profile"), "in_db": Profile.objects.filter(owner=owner).exists()}
print("RESULTS " + json.dumps(results))
'''


@pytest.mark.parametrize("version", VERSIONS)
def test_a_write_in_a_manager_of_another_module_is_reported_and_fixed(tmp_path: Path, version: str) -> None:
    results = {}
    for name in ("before", "after"):
        (tmp_path / name / "shop").mkdir(parents=True)
        (tmp_path / name / "shop" / "__init__.py").write_text("")
        (tmp_path / name / "shop" / "managers.py").write_text(ELSEWHERE_MANAGERS)
        (tmp_path / name / "shop" / "models.py").write_text(ELSEWHERE_MODELS)
        (tmp_path / name / "shop" / "flows.py").write_text(ELSEWHERE_FLOWS)
    check = run_cli(*SELECT, ".", cwd=tmp_path / "before")
    assert findings(check.stdout) == {("shop/managers.py", 7), ("shop/managers.py", 12),
                                      ("shop/flows.py", 7), ("shop/flows.py", 13)}, check.stdout
    fixed = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=tmp_path / "after")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    for name in ("before", "after"):
        result = run_django(tmp_path / name, ["shop"], ELSEWHERE_PROBE, version=version)
        assert result.returncode == 0, result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
        results[name] = json.loads(line[len("RESULTS "):])
    assert results["before"] == {"login": {"cached": False, "in_db": True},  # stale: the row exists
                                 "logout": {"cached": True, "in_db": False}}  # stale: the row is gone
    assert results["after"] == {"login": {"cached": True, "in_db": True},
                                "logout": {"cached": False, "in_db": False}}


# -- bulk writes ----------------------------------------------------------------------------

BULK_FLOWS = '''
from shop.models import Owner, Profile


def ensure_all(owners):
    missing = [o for o in owners if not hasattr(o, "profile")]
    Profile.objects.bulk_create([Profile(owner_id=o.pk) for o in missing])


def ensure_one(owner):
    if not hasattr(owner, "profile"):
        Profile.objects.bulk_create([Profile(owner_id=owner.pk)])


def adopt(pk, owner):
    if not hasattr(owner, "profile"):
        Profile.objects.update_or_create(pk=pk, defaults={"owner_id": owner.pk})


def adopt_through_instance(pk, owner):
    if not hasattr(owner, "profile"):
        Profile.objects.update_or_create(pk=pk, defaults={"owner": owner})
'''

BULK_PROBE = r'''
import json
from shop import flows
from shop.models import Owner, Profile


def agree(owner):
    return hasattr(owner, "profile") == Profile.objects.filter(owner_id=owner.pk).exists()


owners = [Owner.objects.create(), Owner.objects.create()]
flows.ensure_all(owners)
results = {"ensure_all": [agree(o) for o in owners], "rows": Profile.objects.count()}
owner = Owner.objects.create()
flows.ensure_one(owner)
results["ensure_one"] = agree(owner)
for name in ("adopt", "adopt_through_instance"):
    profile = Profile.objects.create(owner=Owner.objects.create())
    owner = Owner.objects.create()
    getattr(flows, name)(profile.pk, owner)
    results[name] = agree(owner)
print("RESULTS " + json.dumps(results))
'''


@pytest.mark.parametrize("version", VERSIONS)
def test_bulk_writes_are_reported_and_fixed(tmp_path: Path, version: str) -> None:
    for name in ("before", "after"):
        (tmp_path / name / "shop").mkdir(parents=True)
        (tmp_path / name / "shop" / "__init__.py").write_text("")
        (tmp_path / name / "shop" / "models.py").write_text(OBSERVED_MODELS)
        (tmp_path / name / "shop" / "flows.py").write_text(BULK_FLOWS)
    check = run_cli(*SELECT, ".", cwd=tmp_path / "before")
    assert {line for _, line in findings(check.stdout)} == {7, 12, 17}, check.stdout
    fixed = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=tmp_path / "after")
    assert "Fixed 2 findings" in fixed.stdout, fixed.stdout + fixed.stderr
    results = {}
    for name in ("before", "after"):
        result = run_django(tmp_path / name, ["shop"], BULK_PROBE, version=version)
        assert result.returncode == 0, result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
        results[name] = json.loads(line[len("RESULTS "):])
    before, after = results["before"], results["after"]
    # bulk_create for every element: stale on each, reported without a fix.
    assert before["ensure_all"] == after["ensure_all"] == [False, False]
    assert before["rows"] == after["rows"] == 2
    assert before["ensure_one"] is False and after["ensure_one"] is True
    assert before["adopt"] is False and after["adopt"] is True
    # defaults={"owner": owner} goes through the instance: right without a fix (and not reported).
    assert before["adopt_through_instance"] is True and after["adopt_through_instance"] is True


# -- multi-table promotion by id ------------------------------------------------------------

PROMOTE_MODELS = '''
from django.db import models


class Place(models.Model):
    name = models.CharField(max_length=50)


class Restaurant(Place):
    serves_pizza = models.BooleanField(default=False)
'''

PROMOTE_FLOWS = '''
from places.models import Restaurant


def promote(place):
    if not hasattr(place, "restaurant"):
        Restaurant(place_ptr_id=place.pk, serves_pizza=True).save_base(raw=True)
    return place
'''

PROMOTE_PROBE = r'''
import json
from places.flows import promote
from places.models import Place, Restaurant

place = promote(Place.objects.create(name="Demon Dogs"))
print("RESULTS " + json.dumps({"cached": hasattr(place, "restaurant"),
                               "in_db": Restaurant.objects.filter(pk=place.pk).exists(),
                               "name": Place.objects.get(pk=place.pk).name}))
'''


@pytest.mark.parametrize("version", VERSIONS)
def test_a_multi_table_promotion_by_save_base_is_reported_and_fixed(tmp_path: Path, version: str) -> None:
    for name in ("before", "after"):
        (tmp_path / name / "places").mkdir(parents=True)
        (tmp_path / name / "places" / "__init__.py").write_text("")
        (tmp_path / name / "places" / "models.py").write_text(PROMOTE_MODELS)
        (tmp_path / name / "places" / "flows.py").write_text(PROMOTE_FLOWS)
    check = run_cli(*SELECT, ".", cwd=tmp_path / "before")
    assert findings(check.stdout) == {("places/flows.py", 7)}, check.stdout
    fixed = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=tmp_path / "after")
    assert "Fixed 1 finding" in fixed.stdout, fixed.stdout + fixed.stderr
    results = {}
    for name in ("before", "after"):
        result = run_django(tmp_path / name, ["places"], PROMOTE_PROBE, version=version)
        assert result.returncode == 0, result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
        results[name] = json.loads(line[len("RESULTS "):])
    assert results["before"] == {"cached": False, "in_db": True, "name": "Demon Dogs"}  # stale
    assert results["after"] == {"cached": True, "in_db": True, "name": "Demon Dogs"}


# -- a delete of the rows a custom queryset method selects ------------------------------------

NARROWED_MANAGERS = '''
from django.db import models


class ProfileQuerySet(models.QuerySet):
    def for_owner(self, owner):
        return self.filter(owner=owner)

    def with_bio(self, bio):
        return self.filter(bio=bio)
'''

NARROWED_MODELS = '''
from django.db import models

from shop.managers import ProfileQuerySet


class Owner(models.Model):
    name = models.CharField(max_length=50, default="")


class Profile(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="profile")
    bio = models.TextField(blank=True)
    objects = ProfileQuerySet.as_manager()
'''

NARROWED_FLOWS = '''
from shop.models import Profile


def logout(owner):
    if hasattr(owner, "profile"):
        Profile.objects.for_owner(owner).delete()
    return owner


def purge(owner):
    if hasattr(owner, "profile"):
        Profile.objects.with_bio(owner.name).delete()
    return owner
'''

NARROWED_PROBE = r'''
import json
from shop.flows import logout, purge
from shop.models import Owner, Profile

results = {}
for name, function in (("logout", logout), ("purge", purge)):
    owner = Owner.objects.create(name="x")
    Profile.objects.create(owner=owner, bio="y")
    owner = function(Owner.objects.get(pk=owner.pk))
    results[name] = {"cached": hasattr(owner, "profile"), "in_db": Profile.objects.filter(owner=owner).exists()}
print("RESULTS " + json.dumps(results))
'''


@pytest.mark.parametrize("version", VERSIONS)
def test_a_delete_of_a_queryset_methods_rows_is_reported_and_fixed(tmp_path: Path, version: str) -> None:
    for name in ("before", "after"):
        (tmp_path / name / "shop").mkdir(parents=True)
        (tmp_path / name / "shop" / "__init__.py").write_text("")
        (tmp_path / name / "shop" / "managers.py").write_text(NARROWED_MANAGERS)
        (tmp_path / name / "shop" / "models.py").write_text(NARROWED_MODELS)
        (tmp_path / name / "shop" / "flows.py").write_text(NARROWED_FLOWS)
    check = run_cli(*SELECT, ".", cwd=tmp_path / "before")
    assert findings(check.stdout) == {("shop/flows.py", 7)}, check.stdout  # not purge: another field
    fixed = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=tmp_path / "after")
    assert "Fixed 1 finding" in fixed.stdout, fixed.stdout + fixed.stderr
    results = {}
    for name in ("before", "after"):
        result = run_django(tmp_path / name, ["shop"], NARROWED_PROBE, version=version)
        assert result.returncode == 0, result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
        results[name] = json.loads(line[len("RESULTS "):])
    assert results["before"]["logout"] == {"cached": True, "in_db": False}  # stale: the row is gone
    assert results["after"]["logout"] == {"cached": False, "in_db": False}
    # purge deletes no row of the owner (another field): right without a fix, before and after.
    assert results["before"]["purge"] == results["after"]["purge"] == {"cached": True, "in_db": True}


# -- writes through custom queryset methods and local querysets; in_bulk(); on_commit() --------

CUSTOM_MANAGERS = '''
from django.db import models


class ProfileQuerySet(models.QuerySet):
    def mine(self, owner):
        rows = self.filter(owner=owner)
        return rows.order_by("pk")

    def with_bio(self, bio):
        return self.filter(bio=bio)

    def release(self, owner):
        rows = self.filter(owner=owner)
        rows.update(owner=None)


class ProfileManager(models.Manager):
    def drop(self, owner):
        self.get_queryset().filter(owner=owner).delete()
'''

CUSTOM_MODELS = '''
from django.db import models

from shop.managers import ProfileManager, ProfileQuerySet


class Owner(models.Model):
    name = models.CharField(max_length=50, default="")


class Profile(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="profile", null=True)
    bio = models.TextField(blank=True)
    objects = ProfileQuerySet.as_manager()
    keeper = ProfileManager()
'''

CUSTOM_FLOWS = '''
from shop.models import Owner, Profile


def leave(owner):
    if hasattr(owner, "profile"):
        Profile.objects.mine(owner).delete()
    return owner


def hand_over(owner, other):
    if hasattr(owner, "profile"):
        Profile.objects.mine(owner).update(owner=other)
    return owner


def adopt(owner, bio):
    if not hasattr(owner, "profile"):
        Profile.objects.with_bio(bio).update(owner_id=owner.pk)
    return owner


def touch(owner):
    if hasattr(owner, "profile"):
        Profile.objects.mine(owner).update(owner=owner)
    return owner


def refetched(pk):
    owner = Owner.objects.get(pk=pk)
    if not hasattr(owner, "profile"):
        Profile.objects.create(owner_id=owner.pk)
    owner = Owner.objects.in_bulk([pk])[pk]
    return owner


def purge(owner):
    if hasattr(owner, "profile"):
        rows = Profile.objects.filter(owner=owner)
        rows.delete()
    return owner


def release(owner):
    if hasattr(owner, "profile"):
        Profile.objects.release(owner)
    return owner


def drop(owner):
    if hasattr(owner, "profile"):
        Profile.keeper.drop(owner)
    return owner
'''

COMMITS = '''
from functools import partial

from django.db import transaction

from shop.models import Profile


def durable(owner):
    if not hasattr(owner, "profile"):
        with transaction.atomic(durable=True):
            transaction.on_commit(lambda: Profile.objects.create(owner_id=owner.pk))
    return owner


def durable_partial(owner):
    if not hasattr(owner, "profile"):
        with transaction.atomic(durable=True):
            transaction.on_commit(partial(Profile.objects.create, owner_id=owner.pk))
    return owner


def through_instance(owner):
    if not hasattr(owner, "profile"):
        with transaction.atomic(durable=True):
            transaction.on_commit(lambda: Profile.objects.create(owner=owner))
    return owner
'''

CUSTOM_PROBE = r'''
import json
from shop import commits, flows
from shop.models import Owner, Profile


def agree(owner):
    return [hasattr(owner, "profile"), Profile.objects.filter(owner_id=owner.pk).exists()]


def owning():
    owner = Owner.objects.create()
    Profile.objects.create(owner=owner)
    return Owner.objects.get(pk=owner.pk)


results = {"leave": agree(flows.leave(owning())),
           "hand_over": agree(flows.hand_over(owning(), Owner.objects.create())),
           "touch": agree(flows.touch(owning())),
           "purge": agree(flows.purge(owning())),
           "release": agree(flows.release(owning())),
           "drop": agree(flows.drop(owning()))}
Profile.objects.create(owner=None, bio="orphan")
results["adopt"] = agree(flows.adopt(Owner.objects.create(), "orphan"))
results["refetched"] = agree(flows.refetched(Owner.objects.create().pk))
for name in ("durable", "durable_partial", "through_instance"):
    results[name] = agree(getattr(commits, name)(Owner.objects.create()))
print("RESULTS " + json.dumps(results))
'''


@pytest.mark.parametrize("version", VERSIONS)
def test_queryset_method_and_on_commit_writes_are_reported_and_fixed(tmp_path: Path, version: str) -> None:
    for name in ("before", "after"):
        (tmp_path / name / "shop").mkdir(parents=True)
        (tmp_path / name / "shop" / "__init__.py").write_text("")
        (tmp_path / name / "shop" / "managers.py").write_text(CUSTOM_MANAGERS)
        (tmp_path / name / "shop" / "models.py").write_text(CUSTOM_MODELS)
        (tmp_path / name / "shop" / "flows.py").write_text(CUSTOM_FLOWS)
        (tmp_path / name / "shop" / "commits.py").write_text(COMMITS)
    check = run_cli(*SELECT, ".", cwd=tmp_path / "before")
    # not touch (the rows are the owner's already) nor refetched (the stale instance is dropped);
    # the on_commit() writes in durable blocks without a fix (it would run before the commit)
    assert findings(check.stdout) == {("shop/flows.py", 7), ("shop/flows.py", 13), ("shop/flows.py", 19),
                                      ("shop/flows.py", 40), ("shop/flows.py", 46), ("shop/managers.py", 15),
                                      ("shop/commits.py", 12), ("shop/commits.py", 19),
                                      ("shop/flows.py", 52), ("shop/managers.py", 20)}, check.stdout
    fixed = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=tmp_path / "after")
    assert "Fixed 6 findings" in fixed.stdout, fixed.stdout + fixed.stderr
    results = {}
    for name in ("before", "after"):
        result = run_django(tmp_path / name, ["shop"], CUSTOM_PROBE, version=version)
        assert result.returncode == 0, result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
        results[name] = json.loads(line[len("RESULTS "):])
    before, after = results["before"], results["after"]
    assert before["leave"] == [True, False] and after["leave"] == [False, False]
    assert before["hand_over"] == [True, False] and after["hand_over"] == [False, False]
    assert before["adopt"] == [False, True] and after["adopt"] == [True, True]
    assert before["purge"] == [True, False] and after["purge"] == [False, False]
    assert before["release"] == [True, False] and after["release"] == [False, False]
    assert before["drop"] == [True, False] and after["drop"] == [False, False]
    # right without a fix, before and after
    assert before["touch"] == after["touch"] == [True, True]
    assert before["refetched"] == after["refetched"] == [True, True]
    # on_commit() in a durable block: the write runs at its end, stale after it (no fix)
    assert before["durable"] == after["durable"] == [False, True]
    assert before["durable_partial"] == after["durable_partial"] == [False, True]
    assert before["through_instance"] == after["through_instance"] == [True, True]


# -- factory_boy and model_bakery writes by id; a post_generation hook; settings targets ----

FACTORY_MODELS = '''
from django.conf import settings
from django.db import models


class Owner(models.Model):
    name = models.CharField(max_length=50, default="")


class Profile(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="profile", null=True)


class Ticket(models.Model):
    owner = models.OneToOneField(settings.TICKET_OWNER_MODEL, models.CASCADE, related_name="ticket")


class Pass(models.Model):
    owner = models.OneToOneField(getattr(settings, "PASS_OWNER_MODEL", "shop.Owner"), models.CASCADE)
'''

#: The project's settings module, as the linter reads it (the probe configures the same value).
FACTORY_SETTINGS = '''
TICKET_OWNER_MODEL = "shop.Owner"
'''

FACTORY_FACTORIES = '''
import factory

from shop.models import Owner, Profile


class OwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Owner


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    owner = factory.SubFactory(OwnerFactory)


class OwnerWithProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Owner

    @factory.post_generation
    def profile(obj, create, extracted, **kwargs):
        if create and not hasattr(obj, "profile"):
            ProfileFactory(owner_id=obj.pk)
'''

FACTORY_FLOWS = '''
from model_bakery import baker

from shop.factories import OwnerFactory, ProfileFactory
from shop.models import Pass, Ticket


def by_factory():
    owner = OwnerFactory()
    assert not hasattr(owner, "profile")
    ProfileFactory(owner_id=owner.pk)
    return owner


def by_factory_create():
    owner = OwnerFactory()
    assert not hasattr(owner, "profile")
    ProfileFactory.create(owner_id=owner.pk)
    return owner


def by_baker():
    owner = OwnerFactory()
    assert not hasattr(owner, "profile")
    baker.make("shop.Profile", owner_id=owner.pk)
    return owner


def through_instance():
    owner = OwnerFactory()
    assert not hasattr(owner, "profile")
    ProfileFactory(owner=owner)
    return owner


def ticket(owner):
    if not hasattr(owner, "ticket"):
        Ticket.objects.create(owner_id=owner.pk)
    return owner


def pass_(owner):
    if not hasattr(owner, "pass"):
        Pass.objects.create(owner_id=owner.pk)
    return owner
'''

FACTORY_PROBE = r'''
import json
from shop import flows
from shop.factories import OwnerWithProfileFactory
from shop.models import Owner, Pass, Profile, Ticket


def agree(owner):
    return [hasattr(owner, "profile"), Profile.objects.filter(owner_id=owner.pk).exists()]


results = {name: agree(getattr(flows, name)())
           for name in ("by_factory", "by_factory_create", "by_baker", "through_instance")}
results["hook"] = agree(OwnerWithProfileFactory())
owner = flows.ticket(Owner.objects.create())
results["ticket"] = [hasattr(owner, "ticket"), Ticket.objects.filter(owner_id=owner.pk).exists()]
owner = flows.pass_(Owner.objects.create())
results["pass"] = [hasattr(owner, "pass"), Pass.objects.filter(owner_id=owner.pk).exists()]
print("RESULTS " + json.dumps(results))
'''


@pytest.mark.parametrize("version", VERSIONS)
def test_factory_and_settings_target_writes_are_reported_and_fixed(tmp_path: Path, version: str) -> None:
    for name in ("before", "after"):
        (tmp_path / name / "shop").mkdir(parents=True)
        (tmp_path / name / "site").mkdir(parents=True)
        (tmp_path / name / "shop" / "__init__.py").write_text("")
        (tmp_path / name / "site" / "__init__.py").write_text("")
        (tmp_path / name / "site" / "settings.py").write_text(FACTORY_SETTINGS)
        (tmp_path / name / "shop" / "models.py").write_text(FACTORY_MODELS)
        (tmp_path / name / "shop" / "factories.py").write_text(FACTORY_FACTORIES)
        (tmp_path / name / "shop" / "flows.py").write_text(FACTORY_FLOWS)
    check = run_cli(*SELECT, ".", cwd=tmp_path / "before")
    assert findings(check.stdout) == {("shop/factories.py", 26), ("shop/flows.py", 11), ("shop/flows.py", 18),
                                      ("shop/flows.py", 25), ("shop/flows.py", 38), ("shop/flows.py", 44)}, \
        check.stdout  # not through_instance
    fixed = run_cli("--fix", "--unsafe-fixes", *SELECT, ".", cwd=tmp_path / "after")
    assert "Fixed 6 findings" in fixed.stdout, fixed.stdout + fixed.stderr
    results = {}
    for name in ("before", "after"):
        result = run_django(tmp_path / name, ["shop"], FACTORY_PROBE, version=version,
                            extra_settings='TICKET_OWNER_MODEL="shop.Owner",')
        assert result.returncode == 0, result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
        results[name] = json.loads(line[len("RESULTS "):])
    for name in ("by_factory", "by_factory_create", "by_baker", "hook", "ticket", "pass"):
        assert results["before"][name] == [False, True], name  # stale: the row exists
        assert results["after"][name] == [True, True], name
    assert results["before"]["through_instance"] == results["after"]["through_instance"] == [True, True]
