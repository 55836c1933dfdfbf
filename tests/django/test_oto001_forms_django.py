"""OTO001's less obvious forms against real Django (every line of ``VERSIONS``).

A unique ForeignKey need not say ``unique=True``: a module constant bound to True
(imported or not), a ``**`` dict, ``primary_key=`` through a constant, the project's own
ForeignKey subclasses (and theirs, across modules) and aliased imports all make Django
report ``fields.W342``. A subclass overriding ``__init__`` may force ``unique`` off, and
then Django is silent, and so is o2o-lint. Each claim is checked with
``checks.run_checks()``; then ``--fix`` converts the fixable forms, and Django shows the
warning gone and the reverse accessor a single object, while the forms reported without
a fix still warn. Switching a ``**UNIQUE`` call to OneToOneField by hand, as the message
says, is clean too (OneToOneField ignores the dict's ``unique``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.django_harness import VERSIONS, run_django
from tests.helpers import run_cli, write_project

pytestmark = pytest.mark.slow

FILES = {
    "shop/constants.py": """\
        ONE_PER_COMPANY = True
        UNIQUE = {"unique": True}
        AS_KEY = {"primary_key": True}
        """,
    "shop/fields.py": """\
        from django.db import models
        from django.db.models import ForeignKey as FK


        class TenantForeignKey(models.ForeignKey):
            pass


        class AliasedForeignKey(FK):
            pass


        class ForcingForeignKey(models.ForeignKey):
            def __init__(self, *args, **kwargs):
                kwargs["unique"] = False
                super().__init__(*args, **kwargs)
        """,
    "shop/tenancy.py": """\
        from shop import fields


        class AuditedForeignKey(fields.TenantForeignKey):
            pass
        """,
    "shop/models.py": """\
        import django.db.models as m
        from django.db import models
        from django.db.models import ForeignKey as FK

        from shop.constants import AS_KEY, ONE_PER_COMPANY, UNIQUE
        from shop.fields import AliasedForeignKey, ForcingForeignKey, TenantForeignKey
        from shop.tenancy import AuditedForeignKey

        LOCAL = True


        class Company(models.Model):
            pass


        class Imported(models.Model):
            company = models.ForeignKey(Company, models.CASCADE, unique=ONE_PER_COMPANY)


        class Local(models.Model):
            company = FK(Company, models.CASCADE, unique=LOCAL)


        class Aliased(models.Model):
            company = m.ForeignKey(Company, m.CASCADE, unique=True)


        class Keyed(models.Model):
            company = models.ForeignKey(Company, models.CASCADE, primary_key=LOCAL)


        class Spread(models.Model):
            company = models.ForeignKey(Company, models.CASCADE, **UNIQUE)


        class Literal(models.Model):
            company = models.ForeignKey(Company, models.CASCADE, **{"unique": True})


        class SpreadKey(models.Model):
            company = models.ForeignKey(Company, models.CASCADE, **AS_KEY)


        class Tenant(models.Model):
            company = TenantForeignKey(Company, models.CASCADE, unique=True)


        class Audited(models.Model):
            company = AuditedForeignKey(Company, models.CASCADE, unique=True)


        class AliasedSub(models.Model):
            company = AliasedForeignKey(Company, models.CASCADE, unique=True)


        class Forced(models.Model):
            company = ForcingForeignKey(Company, models.CASCADE, unique=True)
        """,
}

#: Fixed by --fix: a constant that is True, an aliased module, primary_key through a constant.
FIXED = ["Aliased", "Imported", "Keyed", "Local"]
#: Reported without a fix: `**` keywords and the project's ForeignKey subclasses.
REPORTED_ONLY = ["AliasedSub", "Audited", "Literal", "Spread", "SpreadKey", "Tenant"]

PROBE = r'''
import json
from django.core import checks
from shop import models as shop

messages = checks.run_checks()
acme = shop.Company.objects.create()
accessors = {}
for name in ("Imported", "Local", "Aliased", "Keyed"):
    model = getattr(shop, name)
    model.objects.create(company=acme)
    company = shop.Company.objects.get(pk=acme.pk)
    try:
        accessors[name] = type(getattr(company, name.lower())).__name__
    except AttributeError:
        accessors[name] = type(getattr(company, name.lower() + "_set")).__name__
print("PROBE " + json.dumps({
    "W342": sorted(m.obj.model.__name__ for m in messages if m.id == "fields.W342"),
    "other": sorted(m.id for m in messages if m.id != "fields.W342"),
    "accessors": accessors,
}))
'''

FINDING = re.compile(r"^shop/models\.py:(?P<line>\d+):\d+: OTO001 ", re.M)


def probe(project: Path, version: str) -> dict:
    result = run_django(project, ["shop"], PROBE, version=version)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE "))
    return json.loads(line[len("PROBE "):])


def reported_models(output: str, source: str) -> list[str]:
    """The model classes whose field line carries an OTO001 finding."""
    lines = source.splitlines()
    names = []
    for match in FINDING.finditer(output):
        index = int(match["line"]) - 1
        while not lines[index].startswith("class "):
            index -= 1
        names.append(lines[index].split()[1].split("(")[0])
    return sorted(names)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_form_django_warns_about_is_reported_and_the_fixable_ones_fixed(tmp_path: Path, version: str) -> None:
    project = write_project(tmp_path / "project", FILES)
    models_py = project / "shop" / "models.py"
    before = probe(project, version)
    assert before["W342"] == sorted(FIXED + REPORTED_ONLY)  # not Forced: its __init__ drops unique
    assert before["other"] == []
    assert set(before["accessors"].values()) == {"RelatedManager"}

    check = run_cli("--no-cache", "--select", "OTO001", ".", cwd=project)
    assert reported_models(check.stdout, models_py.read_text()) == sorted(FIXED + REPORTED_ONLY), check.stdout
    assert check.stdout.count("no automatic fix: the call passes `**` keywords") == 3  # Spread, Literal, SpreadKey

    fixed = run_cli("--no-cache", "--select", "OTO001", "--fix", ".", cwd=project)
    assert "Fixed 4 findings." in fixed.stdout, fixed.stdout + fixed.stderr
    source = models_py.read_text()
    assert "company = models.OneToOneField(Company, models.CASCADE)\n" in source  # unique=ONE_PER_COMPANY dropped
    assert "company = m.OneToOneField(Company, m.CASCADE)\n" in source
    assert "company = models.OneToOneField(Company, models.CASCADE, primary_key=LOCAL)\n" in source
    assert reported_models(fixed.stdout, source) == REPORTED_ONLY
    after = probe(project, version)
    assert after["W342"] == REPORTED_ONLY
    assert after["other"] == []
    assert after["accessors"] == {name: name for name in FIXED}  # company.imported is the object

    # What the message says to do by hand for `**UNIQUE`: OneToOneField takes the dict as it is.
    models_py.write_text(source.replace("models.ForeignKey(Company, models.CASCADE, **UNIQUE)",
                                        "models.OneToOneField(Company, models.CASCADE, **UNIQUE)"))
    by_hand = probe(project, version)
    assert by_hand["W342"] == sorted(set(REPORTED_ONLY) - {"Spread"})
    assert by_hand["other"] == []
