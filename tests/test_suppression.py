"""Suppression and adoption: ``# noqa`` as flake8 reads it, ``--add-noqa`` and OTO100."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from o2o_lint.findings import Finding
from o2o_lint.noqa import SourceLines, add_noqa, filter_suppressed, noqa_line, split_suppressed_in
from o2o_lint.rules.oto100_unused_noqa import unused_directives
from o2o_lint.sourcefile import apply_line_edits
from tests.helpers import run_cli, write_project

MODELS = (
    "from django.db import models\n\n"
    "class Company(models.Model):\n    pass\n\n"
    "class Invoice(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"
)

#: Uses of the reverse manager (OTO004) in every position a comment is awkward in.
USES = '''\
def plain(company):
    return company.invoice_set.count()


def merged(company):
    return company.invoice_set.count()  # noqa: E501


def commented(company):
    return company.invoice_set.count()  # the old API, see ticket 12


def in_a_multiline_string(company):
    return company.invoice_set.filter(number="""INV
-1""")


def continued(company):
    return company.invoice_set \\
        .all()


def twice(company):
    return company.invoice_set.count() + company.invoice_set.count()
'''

EXPECTED = '''\
def plain(company):
    return company.invoice_set.count()  # noqa: OTO004


def merged(company):
    return company.invoice_set.count()  # noqa: E501, OTO004


def commented(company):
    return company.invoice_set.count()  # the old API, see ticket 12  # noqa: OTO004


def in_a_multiline_string(company):
    return company.invoice_set.filter(number="""INV
-1""")  # noqa: OTO004


def continued(company):
    return company.invoice_set \\
        .all()  # noqa: OTO004


def twice(company):
    return company.invoice_set.count() + company.invoice_set.count()  # noqa: OTO004
'''


def project(tmp_path: Path, uses: str = USES) -> Path:
    return write_project(tmp_path, {"app/models.py": MODELS, "app/services.py": uses})


def flake8_codes(root: Path, *paths: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "OTO", "--format", "%(row)d:%(code)s", *paths],
        cwd=root, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.stdout.split()


# -- --add-noqa --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_add_noqa_suppresses_every_finding_in_one_step(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "pyproject.toml").write_text('[tool.o2o-lint]\nignore = ["OTO001"]\n')
    before = run_cli(".", cwd=root)
    assert before.returncode == 1 and before.stdout.count("OTO004") == 7
    added = run_cli("--add-noqa", ".", cwd=root)
    assert added.returncode == 0, added.stderr
    assert added.stderr == "Added 6 noqa codes in 1 file.\n"
    assert (root / "app" / "services.py").read_text() == EXPECTED
    after = run_cli(".", cwd=root)
    assert after.returncode == 0 and after.stdout.startswith("All clear")
    assert flake8_codes(root, "app/services.py") == []  # flake8 honours every comment written
    again = run_cli("--add-noqa", ".", cwd=root)
    assert again.stderr == "Added 0 noqa codes in 0 files.\n"
    assert (root / "app" / "services.py").read_text() == EXPECTED


def test_add_noqa_merges_codes_and_keeps_other_tools_codes(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"app/models.py": MODELS.replace(
        "unique=True)\n", "unique=True)  # noqa:E501 keep me\n")})
    assert run_cli("--add-noqa", ".", cwd=root).returncode == 0
    assert "unique=True)  # noqa:E501, OTO001 keep me\n" in (root / "app" / "models.py").read_text()
    assert run_cli(".", cwd=root).returncode == 0


def test_add_noqa_on_standard_input_writes_the_buffer_back(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = run_cli("--add-noqa", "-", "--stdin-filename", "app/services.py", cwd=root, stdin=USES)
    assert result.stdout == EXPECTED
    assert (root / "app" / "services.py").read_text() == USES  # the file on disk is not touched


def test_add_noqa_cannot_be_combined_with_fixing(tmp_path: Path) -> None:
    for other in ("--fix", "--diff"):
        result = run_cli("--add-noqa", other, ".", cwd=project(tmp_path))
        assert result.returncode == 2 and "--add-noqa cannot be combined" in result.stderr


def test_add_noqa_leaves_files_that_do_not_parse_and_says_so(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "app" / "broken.py").write_text("def f(:\n")
    result = run_cli("--add-noqa", ".", cwd=root)
    assert result.returncode == 1
    assert "app/broken.py:1:7: OTO000 cannot parse" in result.stderr
    assert (root / "app" / "broken.py").read_text() == "def f(:\n"


# -- # noqa exactly as flake8 ------------------------------------------------------------------------


NOQA_CASES = '''\
def blanket(company):
    return company.invoice_set.count()  # noqa


def prefix(company):
    return company.invoice_set.count()  # noqa: OTO


def other_code(company):
    return company.invoice_set.count()  # noqa: E501


def no_space(company):
    return company.invoice_set.count()  # NOQA:OTO004


def comment_before_the_string_ends(company):
    return company.invoice_set.filter(number="""INV  # noqa: OTO004
