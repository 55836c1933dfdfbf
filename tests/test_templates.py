"""Django templates read statically: the lexer, the settings' DIRS, discovery, and the
findings cache keyed on the templates a finding read."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

from o2o_lint.index.facts import extract_facts
from o2o_lint.index.templates import DJANGO, JINJA2, TemplateRead, template_reads
from tests.helpers import run_cli, write_project

MODELS = """
from django.db import models

class Company(models.Model):
    pass

class Address(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True)
"""
USE = "<ul>\n{% for a in company.address_set.all %}<li>{{ a.city }}</li>{% endfor %}\n</ul>\n"
FINDING = re.compile(r"^(?P<path>\S+?):(?P<line>\d+):(?P<col>\d+): (?P<code>OTO\d{3}) (?P<message>.*)$", re.M)


def test_reads_are_variable_paths_of_variables_and_tags_with_their_position() -> None:
    text = (
        '{% load static %}<p>{{ request.user.gold.count|default:"x.y" }}</p>\n'
        "{# {{ a.b_set }} #}{% comment %}{{ x.y_set }}{% endcomment %}\n"
        "  {% for a in company.address_set.all %}{{ a.city }}{% endfor %}\n"
        "{% verbatim %}{{ v.w_set }}{% endverbatim %}{% with n=c.d_set.count %}{% endwith %}\n"
        "{% for k, v in x.items reversed %}{% for a in c.address %}{{ a.b.all() }}\n"
        "{{ no\nspan.across_lines }}"
    )
    assert list(template_reads(text)) == [
        TemplateRead(("request", "user", "gold", "count"), 1, 23),
        TemplateRead(("company", "address_set", "all"), 3, 14, iterated=True),
        TemplateRead(("a", "city"), 3, 43),
        TemplateRead(("c", "d_set", "count"), 4, 54),
        TemplateRead(("x", "items"), 5, 15, iterated=True),
        TemplateRead(("c", "address"), 5, 46, iterated=True),
        TemplateRead(("a", "b", "all"), 5, 61),
    ]


def test_a_jinja2_comment_spans_lines_and_a_jinja2_string_may_hold_braces() -> None:
    """Run on Jinja2 3.1: ``{# c\n{{ x.y() }}\n#}A{{ "{{ x.y() }}" }}`` renders
    ``A{{ x.y() }}``: neither ``x.y`` is read. Django's lexer has no multi-line comment:
    there the same ``{{ x.y }}`` renders, and is read."""
    text = '{# a comment\n{{ c.address_set.all() }}\n#}{{ "{{ d.e_set }}" }}{{ \'a}}b\' }}{{ f.g_set }}\n'
    assert list(template_reads(text, JINJA2)) == [TemplateRead(("f", "g_set"), 3, 38)]
    assert [read.path for read in template_reads(text, DJANGO)][:1] == [("c", "address_set", "all")]


def test_settings_dirs_are_read_statically_relative_to_the_settings_module() -> None:
    source = """
import os
from pathlib import Path

import pytest
BASE_DIR = Path(__file__).resolve().parent.parent
OLD = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [BASE_DIR / "templates", os.path.join(OLD, "site", "tmpl"), Path(__file__).resolve().parents[2] / "x",
             "relative", os.environ["DIRS"], BASE_DIR / ".." / "outside"],
}]
"""
    facts = extract_facts(ast.parse(source), "site.settings", False, source)
    assert facts["template_dirs"] == [[2, ["templates"]], [2, ["site", "tmpl"]], [3, ["x"]]]


def _findings(root: Path, *args: str) -> list[tuple[str, int, str]]:
    result = run_cli("--output-format", "concise", *args, cwd=root)
    return [(m["path"], int(m["line"]), m["code"]) for m in FINDING.finditer(result.stdout)]


def test_templates_are_found_in_app_and_settings_directories_and_nowhere_else(tmp_path: Path) -> None:
    root = write_project(tmp_path, {
        "billing/models.py": MODELS,
        "site/settings.py": 'from pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent\n'
                            'TEMPLATES = [{"DIRS": [BASE_DIR / "tmpl"]}]\n',
    })
    # an app's templates/ and jinja2/ (APP_DIRS) and the DIRS; not client-side templates
    # (Handlebars under static/, a front end's src/templates/) nor a templates/ no loader reads
    for relative in ("billing/templates/billing/a.html", "tmpl/b.txt", "billing/jinja2/c.jinja", "static/d.html",
                     "billing/templates/billing/e.css", "templates/f.html", "billing/static/billing/js/templates/g.html",
                     "frontend/src/templates/h.html", "node_modules/pkg/templates/i.html", "docs/templates/j.html"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(USE)
    found = _findings(root, ".")
    assert sorted(path for path, _, code in found if code == "OTO004") == [
        "billing/jinja2/c.jinja", "billing/templates/billing/a.html", "tmpl/b.txt"]
    assert all(line == 2 for _, line, code in found if code == "OTO004")
    # a page outside the template directories, named explicitly (pre-commit passes any .html), is not read
    assert _findings(root, "static/d.html") == []
    assert _findings(root, "billing/templates/billing/a.html") == [("billing/templates/billing/a.html", 2, "OTO004")]


def test_editing_adding_or_removing_a_template_re_checks_the_fix_safety_of_a_warm_run(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"billing/models.py": MODELS})
    template = root / "billing" / "templates" / "billing" / "a.html"
    template.parent.mkdir(parents=True)

    def oto001() -> str:
        result = run_cli("--select", "OTO001", "--output-format", "concise", ".", cwd=root)
        return "unsafe" if "the fix is unsafe" in result.stdout else "safe"

    assert oto001() == "safe"
    template.write_text(USE)  # added
    assert oto001() == "unsafe"
    template.write_text("{{ company.pk }}\n")  # edited
    assert oto001() == "safe"
    template.write_text(USE + "\n")
    assert oto001() == "unsafe"
    template.unlink()  # removed
    assert oto001() == "safe"


def test_noqa_on_the_template_line_suppresses_its_finding(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"billing/models.py": MODELS})
    template = root / "billing" / "templates" / "a.html"
    template.parent.mkdir(parents=True)
    template.write_text(USE.replace("{% endfor %}", "{% endfor %}{# noqa: OTO004 #}") + "{{ company.address_set.count }}\n")
    assert _findings(root, "--select", "OTO004", ".") == [("billing/templates/a.html", 4, "OTO004")]


@pytest.mark.parametrize("text", [
    pytest.param(USE, id="plain"),
    # Django raises TemplateSyntaxError on a comment inside blocktrans
    pytest.param("{% load i18n %}{% blocktrans %}\n{{ n }}{% endblocktrans %}" + USE, id="blocktrans"),
    pytest.param('<a title="x\n' + USE + '">\n', id="attribute-value"),  # a space would be rendered
])
def test_add_noqa_leaves_a_template_alone_and_says_so(tmp_path: Path, text: str) -> None:
    root = write_project(tmp_path, {"billing/models.py": MODELS})
    template = root / "billing" / "templates" / "a.html"
    template.parent.mkdir(parents=True)
    template.write_text(text)
    result = run_cli("--select", "OTO004", "--add-noqa", ".", cwd=root)
    assert template.read_text() == text
    assert result.stderr.splitlines() == [
        "billing/templates/a.html: not edited (a comment would change what it renders); "
        "add {# noqa: OTO004 #} by hand where harmless",
        "Added 0 noqa codes in 0 files.",
    ]
    assert result.returncode == 1
    assert _findings(root, "--select", "OTO004", ".") == [("billing/templates/a.html", text.count("\n", 0, text.index(
        "company.address_set")) + 1, "OTO004")]


@pytest.mark.parametrize("separator", ["\r", "\u2028"])
def test_a_template_noqa_is_found_on_the_line_its_finding_is_numbered_by(tmp_path: Path, separator: str) -> None:
    """Findings count lines at ``\n`` only, as Django does; so does the noqa's lookup
    (``str.splitlines`` or Python's tokenizer would split at the separator)."""
    root = write_project(tmp_path, {"billing/models.py": MODELS})
    template = root / "billing" / "templates" / "a.html"
    template.parent.mkdir(parents=True)
    use = "{{ company.address_set.count }}"
    template.write_bytes(f"{use}{separator}{{# noqa: OTO004 #}}\n<p>two</p>{separator}{use}\n".encode())
    assert _findings(root, "--select", "OTO004", ".") == [("billing/templates/a.html", 2, "OTO004")]


def test_a_container_method_name_on_an_unknown_variable_is_not_reported(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"shop/models.py": """
        from django.db import models

        class Order(models.Model):
            pass

        class Receipt(models.Model):
            order = models.OneToOneField(Order, models.CASCADE, related_name="items")

        class Line(models.Model):
            order = models.ForeignKey(Order, models.CASCADE, unique=True, related_name="keys")
        """})
    template = root / "shop" / "templates" / "a.html"
    template.parent.mkdir(parents=True)
    template.write_text("{% for k, v in data.items %}{{ k }}{% endfor %}{{ data.items.count }}{{ data.keys.count }}\n")
    found = _findings(root, ".")
    assert [code for _, _, code in found] == ["OTO001"]  # the template may read the manager: unsafe, not reported
    assert "the fix is unsafe" in run_cli("--output-format", "concise", ".", cwd=root).stdout


