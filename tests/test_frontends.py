"""The three ways in agree: ``o2o-lint``, ``python -m o2o_lint`` and ``flake8 --select OTO``.

Everything runs as a real subprocess on a copy of the bundled demo project
(``tests/fixtures/demo``): the console script installed in the environment, the module,
and flake8 with the plugin found through its ``flake8.extension`` entry point, serially
and under ``-j 2``. Findings are compared as (path, line, column, code, message), with
1-based columns as both print them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, REPO

DEMO = FIXTURES / "demo"
CONSOLE_SCRIPT = Path(sys.executable).with_name("o2o-lint")
FLAKE8_FORMAT = "%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s"

Row = tuple[str, int, int, str, str]

#: The demo's OTO001/OTO004 findings; parity below is never parity of nothing. The demo
#: also holds OTO002/OTO003 traps: parity covers every OTO code the installed rules emit,
#: the exact expectations only these two.
PINNED = ("OTO001", "OTO004")
PINNED_SELECT = "OTO001,OTO004"
DEMO_FINDINGS = [
    ("accounts/models.py", 18, 12, "OTO001"),
    ("accounts/services.py", 31, 12, "OTO004"),
    ("companies/models.py", 28, 15, "OTO001"),
    ("companies/models.py", 55, 15, "OTO001"),
    ("companies/services.py", 29, 15, "OTO004"),
    ("companies/services.py", 31, 19, "OTO004"),
    ("companies/services.py", 45, 55, "OTO004"),
    ("companies/services.py", 46, 57, "OTO004"),
    ("companies/views.py", 19, 32, "OTO004"),
    ("library/models.py", 24, 14, "OTO001"),
]


def _env() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1"}


def copy_demo(tmp_path: Path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns(".o2o-lint-cache", "__pycache__", "*.sqlite3"))
    return target


def cli(root: Path, *args: str, module: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "o2o_lint"] if module else [str(CONSOLE_SCRIPT)]
    return subprocess.run([*command, *args], cwd=root, capture_output=True, text=True, env=_env(), timeout=300)


def flake8(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # --isolated: no configuration file of the developer's or of this repository applies.
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", f"--format={FLAKE8_FORMAT}", *args],
        cwd=root, capture_output=True, text=True, env=_env(), timeout=300,
    )


def _norm(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


def json_rows(result: subprocess.CompletedProcess[str]) -> list[Row]:
    assert result.returncode in (0, 1), result.stderr
    return sorted((_norm(f["path"]), f["line"], f["column"], f["code"], f["message"]) for f in json.loads(result.stdout))


def flake8_rows(result: subprocess.CompletedProcess[str]) -> list[Row]:
    assert result.returncode in (0, 1), result.stderr
    rows = []
    for line in result.stdout.splitlines():
        path, row, col, code, text = line.split("\t", 4)
        rows.append((_norm(path), int(row), int(col), code, text))
    return sorted(rows)


def text_rows(result: subprocess.CompletedProcess[str]) -> list[Row]:
    """Findings of the CLI's text format (``path:line:col: CODE message``)."""
    rows = []
    for line in result.stdout.splitlines():
        head, sep, rest = line.partition(": OTO")
        if not sep:
            continue
        path, row, col = head.rsplit(":", 2)
        code, _, message = ("OTO" + rest).partition(" ")
        rows.append((_norm(path), int(row), int(col), code, message))
    return sorted(rows)


def located(rows: list[Row], codes: tuple[str, ...] = PINNED) -> list[tuple[str, int, int, str]]:
    return [row[:4] for row in rows if row[3] in codes]


def tree_state(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".o2o-lint-cache" not in path.parts
    }


# -- parity -------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_module_and_flake8_report_the_same_findings_on_the_demo(tmp_path: Path) -> None:
    root = copy_demo(tmp_path)
    from_json = json_rows(cli(root, "--format", "json", "."))
    assert located(from_json) == DEMO_FINDINGS
    assert json_rows(cli(root, "--format", "json", ".", module=True)) == from_json
    assert json_rows(cli(root, "--format", "json", "--jobs", "2", ".")) == from_json
    assert text_rows(cli(root, ".")) == from_json
    assert flake8_rows(flake8(root, "--select", "OTO", ".")) == from_json
    assert flake8_rows(flake8(root, "--select", "OTO", "-j", "2", ".")) == from_json