-1""")


def bracketed(company):
    return company.invoice_set.filter(  # noqa: OTO004
        number=1,
    )


def next_line(company):
    value = company.invoice_set.count()
    return value  # noqa: OTO004
'''


def test_cli_suppresses_exactly_what_flake8_suppresses(tmp_path: Path) -> None:
    root = project(tmp_path, NOQA_CASES)
    rows = json.loads(run_cli("--output-format", "json", "--select", "OTO004", "app/services.py", cwd=root).stdout)
    from_cli = [f"{r['line']}:{r['code']}" for r in rows]
    assert from_cli == flake8_codes(root, "app/services.py")
    # flake8 searches the whole range, string included: the "# noqa" inside the string counts
    assert from_cli == ["10:OTO004", "29:OTO004"]


def test_noqa_ranges_follow_flake8() -> None:
    lines = SourceLines('x = """a\nb"""\ny = 1 + \\\n    2\nz = (\n    3,\n)\n')
    assert [lines.range_of(n) for n in range(1, 8)] == [(1, 2), (1, 2), (3, 4), (3, 4), (5, 5), (6, 6), (7, 7)]
    assert noqa_line(lines, 1) == 2 and noqa_line(lines, 6) == 6
    finding = Finding("f.py", 1, 0, "OTO004", "m")
    assert filter_suppressed([finding], 'x = """a\nb"""  # noqa: OTO004\n') == []
    assert filter_suppressed([finding], 'x = """a\nb"""  # noqa: OTO001\n') == [finding]
    assert filter_suppressed([finding], "# flake8: noqa\nx = 1\n") == []


@pytest.mark.parametrize("path", ["app/views.py", "app/templates/app/page.html", "app/templates/app/mail.txt"])
def test_one_entry_point_reads_a_files_noqa_comments_by_its_path(path: str) -> None:
    """A Python file's `# noqa` covers its flake8 token range (the lines of a multi-line
    string it ends), lines counted as Python counts them; a template's `{# noqa #}` covers
    its own line only, lines counted at `\n` alone, as Django counts them."""
    python = path.endswith(".py")
    string_range = 'x = """a\n{{ b }}"""  # noqa: OTO004\n'
    kept, suppressed = split_suppressed_in(path, [Finding(path, 1, 0, "OTO004", "m")], string_range)
    assert (len(kept), len(suppressed)) == ((0, 1) if python else (1, 0))
    lone_carriage_return = "{{ a }}\r{{ b }}\n{# noqa: OTO005 #}\n"  # line 2: Python's `{{ b }}`, Django's comment
    kept, suppressed = split_suppressed_in(path, [Finding(path, 2, 0, "OTO005", "m")], lone_carriage_return)
    assert (len(kept), len(suppressed)) == ((1, 0) if python else (0, 1))


def test_unused_directive_edits() -> None:
    text = (
        "a = 1  # noqa: OTO004\n"
        "b = 1  # noqa: E501,OTO004\n"
        "c = 1  # type: ignore  # noqa: OTO001\n"
        "d = 1  # noqa: OTO004 legacy\n"
        "e = 1  # noqa: OTO004, OTO100\n"
        "f = 1  # noqa: OTO004\n"
        "g = '# noqa: OTO004'\n"
    )
    used = Finding("f.py", 6, 0, "OTO004", "m")
    unused = unused_directives("f.py", text, [used], known={"OTO001", "OTO004"}, enabled={"OTO004"})
    assert [(u.line, u.message) for u in unused] == [
        (1, "Unused `noqa` directive (unused: `OTO004`)"),
        (2, "Unused `noqa` directive (unused: `OTO004`)"),
        (3, "Unused `noqa` directive (non-enabled: `OTO001`)"),
        (4, "Unused `noqa` directive (unused: `OTO004`)"),
    ]
    assert apply_line_edits(text, [edit for u in unused if u.fix for edit in u.fix.text_edits]) == (
        "a = 1\n"
        "b = 1  # noqa: E501\n"
        "c = 1  # type: ignore\n"
        "d = 1  # legacy\n"
        "e = 1  # noqa: OTO004, OTO100\n"
        "f = 1  # noqa: OTO004\n"
        "g = '# noqa: OTO004'\n"
    )


def test_add_noqa_function_on_an_untokenizable_text_skips() -> None:
    outcome = add_noqa('x = """\n', [Finding("f.py", 1, 0, "OTO004", "m")])
    assert outcome.text == 'x = """\n' and outcome.skipped == [(1, "the file cannot be tokenized")]


