"""OTO004 and OTO005 against real Django: every place a reverse accessor is named.

A project has ``Invoice.company = ForeignKey(Company, unique=True)`` and
``Membership.company = ForeignKey(Company, unique=True, related_name="memberships")``, and
names their reverse managers in strings: ``getattr``/``hasattr`` literals, prefetch
lookups (plain, nested through a forward relation, in a ``Prefetch``), a Django REST
framework serializer's ``source=`` and ``Meta.fields``; beside them, query names in
``filter``/``exclude``/``annotate``/``order_by``/``values`` and a ``related_name``
prefetch, which the conversion keeps working. In a fresh Django process each time:

* before the conversion everything works, and OTO004 reports exactly the string uses
  that the conversion breaks;
* after OTO001's conversion (the real CLI, ``--fix --unsafe-fixes``) each reported use
  fails or silently changes (``hasattr`` False, a serializer key gone), each unreported
  one returns what it returned before, and OTO005 reports the leftovers on a plain run.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from tests.django_harness import VERSIONS, run_django
from tests.helpers import run_cli

pytestmark = pytest.mark.slow

MODELS = '''
from django.db import models


class Company(models.Model):
    name = models.CharField(max_length=20, default="")


class Invoice(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True)
    amount = models.IntegerField(default=0)


class Membership(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True, related_name="memberships")
'''

SERVICES = '''
from django.db.models import Count, Prefetch

from billing.models import Company, Invoice, Membership


def has_invoices(company: Company):
    return hasattr(company, "invoice_set")


def invoice_count(company: Company):
    return getattr(company, "invoice_set").count()


def member_count(company: Company):
    return getattr(company, "memberships").count()


def prefetched():
    return [c.pk for c in Company.objects.prefetch_related("invoice_set")]


def nested():
    return [m.pk for m in Membership.objects.prefetch_related("company__invoice_set")]


def prefetch_object():
    return [c.pk for c in Company.objects.prefetch_related(Prefetch("invoice_set", queryset=Invoice.objects.all()))]


def query_names():
    companies = Company.objects.filter(invoice__amount=3).exclude(memberships__id=0)
    companies = companies.annotate(n=Count("invoice")).order_by("invoice__amount").select_related("invoice")
    return list(companies.values("n", "invoice__amount", "memberships"))


def prefetch_related_name():
    return [c.pk for c in Company.objects.prefetch_related("memberships")]
'''

#: function -> line of its use in services.py, for what the conversion breaks
BROKEN = {"has_invoices": 7, "invoice_count": 11, "member_count": 15, "prefetched": 19, "nested": 23,
          "prefetch_object": 27}
KEPT = ("query_names", "prefetch_related_name")
#: what OTO005 still reports after the conversion: every use above (memberships is now a one-to-one)
LEFTOVERS = sorted(BROKEN.values())

API = '''
from rest_framework import serializers

from billing.models import Company


class CompanySerializer(serializers.ModelSerializer):
    invoice_count = serializers.IntegerField(source="invoice_set.count", read_only=True)
    invoices = serializers.PrimaryKeyRelatedField(source="invoice_set", many=True, read_only=True)

    class Meta:
        model = Company
        fields = ["id", "invoice_count", "invoices", "memberships"]
'''
#: OTO004 in api.py: both sources, and "memberships" in Meta.fields; OTO005 after: the two sources
API_OTO004 = [7, 8, 12]
API_OTO005 = [7, 8]

PROBE = r'''
import json
from billing.models import Company, Invoice, Membership
from billing import services

company = Company.objects.create(name="a")
Invoice.objects.create(company=company, amount=3)
Membership.objects.create(company=company)


def call(function, *args):
    try:
        return {"ok": function(*args)}
    except Exception as exc:
        return {"raises": type(exc).__name__}


names = [name for name in dir(services) if callable(getattr(services, name)) and getattr(services, name).__module__ == services.__name__]
print(json.dumps({name: call(getattr(services, name), *([Company.objects.get()] if name in
      ("has_invoices", "invoice_count", "member_count") else [])) for name in names}))
'''

DRF_PROBE = r'''
import json, sys
sys.path.append({site!r})  # after Django's own directory: the Django under test wins
import django
assert django.VERSION[:2] == {version!r}, django.VERSION
from billing.models import Company, Invoice, Membership
from billing.api import CompanySerializer

company = Company.objects.create(name="a")
Invoice.objects.create(company=company, amount=3)
Membership.objects.create(company=company)
print(json.dumps(CompanySerializer(Company.objects.get()).data))
'''

FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>OTO\d{3}) ", re.M)


def _project(root: Path, *, api: bool = False) -> Path:
    app = root / "billing"
    app.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.o2o-lint]\n")
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(textwrap.dedent(MODELS).lstrip())
    (app / "services.py").write_text(textwrap.dedent(SERVICES).lstrip())
    if api:
        (app / "api.py").write_text(textwrap.dedent(API).lstrip())
    return root


def _lines(project: Path, code: str, filename: str) -> list[int]:
    result = run_cli("--select", code, "--output-format", "concise", str(project), cwd=project)
    return sorted(int(m["line"]) for m in FINDING.finditer(result.stdout)
                  if m["code"] == code and m["path"].endswith(filename))


def _probe(project: Path, version: str) -> dict:
    process = run_django(project, ["billing"], PROBE, version=version)
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


def _convert(project: Path) -> None:
    convert = run_cli("--select", "OTO001", "--fix", "--unsafe-fixes", str(project), cwd=project)
    models = (project / "billing" / "models.py").read_text()
    assert models.count("models.OneToOneField(Company, models.CASCADE") == 2, (convert.stdout, convert.stderr)


@pytest.mark.parametrize("version", VERSIONS)
def test_string_uses_break_after_the_conversion_and_are_reported_before_and_after(tmp_path: Path, version: str) -> None:
    project = _project(tmp_path / "project")
    before = _probe(project, version)
    assert before == {
        "has_invoices": {"ok": True}, "invoice_count": {"ok": 1}, "member_count": {"ok": 1},
        "prefetched": {"ok": [1]}, "nested": {"ok": [1]}, "prefetch_object": {"ok": [1]},
        "query_names": {"ok": [{"n": 1, "invoice__amount": 3, "memberships": 1}]},
        "prefetch_related_name": {"ok": [1]},
    }
    assert _lines(project, "OTO004", "services.py") == sorted(BROKEN.values())

    _convert(project)
    after = _probe(project, version)
    assert after["has_invoices"] == {"ok": False}  # silently
    for name in ("invoice_count", "member_count", "prefetched", "nested", "prefetch_object"):
        assert after[name] == {"raises": "AttributeError"}, (name, after[name])
    for name in KEPT:
        assert after[name] == before[name], name
    assert _lines(project, "OTO005", "services.py") == LEFTOVERS


DRF_VERSIONS = [v for v in VERSIONS if v != "4.2"]  # djangorestframework 3.16+ (the test extra's) needs 5.2+


@pytest.mark.parametrize("version", DRF_VERSIONS)
def test_drf_serializer_silently_loses_keys_after_the_conversion_reported_before(tmp_path: Path, version: str) -> None:
    import rest_framework

    site = str(Path(rest_framework.__file__).resolve().parent.parent)
    project = _project(tmp_path / "project", api=True)
    probe = DRF_PROBE.format(site=site, version=tuple(int(part) for part in version.split(".")))

    before = run_django(project, ["billing"], probe, version=version)
    assert before.returncode == 0, before.stderr[-3000:]
    assert json.loads(before.stdout.strip().splitlines()[-1]) == {
        "id": 1, "invoice_count": 1, "invoices": [1], "memberships": [1]}
    assert _lines(project, "OTO004", "api.py") == API_OTO004

    _convert(project)
    after = run_django(project, ["billing"], probe, version=version)
    assert after.returncode == 0, after.stderr[-3000:]
    # no error: the two keys are gone, and the list of memberships became one pk
    assert json.loads(after.stdout.strip().splitlines()[-1]) == {"id": 1, "memberships": 1}
    assert _lines(project, "OTO005", "api.py") == API_OTO005