@pytest.mark.slow
def test_flake8_from_a_cold_start_builds_the_same_index(tmp_path: Path) -> None:
    """No cache written by an earlier CLI run: flake8 -j 2 builds the index itself."""
    root = copy_demo(tmp_path)
    first = flake8_rows(flake8(root, "--select", "OTO", "-j", "2", "."))
    assert located(first) == DEMO_FINDINGS
    assert json_rows(cli(root, "--format", "json", "--no-cache", ".")) == first


_LOADED = (
    "import sys\n"
    "from flake8.main.cli import main\n"
    "status = main(['--isolated', '--select', 'OTO', '--format=" + FLAKE8_FORMAT.replace("\t", "\\t") + "', *sys.argv[1:], '.'])\n"
    "print('LIBCST' if 'libcst' in sys.modules else 'NO-LIBCST')\n"
)
_CLI_LOADED = (
    "import sys\n"
    "from o2o_lint import cli\n"
    "cli.main(['--output-format', 'concise', '.'])\n"
    "print('LIBCST' if 'libcst' in sys.modules else 'NO-LIBCST')\n"
)
#: A finding on a line with a `# noqa` for another code: flake8 must still report it (from
#: the cache, which keeps what `# noqa` suppressed apart from the rest).
_NOQA_FILE = "def total(company):\n    return company.invoice_set.count()  # noqa: E501\n"


def _flake8_loading(root: Path, *args: str) -> tuple[list[Row], str]:
    result = subprocess.run([sys.executable, "-c", _LOADED, *args], cwd=root, capture_output=True, text=True,
                            env=_env(), timeout=300)
    *lines, loaded = result.stdout.splitlines()
    return flake8_rows(subprocess.CompletedProcess(result.args, 1, "\n".join(lines), result.stderr)), loaded


def _cli_loading(root: Path) -> tuple[list[Row], str]:
    result = subprocess.run([sys.executable, "-c", _CLI_LOADED], cwd=root, capture_output=True, text=True,
                            env=_env(), timeout=300)
    *lines, loaded = result.stdout.splitlines()
    return text_rows(subprocess.CompletedProcess(result.args, 1, "\n".join(lines), result.stderr)), loaded


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_cli_and_flake8_share_their_findings_cache(tmp_path: Path, jobs: str) -> None:
    """A CLI run followed by flake8 pays nothing twice, and the other way round: the second
    one analyses nothing and never imports LibCST, and reports the same findings (concise:
flake8 computes no JSON fix edits), a file
    with a `# noqa` comment included (flake8 applies `# noqa` itself)."""
    root = copy_demo(tmp_path)
    expected = json_rows(cli(root, "--format", "json", "--no-cache", "."))
    assert located(expected) == DEMO_FINDINGS
    cli_first, loaded = _cli_loading(root)
    assert (cli_first, loaded) == (expected, "LIBCST")
    assert _flake8_loading(root, "-j", jobs) == (expected, "NO-LIBCST")
    shutil.rmtree(root / ".o2o-lint-cache")
    # with -j 2 flake8's workers analyse the files (and load LibCST); its main process only
    # builds the index, which needs no LibCST
    assert _flake8_loading(root, "-j", jobs) == (expected, "LIBCST" if jobs == "1" else "NO-LIBCST")
    assert _cli_loading(root) == (expected, "NO-LIBCST")
    assert _flake8_loading(root, "-j", jobs) == (expected, "NO-LIBCST")
    (root / "companies" / "totals.py").write_text(_NOQA_FILE)
    with_noqa = json_rows(cli(root, "--format", "json", "--no-cache", "."))
    assert ("companies/totals.py", 2, 12, "OTO004") in [row[:4] for row in with_noqa]
    assert _cli_loading(root) == (with_noqa, "LIBCST")
    assert _flake8_loading(root, "-j", jobs) == (with_noqa, "NO-LIBCST")


@pytest.mark.slow
def test_text_and_module_output_are_byte_identical(tmp_path: Path) -> None:
    root = copy_demo(tmp_path)
    script, module = cli(root, "."), cli(root, ".", module=True)
    assert (script.returncode, script.stdout, script.stderr) == (module.returncode, module.stdout, module.stderr)
    pinned = cli(root, "--select", PINNED_SELECT, ".")
    summary = pinned.stdout.splitlines()[-1]
    assert summary.startswith("Found 10 findings in 22 files checked (2 fixable with --fix, 2 more with --fix --unsafe-fixes")


