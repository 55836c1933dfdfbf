"""The flake8 plugin on the shared findings cache: a warm run analyses nothing whatever the
files' ``# noqa`` comments, and reports what a fresh analysis would; with no OTO code
selected, the plugin does nothing at all.

Real subprocesses on a copy of the demo project (``tests/fixtures/demo``); what a run
loaded is read from ``sys.modules`` in the flake8 process itself, after it ends.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from o2o_lint.findings import Finding
from o2o_lint.result_cache import CacheEntry, CachedFinding, encode_findings
from tests.test_frontends import (
    DEMO_FINDINGS, FLAKE8_FORMAT, NOQA_CASES, Row, _annotate, _env, cli, copy_demo, flake8, flake8_rows, json_rows,
    located,
)

#: flake8 in this process, then which of o2o-lint's costly parts it loaded.
_LOADED = (
    "import sys\n"
    "from flake8.main.cli import main\n"
    "status = main(['--isolated', '--format=" + FLAKE8_FORMAT.replace("\t", "\\t") + "', *sys.argv[1:], '.'])\n"
    "print(' '.join(name for name in ('libcst', 'o2o_lint.engine', 'o2o_lint.index.model') if name in sys.modules)"
    " or 'NOTHING')\n"
)

#: A finding `# noqa` suppresses, one it does not (another code), and an unused directive.
_NOQA_FILE = (
    "def total(company):\n"
    "    return company.invoice_set.count()  # noqa: OTO004\n"
    "\n"
    "\n"
    "def first(company):\n"
    "    return company.invoice_set.first()  # noqa: E501\n"
    "\n"
    "\n"
    "def name(company):\n"
    "    return company.name  # noqa: OTO002\n"
)


def _flake8_loading(root: Path, *args: str) -> tuple[list[Row], str]:
    result = subprocess.run([sys.executable, "-c", _LOADED, *args], cwd=root, capture_output=True, text=True,
                            env=_env(), timeout=300)
    assert result.returncode == 0, result.stderr
    *lines, loaded = result.stdout.splitlines()
    return flake8_rows(subprocess.CompletedProcess(result.args, 1, "\n".join(lines), result.stderr)), loaded


def _noqa_demo(tmp_path: Path) -> Path:
    """The demo with `# noqa` comments (some suppressing, some not) and OTO100 enabled."""
    root = copy_demo(tmp_path)
    for relative, line, comment, _ in NOQA_CASES:
        _annotate(root, relative, line, comment)
    (root / "companies" / "totals.py").write_text(_NOQA_FILE)
    with open(root / "setup.cfg", "a") as config:
        config.write("extend-select = OTO100\n")
    # excluded by default (migrations record history): never analysed, warm or cold
    (root / "companies" / "migrations").mkdir()
    (root / "companies" / "migrations" / "__init__.py").write_text("")
    (root / "companies" / "migrations" / "0001_initial.py").write_text(
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    operations = []\n")
    return root


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_warm_flake8_run_analyses_no_file_whatever_its_noqa_comments(tmp_path: Path, jobs: str) -> None:
    """After a CLI run (or a flake8 run), flake8 reports from the cache alone, even for the
    files with `# noqa` comments: no LibCST, no engine, no index; its findings are those
    of a fresh analysis (flake8 applying `# noqa` itself), and with ``--disable-noqa`` it
    reports what `# noqa` suppressed, as a run without cache does."""
    root = _noqa_demo(tmp_path)
    fresh = json_rows(cli(root, "--format", "json", "--no-cache", "."))
    suppressed = {(f, line) for f, line, _, ok in NOQA_CASES if ok}
    assert [row for row in located(fresh) if row[0] != "companies/totals.py"] == [
        f for f in DEMO_FINDINGS if (f[0], f[1]) not in suppressed]
    totals = [row[1:4] for row in fresh if row[0] == "companies/totals.py"]
    assert totals == [(6, 12, "OTO004"), (10, 26, "OTO100")]  # line 2's OTO004 suppressed, its noqa used

    shutil.rmtree(root / ".o2o-lint-cache", ignore_errors=True)
    unfiltered, loaded = _flake8_loading(root, "--select", "OTO", "-j", jobs, "--disable-noqa")
    assert loaded != "NOTHING"  # cold: analyses
    assert ("companies/totals.py", 2, 12, "OTO004") in [row[:4] for row in unfiltered]
    unfiltered_cold = (unfiltered, "NOTHING")
    assert _flake8_loading(root, "--select", "OTO", "-j", jobs, "--disable-noqa") == unfiltered_cold  # warm

    shutil.rmtree(root / ".o2o-lint-cache")
    assert json_rows(cli(root, "--format", "json", ".")) == fresh  # fills the cache
    assert _flake8_loading(root, "--select", "OTO", "-j", jobs) == (fresh, "NOTHING")
    assert _flake8_loading(root, "--select", "OTO", "-j", jobs, "--disable-noqa") == unfiltered_cold
    assert json_rows(cli(root, "--format", "json", ".")) == fresh


def test_a_fix_runs_entry_for_a_file_with_noqa_is_analysed_again_under_flake8(tmp_path: Path) -> None:
    """``--fix`` applies `# noqa` inside its fix loop: its entries do not know what `# noqa`
    suppressed, so flake8 analyses such a file again (and reports what a fresh run does)."""
    root = _noqa_demo(tmp_path)
    for _ in range(2):  # the second run writes nothing: every entry is one of a fix run
        assert cli(root, "--fix", ".").returncode in (0, 1)
    assert "# noqa: OTO002" not in (root / "companies" / "totals.py").read_text()  # OTO100's fix
    assert "# noqa: OTO004" in (root / "companies" / "totals.py").read_text()
    expected = json_rows(cli(root, "--format", "json", "--no-cache", "."))
    rows, loaded = _flake8_loading(root, "--select", "OTO", "-j", "1")
    assert rows == expected
    assert "libcst" in loaded.split()  # a file with `noqa` (and an entry of the fix run) analysed
    rows, loaded = _flake8_loading(root, "--select", "OTO", "-j", "1")
    assert (rows, loaded) == (expected, "NOTHING")  # which flake8 then stored with what `# noqa` suppressed


@pytest.mark.parametrize("selection", [["--select", "E999"], ["--extend-ignore", "OTO"]], ids=["select", "ignore"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_no_oto_code_selected_costs_nothing(tmp_path: Path, selection: list[str], jobs: str) -> None:
    """flake8 reporting no OTO code: the plugin builds no index, imports neither the engine
    nor LibCST, and writes no cache, cold or with a cache another run left."""
    root = _noqa_demo(tmp_path)
    rows, loaded = _flake8_loading(root, "-j", jobs, *selection)
    assert loaded == "NOTHING"
    assert not [row for row in rows if row[3].startswith("OTO")]
    assert not (root / ".o2o-lint-cache").exists()
    assert _flake8_loading(root, "-j", jobs, "--select", "OTO")[1] != "NOTHING"  # the same tree, selected
    cache = sorted(path.name for path in (root / ".o2o-lint-cache").rglob("*"))
    assert cache
    assert _flake8_loading(root, "-j", jobs, *selection)[1] == "NOTHING"
    assert sorted(path.name for path in (root / ".o2o-lint-cache").rglob("*")) == cache


# -- the cache entry -----------------------------------------------------------------------


def _finding(line: int, code: str) -> Finding:
    return Finding("app/x.py", line, 4, code, f"message {line}")


def test_an_entry_keeps_what_noqa_suppressed_apart() -> None:
    kept = encode_findings([_finding(3, "OTO004"), _finding(9, "OTO100")])
    suppressed = encode_findings([_finding(5, "OTO004")])
    entry = CacheEntry([1, 2, 3], "hash", kept, (), "", suppressed)
    again = CacheEntry.from_stored(entry.stored())
    assert again == entry
    assert again is not None and [item.line for item in again.before_noqa or []] == [3, 5, 9]
    assert CacheEntry([1], "h", kept, (), "", []).before_noqa == kept  # no `# noqa` comment: nothing apart
    assert CacheEntry([1], "h", kept).before_noqa is None  # not known
    assert CacheEntry.from_stored(CacheEntry([1], "h", kept).stored()) == CacheEntry([1], "h", kept)


@pytest.mark.parametrize("stored", [
    [[1], "h", []],  # the layout before the suppressed findings were kept
    [[1], "h", [], ["a.py"], "digest"],
    [[1], "h", [], [], "", "not a list"],
    [[1], "h", [], [], "", [("too", "short")]],
])
def test_an_entry_of_another_shape_is_ignored(stored: list) -> None:
    assert CacheEntry.from_stored(stored) is None


def test_cached_findings_round_trip_their_fields() -> None:
    finding = CachedFinding(1, 2, "OTO001", "m", 1, 5, True, "d")
    assert CacheEntry.from_stored(CacheEntry([1], "h", [], (), "", [finding]).stored()).suppressed == [finding]


def _python_rows(rows: list[Row]) -> list[Row]:
    """The rows of Python files: flake8 never hands the plugin a template."""
    return [row for row in rows if row[0].endswith(".py")]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_warm_flake8_run_on_a_project_with_templates_builds_no_index(tmp_path: Path, jobs: str) -> None:
    """The templates of a project never get an entry from flake8, which hands the plugin
    Python files only: the second run still answers every file from the cache (no index,
    no LibCST). A Python file's findings that read a template are analysed again when
    the template changes, and flake8 reports what a fresh CLI run does."""
    root = copy_demo(tmp_path)
    template = root / "companies" / "templates" / "companies" / "company.html"
    template.parent.mkdir(parents=True)
    template.write_text("{{ company.name }}\n{% for a in company.address_set.all %}{{ a }}{% endfor %}\n")
    fresh = json_rows(cli(root, "--format", "json", "--no-cache", "."))
    assert ("companies/templates/companies/company.html", 2, 21, "OTO004") in [row[:4] for row in fresh]
    assert ("companies/models.py", 28, 15, "OTO001") in [row[:4] for row in fresh]

    cold, loaded = _flake8_loading(root, "--select", "OTO", "-j", jobs)
    assert (cold, loaded != "NOTHING") == (_python_rows(fresh), True)
    assert _flake8_loading(root, "--select", "OTO", "-j", jobs) == (cold, "NOTHING")

    template.write_text("{{ company.name }}\n")  # OTO001's fix of Address.company becomes safe
    changed = _python_rows(json_rows(cli(root, "--format", "json", "--no-cache", ".")))
    assert changed != cold
    rows, loaded = _flake8_loading(root, "--select", "OTO", "-j", jobs)
    assert (rows, loaded != "NOTHING") == (changed, True)
    assert _flake8_loading(root, "--select", "OTO", "-j", jobs) == (changed, "NOTHING")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_flake8_leaves_out_what_the_project_excludes_as_the_cli_does(tmp_path: Path, jobs: str) -> None:
    """Excludes by path and by name, cold and warm, the tree or the excluded files named
    themselves: flake8 reports the CLI's findings, none in an excluded file."""
    root = copy_demo(tmp_path)
    legacy = root / "companies" / "legacy"
    legacy.mkdir()
    (legacy / "__init__.py").write_text("")
    shutil.copy(root / "companies" / "services.py", legacy / "services.py")
    shutil.copy(root / "places" / "services.py", root / "places" / "generated_services.py")
    with open(root / "setup.cfg", "a") as config:
        config.write("extend-exclude = companies/legacy, generated_*.py\n")
    fresh = json_rows(cli(root, "--format", "json", "--no-cache", "."))
    assert located(fresh) == DEMO_FINDINGS  # the copies are not checked
    cold, loaded = _flake8_loading(root, "--select", "OTO", "-j", jobs)
    assert (cold, loaded != "NOTHING") == (fresh, True)
    assert _flake8_loading(root, "--select", "OTO", "-j", jobs) == (fresh, "NOTHING")
    named = ["companies/legacy/services.py", "places/generated_services.py"]
    assert flake8_rows(flake8(root, "--select", "OTO", "-j", jobs, *named)) == []