def _resolved(source: str) -> tuple[list, bool]:
    facts = extract_facts(ast.parse(source), "site.settings", False, source)
    return facts["template_dirs"], facts["template_dirs_resolved"]


BASE = "from pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent\n"


def test_dirs_through_a_list_name_or_joinpath_are_read_and_anything_else_is_unresolved() -> None:
    assert _resolved(BASE + 'TEMPLATE_DIRS = [BASE_DIR / "frontend"]\nTEMPLATES = [{"DIRS": TEMPLATE_DIRS}]\n') == (
        [[2, ["frontend"]]], True)
    assert _resolved(BASE + 'TEMPLATES = [{"DIRS": [BASE_DIR.joinpath("site", "tmpl")], "APP_DIRS": True}]\n') == (
        [[2, ["site", "tmpl"]]], True)
    assert _resolved(BASE + 'TEMPLATES = [{"APP_DIRS": True}]\nTEMPLATES[0]["OPTIONS"]["debug"] = True\n') == ([], True)
    assert _resolved("DEBUG = True\n") == ([], True)  # no TEMPLATES: nothing unknown
    assert _resolved("TEMPLATES = {'two_col.html': 'Two columns'}\n") == ([], True)  # not Django's setting
    for unresolved in (
        'TEMPLATES = [{"DIRS": [BASE_DIR / "t", os.environ["TEMPLATE_DIR"]]}]\n',
        'TEMPLATES = [{"DIRS": ["/srv/templates"]}]\n',
        'TEMPLATES = [{"DIRS": [f"{BASE_DIR}/t"]}]\n',
        'TEMPLATES = build_templates(BASE_DIR)\n',
        'TEMPLATES = [{**COMMON, "APP_DIRS": True}]\n',
        'TEMPLATES = [{"DIRS": DIRS_FROM_ELSEWHERE}]\n',
        'TEMPLATES = [{"DIRS": [BASE_DIR / "t"]}]\nTEMPLATES[0]["DIRS"].append(EXTRA)\n',
        'D = [BASE_DIR / "t"]\nTEMPLATES = [{"DIRS": D}]\nD += [EXTRA]\n',
        'from .base import *\nTEMPLATES[0]["DIRS"] += [EXTRA]\n',
        'TEMPLATES = [{"DIRS": []}]\nif DEBUG:\n    TEMPLATES[0]["DIRS"].insert(0, os.path.join(DATA_DIR, "t"))\n',
    ):
        assert _resolved(BASE + unresolved)[1] is False, unresolved