def test_readme_command_from_the_repository_root() -> None:
    """``o2o-lint tests/fixtures/demo`` run from the repository root (the README's first
    command): the demo's own ``setup.cfg`` applies, not the repository's excludes."""
    result = cli(REPO, "--no-cache", "tests/fixtures/demo")
    assert result.returncode == 1, result.stdout + result.stderr
    prefix = "tests/fixtures/demo/"
    rows = text_rows(result)
    assert [(p.removeprefix(prefix), *rest) for p, *rest in located(rows)] == DEMO_FINDINGS
    assert all(p.startswith(prefix) for p, *_ in rows)


@pytest.mark.slow
def test_paths_given_from_a_parent_directory(tmp_path: Path) -> None:
    copy_demo(tmp_path)
    rows = json_rows(cli(tmp_path, "--format", "json", "demo"))
    assert [(p.removeprefix("demo/"), *rest) for p, *rest in located(rows)] == DEMO_FINDINGS
    assert all(p.startswith("demo/") for p, *_ in rows)
    assert flake8_rows(flake8(tmp_path, "--select", "OTO", "demo")) == rows


def test_flake8_without_oto_selected_builds_nothing(tmp_path: Path) -> None:
    """``flake8 --select E999``: the plugin builds no index and writes no cache; with
    ``--select OTO`` on the same tree it reports as before (and writes its cache)."""
    root = copy_demo(tmp_path)
    for args in (["--select", "E999"], ["--extend-ignore", "OTO"], ["--select", "E,OTO", "--ignore", "OTO"]):
        result = flake8(root, *args, ".")
        assert result.returncode in (0, 1), result.stderr
        assert not any(row[3].startswith("OTO") for row in flake8_rows(result)), args
        assert not (root / ".o2o-lint-cache").exists(), args
    script = (
        "import sys\n"
        "from flake8.main.cli import main\n"
        "status = main(['--isolated', '--select', 'E999', '.'])\n"
        "print('LIBCST' if 'libcst' in sys.modules else 'NO-LIBCST', status)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300)
    assert result.stdout.splitlines()[-1] == "NO-LIBCST 0", result.stderr
    assert not (root / ".o2o-lint-cache").exists()
    rows = flake8_rows(flake8(root, "--select", "OTO", "."))
    assert located(rows) == DEMO_FINDINGS
    assert (root / ".o2o-lint-cache").is_dir()


@pytest.mark.parametrize(
    ("select", "extend_select", "ignore", "extend_ignore", "default_select", "reports"),
    [
        (["E999"], None, None, None, ["OTO"], False),
        (None, None, None, ["OTO"], ["OTO"], False),
        (None, None, None, None, ["OTO"], True),  # flake8's default: every plugin's codes
        (["E999"], ["OTO004"], None, None, ["OTO"], True),
        (["OTO"], None, ["OTO0"], None, ["OTO"], True),  # OTO100 is still reported
        (["OTO"], None, ["OTO0", "OTO1"], None, ["OTO"], False),
        (["OTO001"], None, ["OTO0", "OTO1"], None, ["OTO"], True),  # the longer code wins
        (["OTO000"], None, None, None, ["OTO"], True),  # unparsable files still reported
    ],
)
def test_plugin_decides_from_flake8s_options_whether_to_run(
    select: list[str] | None, extend_select: list[str] | None, ignore: list[str] | None,
    extend_ignore: list[str] | None, default_select: list[str], reports: bool,
) -> None:
    import argparse

    from o2o_lint.flake8_plugin import O2OLintPlugin

    options = argparse.Namespace(
        select=select, extend_select=extend_select, ignore=ignore, extend_ignore=extend_ignore,
        extended_default_select=default_select, extended_default_ignore=[],
    )
    assert O2OLintPlugin.reports_oto(options) is reports


def test_plugin_does_no_work_when_no_oto_code_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse
    import ast

    from o2o_lint import flake8_plugin
    from o2o_lint.flake8_plugin import O2OLintPlugin

    built: list[object] = []
    monkeypatch.setattr(flake8_plugin, "Project", lambda *args, **kwargs: built.append(args))
    root = copy_demo(tmp_path)
    options = argparse.Namespace(
        select=["E999"], extend_select=None, ignore=None, extend_ignore=None,
        extended_default_select=["OTO"], extended_default_ignore=[], filenames=[str(root)],
    )
    try:
        O2OLintPlugin.parse_options(options)
        path = root / "companies" / "services.py"
        source = path.read_text()
        plugin = O2OLintPlugin(ast.parse(source), source.splitlines(keepends=True), str(path))
        assert list(plugin.run()) == []
        assert built == []
        assert not (root / ".o2o-lint-cache").exists()
    finally:
        O2OLintPlugin._reporting = True


@pytest.mark.slow
@pytest.mark.parametrize(
    ("cli_args", "flake8_args", "codes"),
    [
        (["--select", "OTO004"], ["--select", "OTO004"], {"OTO004"}),
        (["--ignore", "OTO004"], ["--select", "OTO", "--ignore", "OTO004"], None),
        (["--select", "OTO001", "--ignore", "OTO0"], ["--select", "OTO001", "--ignore", "OTO0"], {"OTO001"}),
        (["--select", "OTO", "--ignore", "OTO0"], ["--select", "OTO", "--ignore", "OTO0"], set()),
    ],
    ids=["select", "ignore", "longer-select-wins", "ignore-all"],
)
def test_select_and_ignore_match_flake8(
    tmp_path: Path, cli_args: list[str], flake8_args: list[str], codes: set[str] | None
) -> None:
    root = copy_demo(tmp_path)
    result = cli(root, "--format", "json", *cli_args, ".")
    rows = json_rows(result)
    if codes is None:  # everything but OTO004, whatever other rules exist
        assert "OTO004" not in {row[3] for row in rows}
        assert located(rows) == [f for f in DEMO_FINDINGS if f[3] != "OTO004"]
    else:
        assert {row[3] for row in rows} == codes
        assert located(rows) == [f for f in DEMO_FINDINGS if f[3] in codes]
    assert result.returncode == (1 if rows else 0)
    assert flake8_rows(flake8(root, *flake8_args, ".")) == rows


# -- noqa ---------------------------------------------------------------------------------


def _annotate(root: Path, relative: str, line: int, comment: str) -> None:
    path = root / relative
    lines = path.read_text().splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].rstrip("\n") + f"  {comment}\n"
    path.write_text("".join(lines))


