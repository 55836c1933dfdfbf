"""OTO001 against real Django 5.2: the bundled demo project before and after ``--fix``.

The demo (``tests/fixtures/demo``) has four ForeignKeys that Django's system check
reports as ``fields.W342``:

* ``companies.Address.company`` (``unique=True``) and ``accounts.Preferences.user``
  (``primary_key=True``): nothing reads their reverse managers, so the fix is safe;
* ``companies.Invoice.company`` (``company.invoice_set`` is used in the services and
  views) and ``library.LibraryCard.member`` (``related_name`` given positionally,
  ``user.library_cards.first()`` in ``accounts.services``): unsafe, with OTO004 findings.

A copy of the demo goes through the real CLI (``python -m o2o_lint --select OTO001,OTO004``;
the demo's OTO002/OTO003 traps have fixes of their own) in stages and, after
each stage, a probe runs in a fresh Django process (SQLite in memory, tables created from
the models): the system checks, the kind of object each reverse accessor returns, and
the demo's own service functions. Every assertion is on what Django actually did.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import django_harness
from tests.django_harness import run_django
from tests.helpers import FIXTURES, run_cli

#: Left out by `pytest -m "not slow"`: real Django (installed on first use), run in subprocesses.
pytestmark = pytest.mark.slow

DEMO = FIXTURES / "demo"
APPS = ["accounts", "companies", "places", "library"]

FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>OTO\d{3}) ")

#: The demo also holds OTO002/OTO003 traps; this story is about OTO001 and its OTO004 sites.
SELECT = ("--select", "OTO001,OTO004")

SAFE = ["accounts.Preferences.user", "companies.Address.company"]
UNSAFE = ["companies.Invoice.company", "library.LibraryCard.member"]

PROBE = r'''
import json
from django.core import checks
from django.contrib.auth.models import User
from accounts.models import Preferences
from accounts import services as account_services
from companies.models import Address, Company, Invoice
from companies import services as company_services
from library.models import LibraryCard


def kind(obj, name):
    """The class name of obj.<name>, or the exception it raises."""
    try:
        value = getattr(obj, name)
    except Exception as exc:
        return f"raises {type(exc).__name__}: {exc}"
    return type(value).__name__


def call(function):
    try:
        return {"ok": function()}
    except Exception as exc:
        return {"raises": f"{type(exc).__name__}: {exc}"}


messages = checks.run_checks()
result = {
    "W342": sorted(f"{m.obj.model._meta.label}.{m.obj.name}" for m in messages if m.id == "fields.W342"),
    "other_checks": sorted(m.id for m in messages if m.id != "fields.W342"),
}

acme = Company.objects.create(name="Acme")
bare = Company.objects.create(name="Bare")
Address.objects.create(company=acme, street="1 Main St", city="Paris")
Invoice.objects.create(company=acme, number="INV-1")
ada = User.objects.create(username="ada")
bob = User.objects.create(username="bob")
Preferences.objects.create(user=ada, theme="dark")
LibraryCard.objects.create(member=ada, number="C-1")
# Fresh instances: nothing cached by the creations above.
acme, bare = Company.objects.get(name="Acme"), Company.objects.get(name="Bare")
ada, bob = User.objects.get(username="ada"), User.objects.get(username="bob")

accessors = {}
for label, obj in (("acme", acme), ("bare", bare)):
    for name in ("address", "address_set", "invoice", "invoice_set"):
        accessors[f"{label}.{name}"] = kind(obj, name)
for label, obj in (("ada", ada), ("bob", bob)):
    for name in ("preferences", "preferences_set", "library_cards"):
        accessors[f"{label}.{name}"] = kind(obj, name)
result["accessors"] = accessors
result["values"] = {
    "acme.address": call(lambda: str(Company.objects.get(pk=acme.pk).address)),
    "ada.preferences.theme": call(lambda: User.objects.get(pk=ada.pk).preferences.theme),
    "ada.library_cards": call(lambda: str(User.objects.get(pk=ada.pk).library_cards)),
}
result["descriptors"] = {
    "Company.address": type(Company.__dict__.get("address")).__name__,
    "Company.invoice_set": type(Company.__dict__.get("invoice_set")).__name__,
    "User.preferences": type(User.__dict__.get("preferences")).__name__,
}
result["services"] = {
    "companies_in": call(lambda: [c.name for c in company_services.companies_in("Paris")]),
    "current_address": call(lambda: str(company_services.current_address(acme))),
    "open_invoice": call(lambda: company_services.open_invoice(Company.objects.get(pk=acme.pk)).number),
    "billing_overview": call(company_services.billing_overview),
    "card_number": call(lambda: account_services.card_number(User.objects.get(pk=ada.pk))),
    "wants_newsletter": call(lambda: account_services.wants_newsletter(ada)),
}
print("PROBE " + json.dumps(result))
'''


def probe(project: Path) -> dict:
    result = run_django(project, APPS, PROBE)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE "))
    return json.loads(line[len("PROBE "):])


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*.py"))
        if ".o2o-lint-cache" not in path.parts and "__pycache__" not in path.parts
    }


def codes_at(output: str, root: Path) -> list[tuple[str, int, str]]:
    """(path relative to *root*, line, code) of each finding line of text output."""
    found = []
    for line in output.splitlines():
        match = FINDING.match(line)
        if match:
            relative = os.path.relpath(os.path.join(str(root.parent), match["path"]), root)
            found.append((relative.replace(os.sep, "/"), int(match["line"]), match["code"]))
    return found


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run the whole story once; the tests below read its recorded stages."""
    project = tmp_path_factory.mktemp("oto001-django") / "demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".o2o-lint-cache", "__pycache__", "*.sqlite3"))
    record: dict = {"project": project, "original": snapshot(project)}
    record["before"] = probe(project)
    record["fix"] = run_cli(*SELECT, "--fix", str(project), cwd=project.parent)
    record["after_fix_files"] = snapshot(project)
    record["after_fix"] = probe(project)
    record["fix_again"] = run_cli(*SELECT, "--fix", str(project), cwd=project.parent)
    record["after_fix_again_files"] = snapshot(project)
    record["unsafe"] = run_cli(*SELECT, "--fix", "--unsafe-fixes", str(project), cwd=project.parent)
    record["after_unsafe_files"] = snapshot(project)
    record["after_unsafe"] = probe(project)
    record["unsafe_again"] = run_cli(*SELECT, "--fix", "--unsafe-fixes", str(project), cwd=project.parent)
    record["after_unsafe_again_files"] = snapshot(project)
    return record


