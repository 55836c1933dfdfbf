"""OTO005 against real Django (4.2 and 5.2, SQLite): what a conversion leaves behind.

A project has ``Invoice.company = ForeignKey(Company, unique=True)`` and services that
use its reverse manager (``company.invoice_set.count()``, ``.exists()``, ``.first()``)
plus code already written for a one-to-one (``company.invoice.exists()``). OTO001's
conversion is run through the real CLI; then, in a fresh Django process each time:

* before: the manager uses work;
* after the conversion: every one of them raises ``AttributeError`` (Django says so),
  and OTO005 reports exactly those sites, not ``company.counter.count()`` (``Counter``
  defines ``count()``, and it works);
* after OTO005's unsafe fixes: the fixed functions work and return what they meant.
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


class Counter(models.Model):
    company = models.OneToOneField(Company, models.CASCADE, related_name="counter")

    def count(self):
        return 7
'''

SERVICES = '''
from billing.models import Company


def invoice_count(pk):
    company = Company.objects.get(pk=pk)
    return company.invoice_set.count()


def has_invoice(company: Company):
    return company.invoice_set.exists()


def first_invoice(company: Company):
    return company.invoice_set.first()


def has_invoice_new_style(company: Company):
    return company.invoice.exists()


def counter_total(company: Company):
    return company.counter.count()
'''

#: (function, line of the use in services.py) of every site the conversion breaks.
BROKEN = {"invoice_count": 6, "has_invoice": 10, "first_invoice": 14, "has_invoice_new_style": 18}
FIXED = {"has_invoice", "first_invoice", "has_invoice_new_style"}

PROBE = r'''
import json
from billing.models import Company, Counter, Invoice
from billing import services

with_invoice = Company.objects.create(name="with")
Invoice.objects.create(company=with_invoice)
Counter.objects.create(company=with_invoice)
without = Company.objects.create(name="without")


def call(function, *args):
    try:
        value = function(*args)
    except Exception as exc:
        return {"raises": type(exc).__name__, "attribute_error": isinstance(exc, AttributeError)}
    return {"ok": type(value).__name__ if hasattr(value, "_meta") else value}


print(json.dumps({
    "invoice_count": call(services.invoice_count, with_invoice.pk),
    "has_invoice": [call(services.has_invoice, Company.objects.get(pk=c.pk)) for c in (with_invoice, without)],
    "first_invoice": [call(services.first_invoice, Company.objects.get(pk=c.pk)) for c in (with_invoice, without)],
    "has_invoice_new_style": [call(services.has_invoice_new_style, Company.objects.get(pk=c.pk))
                              for c in (with_invoice, without)],
    "counter_total": call(services.counter_total, with_invoice),
}))
'''

FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>OTO\d{3}) ", re.M)


def _project(root: Path) -> Path:
    app = root / "billing"
    app.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.o2o-lint]\n")
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(textwrap.dedent(MODELS).lstrip())
    (app / "services.py").write_text(textwrap.dedent(SERVICES).lstrip())
    return root


def _probe(project: Path, version: str) -> dict:
    process = run_django(project, ["billing"], PROBE, version=version)
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


def _oto005_lines(project: Path) -> list[int]:
    result = run_cli("--select", "OTO005", "--output-format", "concise", str(project), cwd=project)
    return sorted(int(m["line"]) for m in FINDING.finditer(result.stdout)
                  if m["code"] == "OTO005" and m["path"].endswith("services.py"))


@pytest.mark.parametrize("version", VERSIONS)
def test_conversion_breaks_each_site_oto005_finds_them_and_the_unsafe_fix_works(tmp_path: Path, version: str) -> None:
    project = _project(tmp_path / "project")

    before = _probe(project, version)
    assert before["invoice_count"] == {"ok": 1}
    assert before["has_invoice"] == [{"ok": True}, {"ok": False}]
    assert before["first_invoice"] == [{"ok": "Invoice"}, {"ok": None}]
    assert before["has_invoice_new_style"][0]["attribute_error"]  # no `invoice` yet
    assert before["counter_total"] == {"ok": 7}
    assert _oto005_lines(project) == []  # a ForeignKey's manager is fine; `invoice` is no accessor yet

    convert = run_cli("--select", "OTO001", "--fix", "--unsafe-fixes", str(project), cwd=project)
    models = (project / "billing" / "models.py").read_text()
    assert "models.OneToOneField(Company, models.CASCADE)" in models, (convert.stdout, convert.stderr)

    after = _probe(project, version)
    assert after["invoice_count"] == {"raises": "AttributeError", "attribute_error": True}
    for name in ("has_invoice", "first_invoice", "has_invoice_new_style"):
        assert all(result.get("attribute_error") for result in after[name]), (name, after[name])
    assert after["counter_total"] == {"ok": 7}  # Counter defines count(): not broken, not reported
    assert _oto005_lines(project) == sorted(BROKEN.values())

    safe_only = run_cli("--select", "OTO005", "--fix", str(project), cwd=project)
    assert _oto005_lines(project) == sorted(BROKEN.values()), safe_only.stdout
    run_cli("--select", "OTO005", "--fix", "--unsafe-fixes", str(project), cwd=project)
    services = (project / "billing" / "services.py").read_text()
    assert 'return hasattr(company, "invoice")' in services
    assert 'return getattr(company, "invoice", None)' in services

    fixed = _probe(project, version)
    assert fixed["has_invoice"] == [{"ok": True}, {"ok": False}]
    assert fixed["first_invoice"] == [{"ok": "Invoice"}, {"ok": None}]
    assert fixed["has_invoice_new_style"] == [{"ok": True}, {"ok": False}]
    assert fixed["invoice_count"]["attribute_error"]  # no obvious rewrite: still reported
    assert _oto005_lines(project) == [BROKEN["invoice_count"]]