# -- OTO100 ------------------------------------------------------------------------------------------

STALE = '''\
def current(company):
    return company.invoice_set.count()  # noqa: OTO004


def converted(company):
    return company.invoice  # noqa: OTO004


def typo(company):
    return company.name  # noqa: OTO04, E501


def elsewhere(company):
    return company.name  # noqa: OTO002
'''


@pytest.mark.slow
def test_oto100_is_off_by_default_and_opt_in(tmp_path: Path) -> None:
    root = project(tmp_path, STALE)
    assert "OTO100" not in run_cli(".", cwd=root).stdout
    result = run_cli("--extend-select", "OTO100", "--ignore", "OTO001", ".", cwd=root)
    assert result.returncode == 1
    assert result.stdout.splitlines()[:3] == [
        "app/services.py:6:29: OTO100 Unused `noqa` directive (unused: `OTO004`)",
        "app/services.py:10:26: OTO100 Unused `noqa` directive (unknown: `OTO04`)",
        "app/services.py:14:26: OTO100 Unused `noqa` directive (unused: `OTO002`)",
    ]
    (root / "pyproject.toml").write_text('[tool.o2o-lint]\nextend-select = ["OTO100"]\nignore = ["OTO001"]\n')
    assert run_cli(".", cwd=root).stdout.count("OTO100") == 3
    only = run_cli("--select", "OTO100", ".", cwd=root)  # no other rule enabled: nothing is used
    assert "app/services.py:2:41: OTO100 Unused `noqa` directive (non-enabled: `OTO004`)" in only.stdout
    assert "OTO100" not in run_cli("--ignore", "OTO001,OTO100", ".", cwd=root).stdout


@pytest.mark.slow
def test_oto100_fix_diff_json_and_its_own_noqa(tmp_path: Path) -> None:
    root = project(tmp_path, STALE)
    args = ("--extend-select", "OTO100", "--ignore", "OTO001")
    rows = json.loads(run_cli(*args, "--output-format", "json", ".", cwd=root).stdout)
    assert rows[0]["code"] == "OTO100" and rows[0]["name"] == "unused-noqa"
    assert rows[0]["fix"]["edits"] == [{"content": "", "location": {"row": 6, "column": 27},
                                        "end_location": {"row": 6, "column": 43}}]
    diff = run_cli(*args, "--diff", ".", cwd=root)
    assert diff.returncode == 1
    assert "-    return company.name  # noqa: OTO04, E501\n+    return company.name  # noqa: E501\n" in diff.stdout
    fixed = run_cli(*args, "--fix", ".", cwd=root)
    assert "app/services.py: 3 × OTO100" in fixed.stdout
    assert fixed.returncode == 0, fixed.stdout
    assert (root / "app" / "services.py").read_text() == STALE.replace(
        "invoice  # noqa: OTO004", "invoice").replace("OTO04, E501", "E501").replace("name  # noqa: OTO002", "name")
    assert run_cli(*args, ".", cwd=root).returncode == 0
    (root / "app" / "services.py").write_text("def f(company):\n    return company.invoice  # noqa: OTO004,OTO100\n")
    assert run_cli(*args, ".", cwd=root).returncode == 0


def test_oto100_on_standard_input(tmp_path: Path) -> None:
    root = project(tmp_path, "")
    args = ("--extend-select", "OTO100", "-", "--stdin-filename", "app/services.py")
    check = run_cli(*args, cwd=root, stdin=STALE)
    assert check.stdout.count("OTO100") == 3
    fixed = run_cli("--fix", *args, cwd=root, stdin=STALE)
    assert "# noqa: OTO04" not in fixed.stdout and "count()  # noqa: OTO004\n" in fixed.stdout


def test_flake8_reports_oto100_as_the_cli_does(tmp_path: Path) -> None:
    from tests.test_frontends import flake8, flake8_rows, json_rows

    root = project(tmp_path, STALE)
    select = ("--select", "OTO001,OTO002,OTO003,OTO004,OTO100")
    cli_rows = json_rows(run_cli(*select, "--output-format", "json", "app/services.py", cwd=root))
    flake8_found = flake8_rows(flake8(root, *select, "app/services.py"))
    unused = [row for row in cli_rows if row[3] == "OTO100"]
    assert [row[1] for row in unused] == [6, 10, 14]
    # flake8 applies `# noqa` itself; OTO100 judges the findings before that, as the CLI does
    assert [row for row in flake8_found if row[3] == "OTO100"] == unused
    assert not [row for row in flake8(root, "--select", "OTO", "app/services.py").stdout.splitlines() if "OTO100" in row]