NOQA_CASES = [
    # (file, line, comment, suppressed?)
    ("accounts/models.py", 18, "# noqa", True),
    ("companies/models.py", 55, "# noqa: OTO001", True),
    ("library/models.py", 24, "# noqa: E501", False),
    ("companies/services.py", 29, "# noqa: OTO001", False),  # an OTO004 finding
    ("companies/services.py", 31, "# noqa:OTO", True),  # a prefix, as flake8 allows
    ("companies/services.py", 45, "# NOQA:E501,OTO004", True),
    ("companies/views.py", 19, "# noqa: oto004", False),  # codes are case-sensitive in flake8
    # The Address field spans lines 28-34; the finding is on line 28, the comment on 33.
    ("companies/models.py", 33, "# noqa: OTO001", False),
]


@pytest.mark.slow
def test_noqa_suppresses_exactly_as_flake8_does(tmp_path: Path) -> None:
    root = copy_demo(tmp_path)
    for relative, line, comment, _ in NOQA_CASES:
        _annotate(root, relative, line, comment)
    rows = json_rows(cli(root, "--format", "json", "."))
    suppressed = {(f, line) for f, line, _, ok in NOQA_CASES if ok}
    assert located(rows) == [f for f in DEMO_FINDINGS if (f[0], f[1]) not in suppressed]
    assert flake8_rows(flake8(root, "--select", "OTO", ".")) == rows
    assert flake8_rows(flake8(root, "--select", "OTO", "-j", "2", ".")) == rows


def test_fix_leaves_a_noqa_suppressed_finding_alone(tmp_path: Path) -> None:
    """A suppressed finding is not fixed: ``# noqa: OTO001`` keeps the ForeignKey."""
    root = copy_demo(tmp_path)
    _annotate(root, "accounts/models.py", 18, "# noqa: OTO001")
    result = cli(root, "--select", PINNED_SELECT, "--fix", ".")
    assert "Fixed 1 finding." in result.stdout
    assert "models.ForeignKey(settings.AUTH_USER_MODEL" in (root / "accounts/models.py").read_text()
    assert "models.OneToOneField(\n        Company," in (root / "companies/models.py").read_text()


@pytest.mark.slow
def test_file_level_flake8_noqa_matches(tmp_path: Path) -> None:
    root = copy_demo(tmp_path)
    path = root / "companies" / "services.py"
    path.write_text("# flake8: noqa\n" + path.read_text())
    rows = json_rows(cli(root, "--format", "json", "."))
    assert not [r for r in rows if r[0] == "companies/services.py"]
    assert flake8_rows(flake8(root, "--select", "OTO", ".")) == rows


