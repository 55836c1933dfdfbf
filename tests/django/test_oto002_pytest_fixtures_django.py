"""OTO002 on pytest fixtures a test calls after its read, run by real pytest on real Django.

pytest runs a fixture before the test's body, so a fixture can only write after the test
read ``owner.profile`` when the test calls what the fixture gave it: a "factory as fixture"
(``make_profile``, a conftest's fixture returning a nested function that creates the row by
``owner_id``) or pytest-factoryboy's ``profile_factory`` (``register(ProfileFactory)`` in the
conftest: the factory class itself). The throwaway project's own tests assert, after the
call, what the database holds (``owner.profile`` exists): pytest (with pytest-django and
pytest-factoryboy, installed next to each Django line) runs them on Django 4.2, 5.2 and 6.1
before and after ``o2o-lint --fix``. Before, the two calls fail on the stale cache; after,
every test passes. The tests the rule does not follow (through the instance) pass either way.
"""

from __future__ import annotations

import re

import pytest

from tests.django_harness import VERSIONS, run_django
from tests.helpers import run_cli

#: Left out by `pytest -m "not slow"`: real Django and pytest, run in subprocesses.
pytestmark = pytest.mark.slow

MODELS = '''\
from django.db import models


class Owner(models.Model):
    name = models.CharField(max_length=50, default="")


class Profile(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="profile")
    bio = models.CharField(max_length=50, default="")
'''

FACTORIES = '''\
import factory

from shop.models import Owner, Profile


class OwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Owner


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    owner = factory.SubFactory(OwnerFactory)
'''

CONFTEST = '''\
import pytest
from pytest_factoryboy import register

from shop.factories import ProfileFactory
from shop.models import Owner, Profile

register(ProfileFactory)


@pytest.fixture
def owner(db):
    return Owner.objects.create()


@pytest.fixture
def make_profile(db):
    def _make(owner, **fields):
        return Profile.objects.create(owner_id=owner.pk, **fields)
    return _make
'''

TESTS = '''\
def test_factory_as_fixture(owner, make_profile):
    assert not hasattr(owner, "profile")
    make_profile(owner, bio="x")
    assert hasattr(owner, "profile")


def test_registered_factory(owner, profile_factory):
    assert not hasattr(owner, "profile")
    profile_factory(owner_id=owner.pk)
    assert hasattr(owner, "profile")


def test_registered_factory_through_instance(owner, profile_factory):
    assert not hasattr(owner, "profile")
    profile_factory(owner=owner)
    assert hasattr(owner, "profile")
'''

FILES = {
    "shop/__init__.py": "",
    "shop/models.py": MODELS,
    "shop/factories.py": FACTORIES,
    "settings.py": (
        'INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "shop"]\n'
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}\n'
        'DEFAULT_AUTO_FIELD = "django.db.models.AutoField"\n'
    ),
    "tests/__init__.py": "",
    "tests/conftest.py": CONFTEST,
    "tests/accounts/__init__.py": "",
    "tests/accounts/test_profiles.py": TESTS,
}

#: pytest from the Django line's install directory, only the two plugins (none of the
#: suite's own environment), the project's settings.
RUN_PYTEST = r'''
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
sys.path.insert(0, os.getcwd())
import pytest
sys.exit(pytest.main(["-p", "pytest_django.plugin", "-p", "pytest_factoryboy.plugin", "-p", "no:cacheprovider",
                      "-q", "-rA", "tests"]))
'''

OUTCOME = re.compile(r"^(PASSED|FAILED) tests/accounts/test_profiles\.py::(\w+)", re.MULTILINE)
FINDING = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):\d+: OTO002 ", re.MULTILINE)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("oto002_pytest")
    for name in ("before", "after"):
        for relative, text in FILES.items():
            (base / name / relative).parent.mkdir(parents=True, exist_ok=True)
            (base / name / relative).write_text(text)
    check = run_cli("--select", "OTO002", "--no-cache", ".", cwd=base / "before")
    fixed = run_cli("--fix", "--unsafe-fixes", "--select", "OTO002", "--no-cache", ".", cwd=base / "after")
    return {"before": base / "before", "after": base / "after", "check": check, "fixed": fixed}


def test_the_calls_after_the_read_are_reported_and_fixed(projects: dict) -> None:
    found = {(m["path"], int(m["line"])) for m in FINDING.finditer(projects["check"].stdout)}
    # the two calls in the test, and the factory-as-fixture's own write (a caller reads first)
    assert found == {("tests/accounts/test_profiles.py", 3), ("tests/accounts/test_profiles.py", 9),
                     ("tests/conftest.py", 18)}, projects["check"].stdout
    assert projects["fixed"].returncode == 0, projects["fixed"].stdout + projects["fixed"].stderr
    after = projects["after"]
    assert "owner.profile = Profile.objects.create(owner_id=owner.pk, **fields)" in (
        after / "tests" / "conftest.py").read_text()
    assert 'profile_factory(owner_id=owner.pk)\n    owner.refresh_from_db(fields=["profile"])' in (
        after / "tests" / "accounts" / "test_profiles.py").read_text()
    assert run_cli("--select", "OTO002", "--no-cache", ".", cwd=after).returncode == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_pytest_shows_the_stale_cache_before_the_fix_and_none_after(projects: dict, version: str) -> None:
    def outcomes(name: str) -> dict[str, str]:
        result = run_django(projects[name], [], RUN_PYTEST, version=version, setup=False)
        found = {test: outcome for outcome, test in OUTCOME.findall(result.stdout)}
        assert len(found) == 3, result.stdout[-3000:] + result.stderr[-3000:]
        return found

    assert outcomes("before") == {
        "test_factory_as_fixture": "FAILED",
        "test_registered_factory": "FAILED",
        "test_registered_factory_through_instance": "PASSED",
    }
    assert set(outcomes("after").values()) == {"PASSED"}