def _oto001(root: Path) -> str:
    result = run_cli("--select", "OTO001", "--output-format", "concise", ".", cwd=root)
    assert "OTO001" in result.stdout, result.stdout + result.stderr
    return result.stdout


def test_a_template_in_a_dirs_list_or_joinpath_directory_makes_the_fix_unsafe(tmp_path: Path) -> None:
    for name, settings, directory in (
        ("list", BASE + 'TEMPLATE_DIRS = [BASE_DIR / "frontend"]\nTEMPLATES = [{"DIRS": TEMPLATE_DIRS}]\n', "frontend"),
        ("joinpath", BASE + 'TEMPLATES = [{"DIRS": [BASE_DIR.joinpath("site_templates")]}]\n', "site_templates"),
    ):
        root = write_project(tmp_path / name, {"billing/models.py": MODELS, "proj/settings.py": settings})
        assert "the fix is unsafe" not in _oto001(root)  # resolved, no use: safe
        (root / directory / "billing").mkdir(parents=True)
        (root / directory / "billing" / "company.html").write_text(USE)
        assert "the fix is unsafe: the reverse accessor `address_set` is used as a manager in 1 file(s)" in _oto001(root)


def test_an_unresolvable_templates_setting_makes_the_fix_unsafe_naming_the_settings_file(tmp_path: Path) -> None:
    root = write_project(tmp_path, {
        "billing/models.py": MODELS,
        "proj/settings.py": 'import os\nTEMPLATES = [{"DIRS": [os.environ["TEMPLATE_DIR"]], "APP_DIRS": True}]\n',
    })
    assert ("the fix is unsafe: the template directories of proj/settings.py cannot be read statically"
            in _oto001(root))
    (root / "proj" / "settings.py").write_text('TEMPLATES = [{"DIRS": [], "APP_DIRS": True}]\n')
    assert "the fix is unsafe" not in _oto001(root)