CONTINUATIONS = '''\
from companies.models import Company


def by_backslash(company):
    return company.invoice_set \\
        .all()  # noqa: OTO004


def in_a_multiline_string(company):
    return company.invoice_set.filter(number="""INV
-1""")  # noqa: OTO004
'''


def test_noqa_after_a_continued_line_matches_flake8(tmp_path: Path) -> None:
    """flake8 reads noqa for a backslash-continued line or a multi-line string from the
    whole span (``FileProcessor._noqa_line_mapping``); the CLI must suppress the same."""
    root = copy_demo(tmp_path)
    (root / "companies" / "continued.py").write_text(CONTINUATIONS)
    from_flake8 = flake8_rows(flake8(root, "--select", "OTO", "companies/continued.py"))
    assert from_flake8 == []  # both findings suppressed by flake8
    from_cli = json_rows(cli(root, "--format", "json", "companies/continued.py"))
    assert from_cli == from_flake8


# -- standard input (editors) --------------------------------------------------------------


def cli_stdin(root: Path, buffer: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CONSOLE_SCRIPT), "--format", "json", "-", *args],
                          cwd=root, input=buffer, capture_output=True, text=True, env=_env(), timeout=300)


def flake8_stdin(root: Path, buffer: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", f"--format={FLAKE8_FORMAT}", "--select", "OTO", *args, "-"],
        cwd=root, input=buffer, capture_output=True, text=True, env=_env(), timeout=300,
    )


#: places/models.py as an editor holds it before saving: Waiter.restaurant made unique.
def _unique_waiter_buffer(root: Path) -> str:
    text = (root / "places" / "models.py").read_text()
    old = "restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE)"
    assert old in text
    return text.replace(old, "restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, unique=True)")


@pytest.mark.slow
def test_stdin_buffer_with_a_new_manager_use_matches_flake8(tmp_path: Path) -> None:
    """An editor sends its unsaved buffer: ``- --stdin-filename`` / ``--stdin-display-name``.

    The buffer adds a use of ``company.invoice_set`` that the file on disk does not have
    yet; both front ends must judge the buffer, not the file on disk.
    """
    root = copy_demo(tmp_path)
    buffer = (root / "places" / "services.py").read_text() + (
        "\n\ndef bills(company):\n    return company.invoice_set.count()\n"
    )
    rows = json_rows(cli_stdin(root, buffer, "--stdin-filename", "places/services.py"))
    assert located(rows) == [("places/services.py", buffer.count("\n"), 12, "OTO004")]
    assert flake8_rows(flake8_stdin(root, buffer, "--stdin-display-name", "places/services.py")) == rows


@pytest.mark.slow
def test_stdin_buffer_that_makes_a_field_unique_matches_flake8(tmp_path: Path) -> None:
    """Same, for OTO001: the buffer (not the file on disk) has ``unique=True``."""
    root = copy_demo(tmp_path)
    buffer = _unique_waiter_buffer(root)
    rows = json_rows(cli_stdin(root, buffer, "--stdin-filename", "places/models.py"))
    assert located(rows, ("OTO001",)) == [("places/models.py", 28, 18, "OTO001")]
    assert flake8_rows(flake8_stdin(root, buffer, "--stdin-display-name", "places/models.py")) == rows


@pytest.mark.slow
@pytest.mark.parametrize("name", [None, "places/new_models.py"], ids=["no-name", "new-file"])
def test_stdin_buffer_of_a_file_not_on_disk_is_checked(tmp_path: Path, name: str | None) -> None:
    """A self-contained models module that exists only in the editor is still a Django
    model module: the same text saved to disk is reported (checked below)."""
    root = copy_demo(tmp_path)
    buffer = _unique_waiter_buffer(root)
    (root / "places" / "saved_models.py").write_text(buffer)
    on_disk = json_rows(cli(root, "--format", "json", "--select", "OTO001", "places/saved_models.py"))
    assert [r[1:4] for r in on_disk] == [(28, 18, "OTO001")]
    (root / "places" / "saved_models.py").unlink()

    cli_args = ("--stdin-filename", name) if name else ()
    flake8_args = ("--stdin-display-name", name) if name else ()
    from_cli = json_rows(cli_stdin(root, buffer, "--select", "OTO001", *cli_args))
    assert [r[1:4] for r in from_cli] == [(28, 18, "OTO001")]
    from_flake8 = flake8_rows(flake8_stdin(root, buffer, *flake8_args))
    assert [r[1:4] for r in from_flake8 if r[3] == "OTO001"] == [(28, 18, "OTO001")]


