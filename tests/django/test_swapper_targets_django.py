"""Relation targets named by swapper (django-swappable-models) against real Django.

``OneToOneField(swapper.get_model_name("club", "Member"), ...)`` points at the model the
setting swapper derives names (``<PREFIX>_MEMBER_MODEL``, the prefix being the app label
unless ``swapper.set_app_prefix`` gives another), else at ``club.Member``. The index
resolves it statically; this checks, on Django 4.2, 5.2 and 6.1 with swapper installed,
that it resolves to the model Django installs the accessor on, with the setting unset and
with it swapping the model (the swapped-out model then has no accessor at all), and that
OTO002's finding on such an accessor is a real stale cache that ``--fix`` repairs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from o2o_lint.config import Settings
from o2o_lint.index.build import build_index
from tests.django_harness import VERSIONS, run_django
from tests.helpers import run_cli

#: Left out by `pytest -m "not slow"`: real Django, run in subprocesses.
pytestmark = pytest.mark.slow

CLUB_MODELS = '''\
import swapper
from django.db import models

# the setting is MEMBERS_MEMBER_MODEL, not CLUB_MEMBER_MODEL
swapper.set_app_prefix("club", "members")


class Member(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        swappable = swapper.swappable_setting("club", "Member")


class Locker(models.Model):
    member = models.OneToOneField(swapper.get_model_name("club", "Member"), models.CASCADE, related_name="locker")
'''

ALT_MODELS = '''\
from django.db import models


class Member(models.Model):
    name = models.CharField(max_length=50)
'''

FLOWS = '''\
import swapper

from club.models import Locker

Member = swapper.load_model("club", "Member")


def ensure_locker(pk):
    member = Member.objects.get(pk=pk)
    if not hasattr(member, "locker"):
        Locker.objects.create(member_id=member.pk)
    return member
'''

#: The setting that swaps ``club.Member`` for ``alt.Member`` (as a settings module and for the harness).
SWAPPED = 'MEMBERS_MEMBER_MODEL = "alt.Member"\n'

PROBE = r'''
import json
import swapper
from club import models as club
from club.flows import ensure_locker

Member = swapper.load_model("club", "Member")
member = Member.objects.create(name="a")
returned = ensure_locker(member.pk)
print("RESULTS " + json.dumps({
    "target": club.Locker._meta.get_field("member").related_model._meta.label,
    "club_member_swapped": bool(club.Member._meta.swapped),
    "club_member_has_accessor": hasattr(club.Member, "locker"),
    "returned_has_locker": hasattr(returned, "locker"),
    "in_db": club.Locker.objects.filter(member_id=member.pk).exists(),
}))
'''

FINDING = re.compile(r"^club/flows\.py:(?P<line>\d+):\d+: OTO002 ", re.MULTILINE)
SCENARIOS = {"default": "", "swapped": SWAPPED}


def write_project(root: Path, settings: str) -> None:
    for app, models in (("club", CLUB_MODELS), ("alt", ALT_MODELS)):
        (root / app).mkdir(parents=True)
        (root / app / "__init__.py").write_text("")
        (root / app / "models.py").write_text(models)
    (root / "club" / "flows.py").write_text(FLOWS)
    if settings:
        (root / "site_settings.py").write_text(settings)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict:
    found = {}
    for scenario, settings in SCENARIOS.items():
        base = tmp_path_factory.mktemp(f"swapper_{scenario}")
        for name in ("before", "after"):
            write_project(base / name, settings)
        index = build_index([str(base / "before")], Settings(use_cache=False))
        found[scenario] = {
            "before": base / "before",
            "after": base / "after",
            "owners": {r.owner for r in index.reverse_relations if r.accessor == "locker"},
            "club_member_swapped": index.swapped_out(index.models["club.models.Member"]),
            "check": run_cli("--select", "OTO002", "--no-cache", ".", cwd=base / "before"),
            "fixed": run_cli("--fix", "--select", "OTO002", "--no-cache", ".", cwd=base / "after"),
        }
    return found


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_stale_write_on_a_swapper_target_is_reported_and_fixed(projects: dict, scenario: str) -> None:
    project = projects[scenario]
    assert [int(m["line"]) for m in FINDING.finditer(project["check"].stdout)] == [11], project["check"].stdout
    assert "`member.locker` was read at line 10" in project["check"].stdout
    assert project["fixed"].returncode == 0, project["fixed"].stdout + project["fixed"].stderr
    fixed = (project["after"] / "club" / "flows.py").read_text()
    assert "member.locker = Locker.objects.create(member_id=member.pk)" in fixed
    assert run_cli("--select", "OTO002", "--no-cache", ".", cwd=project["after"]).returncode == 0


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_index_resolves_the_target_django_installs_the_accessor_on(
        projects: dict, scenario: str, version: str) -> None:
    project = projects[scenario]
    extra = 'MEMBERS_MEMBER_MODEL="alt.Member",' if scenario == "swapped" else ""

    def run(name: str) -> dict:
        result = run_django(project[name], ["club", "alt"], PROBE, version=version, extra_settings=extra)
        assert result.returncode == 0, result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
        return json.loads(line[len("RESULTS "):])

    before, after = run("before"), run("after")
    expected = "alt.Member" if scenario == "swapped" else "club.Member"
    # Django and the index agree on the accessor's model, and on the swapped-out one.
    assert before["target"] == expected
    assert project["owners"] == {expected}
    assert before["club_member_swapped"] is project["club_member_swapped"] is (scenario == "swapped")
    assert before["club_member_has_accessor"] is (scenario == "default")
    # The finding is a real stale cache: the row is there, the instance says it is not; fixed, both agree.
    assert before["in_db"] is True and before["returned_has_locker"] is False
    assert after["in_db"] is True and after["returned_has_locker"] is True