@pytest.mark.parametrize("version", django_harness.VERSIONS)
def test_demo_settings_module_loads_and_manage_py_check_reports_w342(tmp_path: Path, version: str) -> None:
    """The demo is a real project: its own settings and manage.py work with each Django line
    (the harness's install of it, under an interpreter it supports; not the venv's)."""
    project = tmp_path / "demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".o2o-lint-cache", "__pycache__", "*.sqlite3"))
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONHOME")}
    env.update(PYTHONPATH=django_harness.django_path(version), PYTHONNOUSERSITE="1")
    result = subprocess.run(
        [django_harness.interpreter(version), "manage.py", "check"], cwd=project, capture_output=True, text=True,
        env=env, timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    reported = sorted(line.split(":")[0] for line in output.splitlines() if "(fields.W342)" in line)
    assert reported == sorted(SAFE + UNSAFE)
    assert "System check identified 4 issues (0 silenced)." in output


def test_before_the_fix_django_reports_w342_for_all_four_fields(stages: dict) -> None:
    before = stages["before"]
    assert before["W342"] == sorted(SAFE + UNSAFE)
    assert before["other_checks"] == []
    # The reverse sides are managers: ``company.address_set``, not ``company.address``.
    accessors = before["accessors"]
    assert accessors["acme.address_set"] == "RelatedManager"
    assert accessors["acme.address"] == "raises AttributeError: 'Company' object has no attribute 'address'"
    assert accessors["acme.invoice_set"] == "RelatedManager"
    assert accessors["ada.preferences_set"] == "RelatedManager"
    assert accessors["ada.library_cards"] == "RelatedManager"
    services = before["services"]
    assert services["open_invoice"] == {"ok": "INV-1"}
    assert services["billing_overview"] == {"ok": [["Acme", ["INV-1"]], ["Bare", []]]}
    assert services["card_number"] == {"ok": "C-1"}
    assert services["companies_in"] == {"ok": ["Acme"]}


def test_fix_reports_what_it_did_and_what_remains(stages: dict) -> None:
    fix = stages["fix"]
    assert fix.returncode == 1, fix.stderr  # unsafe findings and OTO004 remain
    assert "Fixed 2 findings. 8 findings remain (2 fixable with --fix --unsafe-fixes" in fix.stdout
    remaining = codes_at(fix.stdout, stages["project"])
    assert [c for c in remaining if c[2] == "OTO001"] == [
        ("companies/models.py", 54, "OTO001"),  # Invoice.company, one line up after the Address fix
        ("library/models.py", 24, "OTO001"),
    ]
    assert sorted(p for p, _, c in remaining if c == "OTO004") == [
        "accounts/services.py",
        "companies/services.py", "companies/services.py", "companies/services.py", "companies/services.py",
        "companies/views.py",
    ]


def test_fix_rewrites_only_the_safe_fields(stages: dict) -> None:
    original, fixed = stages["original"], stages["after_fix_files"]
    changed = sorted(name for name in original if original[name] != fixed[name])
    assert changed == ["accounts/models.py", "companies/models.py"]
    accounts = fixed["accounts/models.py"].decode()
    assert (
        "    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True)\n"
        in accounts
    )
    companies = fixed["companies/models.py"].decode()
    assert "    company = models.OneToOneField(\n        Company,\n        on_delete=models.CASCADE,\n" in companies
    assert "unique=True,  # at most one address per company" not in companies
    assert "# at most one address per company" in companies  # the comment survives
    # The unsafe one is left alone.
    assert "    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n" in companies
    assert fixed["library/models.py"] == original["library/models.py"]


def test_after_the_safe_fix_w342_remains_only_for_the_unsafe_fields(stages: dict) -> None:
    after = stages["after_fix"]
    assert after["W342"] == UNSAFE
    assert after["other_checks"] == []  # no clash (fields.E302...) introduced


def test_converted_reverse_accessors_return_single_objects(stages: dict) -> None:
    after = stages["after_fix"]
    accessors = after["accessors"]
    assert after["descriptors"]["Company.address"] == "ReverseOneToOneDescriptor"
    assert after["descriptors"]["User.preferences"] == "ReverseOneToOneDescriptor"
    assert accessors["acme.address"] == "Address"
    assert after["values"]["acme.address"] == {"ok": "1 Main St, Paris"}
    assert accessors["bare.address"] == "raises RelatedObjectDoesNotExist: Company has no address."
    assert accessors["acme.address_set"] == "raises AttributeError: 'Company' object has no attribute 'address_set'"
    assert accessors["ada.preferences"] == "Preferences"
    assert after["values"]["ada.preferences.theme"] == {"ok": "dark"}
    assert accessors["bob.preferences"] == "raises RelatedObjectDoesNotExist: User has no preferences."
    # The code that used lookups and queries, not the managers, works as before.
    assert after["services"]["companies_in"] == {"ok": ["Acme"]}
    assert after["services"]["current_address"] == {"ok": "1 Main St, Paris"}
    assert after["services"]["wants_newsletter"] == {"ok": False}


def test_unsafe_fields_are_untouched_so_their_managers_still_work(stages: dict) -> None:
    after = stages["after_fix"]
    assert after["descriptors"]["Company.invoice_set"] == "ReverseManyToOneDescriptor"
    assert after["accessors"]["acme.invoice_set"] == "RelatedManager"
    assert after["accessors"]["ada.library_cards"] == "RelatedManager"
    assert after["services"]["open_invoice"] == {"ok": "INV-1"}
    assert after["services"]["billing_overview"] == {"ok": [["Acme", ["INV-1"]], ["Bare", []]]}
    assert after["services"]["card_number"] == {"ok": "C-1"}


def test_a_second_fix_run_changes_nothing(stages: dict) -> None:
    again = stages["fix_again"]
    assert stages["after_fix_again_files"] == stages["after_fix_files"]
    assert again.returncode == 1
    assert "Fixed 0 findings. 8 findings remain (2 fixable with --fix --unsafe-fixes" in again.stdout
    assert codes_at(again.stdout, stages["project"]) == codes_at(stages["fix"].stdout, stages["project"])


def test_unsafe_fixes_convert_the_rest(stages: dict) -> None:
    unsafe = stages["unsafe"]
    assert unsafe.returncode == 1, unsafe.stderr
    assert "Fixed 2 findings. 6 findings remain" in unsafe.stdout
    assert "--unsafe-fixes" not in unsafe.stdout.splitlines()[-1]  # nothing fixable is left
    before, after = stages["after_fix_files"], stages["after_unsafe_files"]
    assert sorted(n for n in before if before[n] != after[n]) == ["companies/models.py", "library/models.py"]
    assert "    company = models.OneToOneField(Company, models.CASCADE)\n" in after["companies/models.py"].decode()
    # The third positional argument of ForeignKey is related_name; of OneToOneField, to_field.
    assert (
        '    member = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="library_cards")\n'
        in after["library/models.py"].decode()
    )
    probe_after = stages["after_unsafe"]
    assert probe_after["W342"] == []
    assert probe_after["other_checks"] == []  # e.g. no fields.E312 from a misread to_field
    assert probe_after["accessors"]["acme.invoice"] == "Invoice"
    assert probe_after["accessors"]["bare.invoice"] == "raises RelatedObjectDoesNotExist: Company has no invoice."
    assert probe_after["accessors"]["ada.library_cards"] == "LibraryCard"
    assert probe_after["values"]["ada.library_cards"] == {"ok": "C-1"}


def test_unsafe_fixes_still_report_the_use_sites_they_break(stages: dict) -> None:
    """The OTO004 sites are listed by the run that converts the fields, and they do break."""
    remaining = codes_at(stages["unsafe"].stdout, stages["project"])
    assert {c for _, _, c in remaining} == {"OTO004"}
    assert sorted((p, line) for p, line, _ in remaining) == [
        ("accounts/services.py", 31),
        ("companies/services.py", 29),
        ("companies/services.py", 31),
        ("companies/services.py", 45),
        ("companies/services.py", 46),
        ("companies/views.py", 19),
    ]
    services = stages["after_unsafe"]["services"]
    assert services["open_invoice"] == {"raises": "AttributeError: 'Company' object has no attribute 'invoice_set'"}
    assert services["billing_overview"] == {
        "raises": "AttributeError: Cannot find 'invoice_set' on Company object, "
        "'invoice_set' is an invalid parameter to prefetch_related()"
    }
    assert services["card_number"] == {"raises": "AttributeError: 'LibraryCard' object has no attribute 'first'"}


def test_a_second_unsafe_run_changes_nothing(stages: dict) -> None:
    assert stages["after_unsafe_again_files"] == stages["after_unsafe_files"]
    assert "Fixed 0 findings." in stages["unsafe_again"].stdout
