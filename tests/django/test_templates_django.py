"""Templates against real Django (4.2, 5.2, 6.1; SQLite): a conversion's silent breakage.

A project has two unique ForeignKeys, ``Address.company`` and ``Gold.user`` (to
``auth.User``, ``related_name="gold"``), and two templates that use their reverse
managers: an app template (``billing/templates/``, found through ``APP_DIRS``) looping
over ``company.address_set.all``, and a site template in a directory the settings module
names in ``TEMPLATES[0]["DIRS"]`` (``BASE_DIR / "site_templates"``) showing
``{{ user.gold.count }}``. Then, each time in a fresh Django process:

* before the conversion both render the rows; o2o-lint reports each template line
  (OTO004) and OTO001's conversion is unsafe because of them (``--fix`` leaves it);
* after ``--fix --unsafe-fixes`` converts both fields, both templates render nothing,
  silently (no exception), and the next plain run reports the same lines (OTO005).
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


class Address(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True)
    city = models.CharField(max_length=20)


class Gold(models.Model):
    user = models.ForeignKey("auth.User", models.CASCADE, unique=True, related_name="gold")
'''

SETTINGS = '''
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "site_templates"],
        "APP_DIRS": True,
    },
]
'''

COMPANY_TEMPLATE = '''<h1>{{ company.name }}</h1>
<ul>
{% for a in company.address_set.all %}<li>{{ a.city }}</li>{% endfor %}
</ul>
'''
ACCOUNT_TEMPLATE = '''<p>{{ user.username }}</p>
<p>gold: {{ user.gold.count }}</p>
'''

#: The line of the use in each template (relative to the project).
USES = {"billing/templates/billing/company.html": 3, "site_templates/account.html": 2}

PROBE = r'''
import json
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from billing.models import Address, Company, Gold

company = Company.objects.create(name="ACME")
Address.objects.create(company=company, city="Paris")
user = User.objects.create(username="ann")
Gold.objects.create(user=user)
print(json.dumps({
    "company": render_to_string("billing/company.html", {"company": Company.objects.get(pk=company.pk)}),
    "account": render_to_string("account.html", {"user": User.objects.get(pk=user.pk)}),
}))
'''

FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>OTO\d{3}) (?P<message>.*)$", re.M)


def _project(root: Path) -> Path:
    files = {
        "pyproject.toml": "[tool.o2o-lint]\n",
        "billing/__init__.py": "",
        "billing/models.py": MODELS,
        "site/__init__.py": "",
        "site/settings.py": SETTINGS,
        "billing/templates/billing/company.html": COMPANY_TEMPLATE,
        "site_templates/account.html": ACCOUNT_TEMPLATE,
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip() if relative.endswith(".py") else text)
    return root


def _render(project: Path, version: str) -> dict:
    extra = f'TEMPLATES=[{{"BACKEND": "django.template.backends.django.DjangoTemplates", ' \
            f'"DIRS": [{str(project / "site_templates")!r}], "APP_DIRS": True}}],'
    process = run_django(project, ["billing"], PROBE, version=version, extra_settings=extra)
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


def _template_findings(project: Path) -> dict[str, list[tuple[str, int]]]:
    result = run_cli("--output-format", "concise", str(project), cwd=project)
    found: dict[str, list[tuple[str, int]]] = {}
    for match in FINDING.finditer(result.stdout):
        path = Path(match["path"]).resolve().relative_to(project.resolve()).as_posix()
        found.setdefault(match["code"], []).append((path, int(match["line"])))
    return found


@pytest.mark.parametrize("version", VERSIONS)
def test_templates_lose_data_silently_after_the_conversion_and_are_reported_before_and_after(
        tmp_path: Path, version: str) -> None:
    project = _project(tmp_path / "project")

    before = _render(project, version)
    assert "<li>Paris</li>" in before["company"]
    assert "gold: 1" in before["account"]
    found = _template_findings(project)
    assert sorted(found.get("OTO004", [])) == sorted(USES.items())
    assert "OTO005" not in found
    explained = run_cli("--select", "OTO001", "--output-format", "concise", str(project), cwd=project).stdout
    assert explained.count("the fix is unsafe: the reverse accessor") == 2, explained

    run_cli("--fix", str(project), cwd=project)  # safe fixes only: the templates make the conversion unsafe
    assert "unique=True" in (project / "billing" / "models.py").read_text()

    run_cli("--fix", "--unsafe-fixes", str(project), cwd=project)
    models = (project / "billing" / "models.py").read_text()
    assert "models.OneToOneField(Company, models.CASCADE)" in models
    assert 'models.OneToOneField("auth.User", models.CASCADE, related_name="gold")' in models

    after = _render(project, version)  # no exception: the template engine swallows the error
    assert "<li>" not in after["company"] and "<h1>ACME</h1>" in after["company"]
    assert "gold: </p>" in after["account"] and "<p>ann</p>" in after["account"]
    found = _template_findings(project)
    assert sorted(found.get("OTO005", [])) == sorted(USES.items())
    assert "OTO004" not in found and "OTO001" not in found
