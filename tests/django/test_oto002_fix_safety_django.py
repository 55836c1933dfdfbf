"""OTO002's fixes never change data: the review's data-changing and broken fixes, on real Django.

Each scenario of the adversarial review of OTO002 (problems 1 to 7) is run, in one Django
process per copy and release line (4.2, 5.2, 6.1, SQLite in memory), on three copies of
one project:

* ``before``: the code as written;
* ``after``: fixed by the real CLI (``--fix``, safe fixes only);
* the module ``oldfix`` of every copy holds what the previous ``--fix`` wrote for the same
  code (copied from the review's runs), to show the data it changed or the error it raised.

Problem 6's write to another database needs two databases: its own process per line.
Every assertion is on values Django produced.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.django_harness import RUNNER, VERSIONS, run_django
from tests.helpers import run_cli, write_project

#: Left out by `pytest -m "not slow"`: real Django, run in subprocesses.
pytestmark = pytest.mark.slow

SELECT = ("--select", "OTO002", "--no-cache")

MODELS = '''\
from django.db import models


class EnsureManager(models.Manager):
    def ensure_for(self, owner):
        self.get_or_create(owner_id=owner.pk)


class OldEnsureManager(models.Manager):
    def ensure_for(self, owner):
        owner.profile, _ = self.get_or_create(owner_id=owner.pk)  # the old fix, naming Profile's accessor


class Owner(models.Model):
    name = models.CharField(max_length=20, default="")


class Profile(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="profile", null=True)
    bio = models.CharField(max_length=20, default="")
    objects = EnsureManager()
    ensured = OldEnsureManager()


class Settings(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="settings")
    objects = EnsureManager()
    ensured = OldEnsureManager()


class Prefs(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="prefs")
    theme = models.CharField(max_length=20, default="light")


class Audit(models.Model):
    key = models.CharField(max_length=20, unique=True)


class Solo(models.Model):
    name = models.CharField(max_length=20, default="")


class Desk(models.Model):
    solo = models.OneToOneField(Solo, models.CASCADE, related_name="desk", null=True)


class Account(models.Model):
    name = models.CharField(max_length=20, default="")


class Member(models.Model):
    account = models.OneToOneField(Account, models.CASCADE, primary_key=True, related_name="member")


class Badge(models.Model):
    member = models.OneToOneField(Member, models.CASCADE, related_name="badge", null=True)
    label = models.CharField(max_length=20, default="")
'''

CODE = '''\
from django.db import IntegrityError, transaction

from safety.models import Audit, Badge, Desk, Owner, Profile, Settings


def go_dark(owner):
    owner.prefs.theme = "dark"
    if not hasattr(owner, "profile"):
        Profile.objects.filter(bio="spare-dark").update(owner_id=owner.pk)
    owner.prefs.save()
    return owner


def promote(member):
    member.account.name = "promoted"
    if not hasattr(member, "badge"):
        Badge.objects.filter(label="spare").update(member_id=member.pk)
    member.account.save()
    return member


def clear_desk(solo):
    solo.name = "edited"
    if hasattr(solo, "desk"):
        Desk.objects.filter(solo=solo).delete()
    return solo


def goc_defaults_other(owner, other):
    if not hasattr(owner, "profile"):
        Profile.objects.get_or_create(owner_id=owner.pk, defaults={"owner_id": other.pk})
    return owner


def onboard(owner):
    if not hasattr(owner, "profile"):
        try:
            with transaction.atomic():
                Profile.objects.create(owner_id=owner.pk)
                Audit.objects.create(key="onboard")
        except IntegrityError:
            pass
    return owner


def set_bio(owner, bio):
    if hasattr(owner, "profile"):
        owner.profile.bio = bio
        owner.profile.save()


async def coro_later(owner):
    if not hasattr(owner, "profile"):
        created = Profile.objects.acreate(owner_id=owner.pk)
        await created
    return owner


def ensure_settings_only(owner):
    if not hasattr(owner, "profile"):
        Settings.objects.ensure_for(owner)
    return owner


def starred(owner):
    if not hasattr(owner, "profile"):
        *found, created = Profile.objects.get_or_create(owner_id=owner.pk)
        return created
    return None


def ensure_profiles(owners):
    for owner in owners:
        if not hasattr(owner, "profile"):
            yield Profile.objects.create(owner_id=owner.pk)


def drop_and_check(solo):
    if hasattr(solo, "desk"):
        Desk.objects.filter(solo=solo).delete(); gone = not hasattr(solo, "desk")
        return gone
    return None


def mirror(owner):
    if not hasattr(owner, "profile"):
        Profile.objects.using("other").create(owner_id=owner.pk)
    return owner


def adopt_saved(owner):
    owner.prefs.theme = "dark"
    if not hasattr(owner, "profile"):
        profile = Profile(bio="saved")
        profile.owner_id = owner.pk
        profile.save()
    owner.prefs.save()
    return owner
'''

#: What the previous ``--fix`` wrote for the same functions (the review's runs on main).
OLD_FIX = '''\
from django.db import IntegrityError, transaction

from safety.models import Audit, Badge, Desk, Owner, Profile, Settings


def go_dark(owner):
    owner.prefs.theme = "dark"
    if not hasattr(owner, "profile"):
        Profile.objects.filter(bio="spare-dark").update(owner_id=owner.pk)
        owner.refresh_from_db(fields=["profile"])
    owner.prefs.save()
    return owner


def promote(member):
    member.account.name = "promoted"
    if not hasattr(member, "badge"):
        Badge.objects.filter(label="spare").update(member_id=member.pk)
        member.refresh_from_db(fields=["badge"])
    member.account.save()
    return member


def goc_defaults_other(owner, other):
    if not hasattr(owner, "profile"):
        owner.profile, _ = Profile.objects.get_or_create(owner_id=owner.pk, defaults={"owner_id": other.pk})
    return owner


def onboard(owner):
    if not hasattr(owner, "profile"):
        try:
            with transaction.atomic():
                owner.profile = Profile.objects.create(owner_id=owner.pk)
                Audit.objects.create(key="onboard")
        except IntegrityError:
            pass
    return owner


async def coro_later(owner):
    if not hasattr(owner, "profile"):
        created = owner.profile = Profile.objects.acreate(owner_id=owner.pk)
        await created
    return owner


def ensure_settings_only(owner):
    if not hasattr(owner, "profile"):
        Settings.ensured.ensure_for(owner)
    return owner


def starred(owner):
    if not hasattr(owner, "profile"):
        *found, created = Profile.objects.get_or_create(owner_id=owner.pk)
        owner.profile = found
        return created
    return None


def ensure_profiles(owners):
    for owner in owners:
        if not hasattr(owner, "profile"):
            yield Profile.objects.create(owner_id=owner.pk)
            owner.refresh_from_db(fields=["profile"])


def drop_and_check(solo):
    if hasattr(solo, "desk"):
        Desk.objects.filter(solo=solo).delete(); gone = not hasattr(solo, "desk")
        solo.refresh_from_db(fields=["desk"])
        return gone
    return None


def mirror(owner):
    if not hasattr(owner, "profile"):
        owner.profile = Profile.objects.using("other").create(owner_id=owner.pk)
    return owner
'''

PROBE = r'''
import json
from asgiref.sync import async_to_sync
from safety import code, oldfix
from safety.models import Account, Audit, Badge, Desk, Member, Owner, Prefs, Profile, Settings, Solo

results = {}


def outcome(function, *args):
    try:
        return function(*args)
    except Exception as exc:
        return type(exc).__name__


for name, module in (("new", code), ("old", oldfix)):
    # 1a: an unsaved edit through another reverse one-to-one of the receiver
    o = Owner.objects.create(); Prefs.objects.create(owner=o); o = Owner.objects.get(pk=o.pk)
    Profile.objects.create(bio="spare-dark")
    module.go_dark(o)
    results[f"1a {name}"] = Prefs.objects.get(owner=o).theme
    Profile.objects.filter(bio="spare-dark").delete()
    # 1b: an unsaved edit through the receiver's primary key (a one-to-one)
    a = Account.objects.create(name="plain"); m = Member.objects.get(pk=Member.objects.create(account=a).pk)
    Badge.objects.create(label="spare")
    module.promote(m)
    results[f"1b {name}"] = Account.objects.get(pk=a.pk).name
    Badge.objects.all().delete()
    # 2: get_or_create whose defaults give the row to another owner
    o, other = Owner.objects.create(), Owner.objects.create()
    module.goc_defaults_other(o, other)
    results[f"2 {name}"] = [hasattr(o, "profile"), Profile.objects.filter(owner=o).exists(),
                            Profile.objects.filter(owner=other).exists()]
    if hasattr(o, "profile"):
        o.profile.bio = "edited"; o.profile.save()
    results[f"2 {name} then saved"] = [Profile.objects.filter(owner=o).exists(), Profile.objects.filter(owner=other).exists()]
    # 3: a create rolled back by its atomic() block, then a later save through the cache
    Audit.objects.get_or_create(key="onboard")
    o = Owner.objects.create()
    module.onboard(o)
    code.set_bio(o, "x")
    results[f"3 {name}"] = [hasattr(o, "profile"), Profile.objects.filter(owner=o).count()]
    # 4: an async create bound to a name, awaited later (the cache primed: no query in async code)
    o = Owner.objects.create(); hasattr(o, "profile")
    error = outcome(async_to_sync(module.coro_later), o)
    results[f"4 {name}"] = [error if isinstance(error, str) else "ok", Profile.objects.filter(owner=o).exists()]
    # 5: a manager class two models use, called for the other model
    o = Owner.objects.create()
    error = outcome(module.ensure_settings_only, o)
    results[f"5 {name}"] = [error if isinstance(error, str) else "ok", Settings.objects.filter(owner=o).exists(),
                            Profile.objects.filter(owner=o).exists()]
    # 6: a starred target
    o = Owner.objects.create()
    error = outcome(module.starred, o)
    results[f"6 starred {name}"] = [error if isinstance(error, str) else "ok", Profile.objects.filter(owner=o).exists()]
    # 7: a refresh after a yield; a read on the write's own line
    o = Owner.objects.create(); o = Owner.objects.get(pk=o.pk)
    next(module.ensure_profiles([o]))
    results[f"7 yield {name}"] = [hasattr(o, "profile"), Profile.objects.filter(owner=o).exists()]
    s = Solo.objects.create(); Desk.objects.create(solo=s); s = Solo.objects.get(pk=s.pk)
    results[f"7 same line {name}"] = [module.drop_and_check(s), Desk.objects.filter(solo=s).exists()]

# 1d: a saved object known by name: assigned (no query, nothing else dropped), where the old
# refresh dropped `owner.prefs` and its edit on 4.2
o = Owner.objects.create(); Prefs.objects.create(owner=o); o = Owner.objects.get(pk=o.pk)
code.adopt_saved(o)
results["1d"] = [hasattr(o, "profile"), Profile.objects.filter(owner=o).exists(), Prefs.objects.get(owner=o).theme]
# 1c: the one reverse one-to-one of its model, no relation as primary key: the refresh keeps the edit
s = Solo.objects.create(); Desk.objects.create(solo=s); s = Solo.objects.get(pk=s.pk)
code.clear_desk(s)
results["1c"] = [hasattr(s, "desk"), Desk.objects.filter(solo=s).exists(), s.name]
print(json.dumps(results))
'''

#: Problem 6: two databases, an ``Owner`` of the same pk in each.
TWO_DATABASES_RUNNER = RUNNER.replace(
    '''DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}},''',
    '''DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
               "other": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}},''',
)
TWO_DATABASES = '''
call_command("migrate", run_syncdb=True, verbosity=0, database="other")
import json
from safety import code, oldfix
from safety.models import Owner, Profile
results = {}
for name, module in (("new", code), ("old", oldfix)):
    o = Owner.objects.create(); Owner.objects.using("other").create(pk=o.pk)
    hasattr(o, "profile")
    try:
        module.mirror(o)
        error = "ok"
    except Exception as exc:
        error = type(exc).__name__
    results[name] = [error, hasattr(o, "profile"), Profile.objects.filter(owner_id=o.pk).exists(),
                     Profile.objects.using("other").filter(owner_id=o.pk).exists()]
    Owner.objects.using("other").all().delete()
print(json.dumps(results))
'''


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("fix_safety")
    files = {"safety/models.py": MODELS, "safety/code.py": CODE, "safety/oldfix.py": OLD_FIX}
    before = write_project(root / "before", files)
    after = root / "after"
    shutil.copytree(before, after)
    check = run_cli(*SELECT, ".", cwd=before)
    first = run_cli("--fix", *SELECT, ".", cwd=after)
    second = run_cli("--fix", *SELECT, ".", cwd=after)
    return {"before": before, "after": after, "check": check, "first": first, "second": second}


def _lines(output: str, path: str) -> list[int]:
    return sorted(int(line.split(":")[1]) for line in output.splitlines() if line.startswith(path + ":"))


def test_the_fixes_written_and_the_findings(copies: dict) -> None:
    check = copies["check"].stdout
    code = CODE.splitlines()
    reported = {code[line - 1].strip() for line in _lines(check, "safety/code.py")}
    # still reported (stale), each without a safe fix: 1a, 1b, 3, 7
    assert 'Profile.objects.filter(bio="spare-dark").update(owner_id=owner.pk)' in reported
    assert 'Badge.objects.filter(label="spare").update(member_id=member.pk)' in reported
    assert "Profile.objects.create(owner_id=owner.pk)" in reported  # in atomic(), and the yield
    assert "*found, created = Profile.objects.get_or_create(owner_id=owner.pk)" in reported
    # not reported: the cache is right (2, 4, 5, 6)
    for silent in ("defaults=", "acreate", "ensure_for", 'using("other")'):
        assert not any(silent in line for line in reported), (silent, reported)
    assert not _lines(check, "safety/models.py")  # the shared manager's method: no finding
    fixed = (copies["after"] / "safety/code.py").read_text()
    assert 'solo.refresh_from_db' not in fixed  # 1c, 7: safe only with a chosen target version >= 5.1
    assert "owner.refresh_from_db" not in fixed.split("def clear_desk")[0]  # 1a: not safe
    assert "member.refresh_from_db" not in fixed  # 1b: not safe
    assert "owner.profile = P" not in fixed and "owner.profile, " not in fixed  # 2, 3, 4, 6: no assignment
    assert fixed.count("refresh_from_db") == 0, fixed
    assert "owner.profile = profile" not in fixed  # 1d: the known object's assignment is unsafe
    assert (copies["after"] / "safety/models.py").read_text() == MODELS
    assert copies["second"].stdout.count("Fixed") == 0 or "Fixed 0" in copies["second"].stdout
    assert (copies["after"] / "safety/oldfix.py").read_text() == OLD_FIX


@pytest.mark.parametrize("version", VERSIONS)
def test_the_new_fixes_keep_the_data_the_old_ones_changed(copies: dict, version: str) -> None:
    runs = {}
    for name in ("before", "after"):
        result = run_django(copies[name], ["safety"], PROBE, version=version)
        assert result.returncode == 0, result.stderr[-3000:]
        runs[name] = json.loads(result.stdout.strip().splitlines()[-1])
    before, after = runs["before"], runs["after"]
    # 1a: the old refresh threw away the edit made through `owner.prefs` on 4.2 (5.1+ keep it)
    assert before["1a old"] == ("light" if version == "4.2" else "dark")
    assert before["1a new"] == after["1a new"] == "dark"
    # 1b: the receiver's primary key is a one-to-one: the old refresh dropped `member.account` everywhere
    assert before["1b old"] == "plain"
    assert before["1b new"] == after["1b new"] == "promoted"
    # 1d: stale; its fix (assigning the saved row) is unsafe since the second review (a change
    # of the row's owner before the save is not followed): plain --fix leaves it
    assert before["1d"] == after["1d"] == [False, True, "dark"]
    # 1c: stale; the refresh is safe only with a chosen target version of 5.1 or later (a
    # relation the index cannot see loses its edits on 4.2): plain --fix leaves it
    assert before["1c"] == after["1c"] == [True, False, "edited"]
    # 2: the row is the other owner's: the cache ("none") was right; the old fix moved the row on save
    assert after["2 new"] == [False, False, True] and after["2 new then saved"] == [False, True]
    assert before["2 old"] == [True, False, True] and before["2 old then saved"] == [True, False]
    # 3: the rollback removed the row: the old fix saved it back
    assert after["3 new"] == [False, 0]
    assert before["3 old"] == [True, 1]
    # 4: the old fix assigned a coroutine (ValueError) and the row was never created
    assert after["4 new"] == ["ok", True]
    assert before["4 old"] == ["ValueError", False]
    # 5: the old fix of the shared manager named Profile's accessor: ValueError for Settings
    assert after["5 new"] == ["ok", True, False]
    assert before["5 old"] == ["ValueError", True, False]
    # 6: a starred target is a list: the old fix raised
    assert before["6 starred old"] == ["ValueError", True]
    assert after["6 starred new"] == ["ok", True]
    # 7: the old refresh after the yield came too late (still stale), as did the one after the line
    assert before["7 yield old"] == [False, True] == after["7 yield new"]
    assert before["7 same line old"] == [False, False]
    assert before["7 same line new"] == [False, False]  # the bug, as written
    assert after["7 same line new"] == [False, False]  # its refresh is unsafe: not applied by plain --fix


@pytest.mark.parametrize("version", VERSIONS)
def test_a_write_to_another_database_is_not_the_receivers(copies: dict, version: str) -> None:
    script = TWO_DATABASES_RUNNER.format(project=str(copies["after"]), apps=["safety"], extra_settings="") + TWO_DATABASES
    result = run_django(copies["after"], ["safety"], script, version=version, setup=False)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout.strip().splitlines()[-1])
    # the receiver's own database has no row: its cached "none" is right (no finding, no fix)
    assert results["new"] == ["ok", False, False, True]
    # the old fix: the router refuses the cross-database assignment
    assert results["old"][0] == "ValueError"