# -- exit codes, --diff, excludes ---------------------------------------------------------


@pytest.mark.slow
def test_exit_codes(tmp_path: Path) -> None:
    root = copy_demo(tmp_path)
    clean = cli(root, "demo")  # settings, urls
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.startswith("All clear: no findings in 3 files")
    assert cli(root, "--select", PINNED_SELECT, "places").returncode == 0
    assert cli(root, ".").returncode == 1
    assert cli(root, "--select", "OTO001", "library").returncode == 1
    for usage_error in (
        ["--format", "xml", "."],
        ["--fix", "--diff", "."],
        ["--target-version", "five", "."],
        ["--no-such-option", "."],
        ["-", "."],
    ):
        result = cli(root, *usage_error)
        assert result.returncode == 2, (usage_error, result.stdout, result.stderr)
        assert result.stderr.strip(), usage_error
    (root / "setup.cfg").write_text("[o2o-lint]\nno-such-key = 1\n")
    bad_config = cli(root, ".")
    assert bad_config.returncode == 2
    assert "unknown configuration key 'no-such-key'" in bad_config.stderr


@pytest.mark.slow
def test_flake8_exit_codes(tmp_path: Path) -> None:
    root = copy_demo(tmp_path)
    assert flake8(root, "--select", "OTO", "demo").returncode == 0
    assert flake8(root, "--select", PINNED_SELECT, "places").returncode == 0
    assert flake8(root, "--select", "OTO", ".").returncode == 1


@pytest.mark.slow
def test_diff_writes_nothing_and_matches_fix(tmp_path: Path) -> None:
    root = copy_demo(tmp_path)
    before = tree_state(root)
    diff = cli(root, "--select", PINNED_SELECT, "--diff", ".")
    assert diff.returncode == 1, diff.stderr
    assert tree_state(root) == before
    assert diff.stdout.count("\n--- a/") + diff.stdout.startswith("--- a/") == 2
    assert "--- a/accounts/models.py\n+++ b/accounts/models.py\n" in diff.stdout
    assert "--- a/companies/models.py\n+++ b/companies/models.py\n" in diff.stdout
    assert "+    company = models.OneToOneField(\n" in diff.stdout
    assert "2 file(s) would be changed by --fix." in diff.stderr
    unsafe_diff = cli(root, "--select", PINNED_SELECT, "--diff", "--unsafe-fixes", ".")
    assert tree_state(root) == before
    assert "--- a/library/models.py\n" in unsafe_diff.stdout

    # Applying the printed diff gives exactly what --fix writes.
    patched = tmp_path / "patched"
    shutil.copytree(root, patched, ignore=shutil.ignore_patterns(".o2o-lint-cache"))
    applied = subprocess.run(["git", "apply", "-p1", "-"], input=diff.stdout, cwd=patched,
                             capture_output=True, text=True, timeout=300)
    assert applied.returncode == 0, applied.stderr
    fixed = cli(root, "--select", PINNED_SELECT, "--fix", ".")
    assert "Fixed 2 findings." in fixed.stdout
    assert {k: v[0] for k, v in tree_state(patched).items()} == {k: v[0] for k, v in tree_state(root).items()}


MIGRATION = '''\
import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    Company = apps.get_model("companies", "Company")
    for company in Company.objects.all():
        company.invoice_set.all()


class Migration(migrations.Migration):

    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Address",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("company", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to="companies.company", unique=True)),
            ],
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
'''


@pytest.mark.slow
def test_migrations_are_excluded_by_default(tmp_path: Path) -> None:
    root = copy_demo(tmp_path)
    migrations = root / "companies" / "migrations"
    migrations.mkdir()
    (migrations / "__init__.py").write_text("")
    (migrations / "0001_initial.py").write_text(MIGRATION)
    before = tree_state(root)

    rows = json_rows(cli(root, "--format", "json", "."))
    assert located(rows) == DEMO_FINDINGS
    # Named explicitly (as pre-commit does), still excluded.
    named = cli(root, "companies/migrations/0001_initial.py")
    assert named.returncode == 0, named.stdout
    assert "OTO" not in named.stdout
    # --fix leaves history alone.
    cli(root, "--fix", "--unsafe-fixes", ".")
    assert (migrations / "0001_initial.py").read_bytes() == before["companies/migrations/0001_initial.py"][0]
    # flake8 does look at the file; the plugin recognises a migration and stays silent.
    from_flake8 = flake8_rows(flake8(root, "--select", "OTO", "companies/migrations"))
    assert from_flake8 == []