def test_a_top_level_or_client_side_looking_directory_named_in_dirs_is_read(tmp_path: Path) -> None:
    root = write_project(tmp_path, {
        "billing/models.py": MODELS,
        "site/settings.py": BASE + 'TEMPLATES = [{"DIRS": [BASE_DIR / "templates", BASE_DIR / "frontend" / "src"]}]\n',
    })
    for relative in ("templates/f.html", "frontend/src/templates/h.html", "frontend/other/templates/k.html"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(USE)
    assert sorted(path for path, _, code in _findings(root, ".") if code == "OTO004") == [
        "frontend/src/templates/h.html", "templates/f.html"]


def _oto001_and_problems(root: Path) -> tuple[str, list[str]]:
    result = run_cli("--select", "OTO001", "--output-format", "concise", ".", cwd=root)
    problems = sorted(f"{m['path']} {m['message']}" for m in FINDING.finditer(result.stdout) if m["code"] == "OTO000")
    return ("unsafe" if "the fix is unsafe" in result.stdout else "safe"), problems


def test_a_fifo_named_like_a_template_is_reported_not_waited_on(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"billing/models.py": MODELS})
    template = root / "billing" / "templates" / "billing" / "pipe.html"
    template.parent.mkdir(parents=True)
    os.mkfifo(template)
    # the run used to block forever opening the FIFO: run_cli's timeout would fail this
    safety, problems = _oto001_and_problems(root)
    assert problems == ["billing/templates/billing/pipe.html cannot read: not a regular file"]
    assert safety == "unsafe"


@pytest.mark.parametrize("content, problem", [
    pytest.param(b"{{ company.address_set.all }}\x00\n", "cannot read: binary file (contains NUL bytes)", id="binary"),
    pytest.param("{{ company.address_set.all }}\n".encode("utf-16"), "cannot read: binary file (contains NUL bytes)",
                 id="utf-16"),
    pytest.param("{# caf\xe9 #}{{ company.address_set.all }}\n".encode("latin-1"),
                 "cannot decode: invalid utf-8 byte at offset 6", id="latin-1"),
    # Django and Jinja2 decode templates as utf-8 whatever a `coding:` line says
    pytest.param("# coding: latin-1\n{# caf\xe9 #}\n".encode("latin-1"), "cannot decode: invalid utf-8 byte at offset 24",
                 id="coding-line-ignored"),
])
def test_an_unreadable_template_is_reported_and_makes_a_conversion_unsafe(
        tmp_path: Path, content: bytes, problem: str) -> None:
    root = write_project(tmp_path, {"billing/models.py": MODELS})
    template = root / "billing" / "templates" / "billing" / "a.txt"
    template.parent.mkdir(parents=True)
    assert _oto001_and_problems(root) == ("safe", [])
    template.write_bytes(content)
    safety, problems = _oto001_and_problems(root)
    assert problems == [f"billing/templates/billing/a.txt {problem}"]
    assert safety == "unsafe"  # the unreadable template may use the reverse manager
    template.write_bytes(b"\xef\xbb\xbf{{ company.pk }}\n")  # utf-8 with a BOM is what Django reads
    assert _oto001_and_problems(root) == ("safe", [])
