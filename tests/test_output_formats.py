"""--output-format, -o, --statistics, the --fix summary and the progress bar, as users see
them: every test runs the real command, terminal output under a pseudo-terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import pytest

from o2o_lint import __version__
from o2o_lint.edits import apply_edits
from tests.helpers import REPO, run_cli, write_project

MODELS = (
    "from django.db import models\n\n"
    "class Company(models.Model):\n    pass\n\n"
    "class Address(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n\n"
    "class Invoice(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"
)
USES = "def count(company):\n    return company.invoice_set.count()\n"
SARIF_SCHEMA = REPO / "tests" / "schemas" / "sarif-schema-2.1.0.json"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, {"app/models.py": MODELS, "app/services.py": USES})


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without what changes the output (CI runners set CI, users NO_COLOR)."""
    drop = {"CI", "NO_COLOR", "FORCE_COLOR", "O2O_LINT_OUTPUT_FORMAT", "O2O_LINT_NO_PROGRESS", "TERM"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["TERM"] = "xterm-256color"
    env.update(extra)
    return env


def run_in_pty(*args: str, cwd: Path, env: dict[str, str], stderr_tty: bool = False) -> tuple[int, str, str]:
    """Run the CLI with its standard output (and optionally error) on a pseudo-terminal."""
    import pty  # noqa: F401 - POSIX only, like the feature under test

    master, slave = os.openpty()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "o2o_lint", *args], cwd=cwd, env=env,
            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave if stderr_tty else err,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        process.wait(timeout=300)
        os.close(master)
        err.seek(0)
        stderr = err.read().decode()
    return process.returncode, b"".join(chunks).decode().replace("\r\n", "\n"), stderr


# -- concise and full --------------------------------------------------------------------------------


def test_piped_output_is_concise_and_text_is_its_old_name(tmp_path: Path) -> None:
    project(tmp_path)
    default = run_cli(".", cwd=tmp_path)
    lines = default.stdout.splitlines()
    assert lines[0] == ("app/models.py:7:15: OTO001 ForeignKey(unique=True) is a OneToOneField in disguise "
                        "(Django's fields.W342); use OneToOneField")
    assert lines[-1] == "Found 3 findings in 4 files checked (1 fixable with --fix, 1 more with --fix --unsafe-fixes)."
    assert run_cli("--format", "text", ".", cwd=tmp_path).stdout == default.stdout
    assert run_cli("--output-format", "concise", ".", cwd=tmp_path).stdout == default.stdout
    assert run_cli(".", cwd=tmp_path, env={"O2O_LINT_OUTPUT_FORMAT": "concise"}).stdout == default.stdout
    assert "\x1b[" not in default.stdout


def test_terminal_gets_full_output_with_colours(tmp_path: Path) -> None:
    project(tmp_path)
    code, out, _ = run_in_pty(".", cwd=tmp_path, env=clean_env(COLUMNS="300"))  # wide enough for one line
    assert code == 1
    assert "\x1b[" in out  # coloured on a terminal
    plain = ANSI.sub("", out)
    assert plain.startswith("app/models.py:7:15: OTO001 [*] ForeignKey(unique=True) is a OneToOneField")
    assert (
        "  |\n"
        "7 |     company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"
        f"  |               {'^' * 55} OTO001\n"
        "  |\n"
        "  = fix (safe, with --fix): Use OneToOneField instead of ForeignKey(unique=True)\n"
        "  = rule: o2o-lint --explain OTO001 or https://github.com/o2o-lint/o2o-lint/blob/v"
    ) in plain
    # the unsafe fix says so, and how to apply it; OTO004 has no fix line
    assert "  = fix (unsafe, with --fix --unsafe-fixes): Use OneToOneField" in plain
    assert plain.endswith(
        "app/services.py:2:12: OTO004 `invoice_set` is the reverse manager of Invoice.company, a ForeignKey(unique=True);"
        " once converted to OneToOneField (OTO001) it becomes `invoice`, a single object, not a manager\n"
        "  |\n"
        "2 |     return company.invoice_set.count()\n"
        "  |            ^^^^^^^^^^^^^^^^^^^ OTO004\n"
        "  |\n"
        f"  = rule: o2o-lint --explain OTO004 or https://github.com/o2o-lint/o2o-lint/blob/v{__version__}"
        "/docs/rules/OTO004.md\n"
        "\n"
        "Found 3 findings in 4 files checked (1 fixable with --fix, 1 more with --fix --unsafe-fixes).\n"
    )


def test_full_wraps_long_messages_at_the_terminal_width(tmp_path: Path) -> None:
    project(tmp_path)
    code, out, _ = run_in_pty(".", cwd=tmp_path, env=clean_env(COLUMNS="60"))
    assert code == 1
    plain = ANSI.sub("", out)
    heads = [line for line in plain.splitlines() if line.startswith("app/")]
    assert all(len(line) <= 60 for line in heads), heads
    assert "app/services.py:2:12: OTO004 `invoice_set` is the reverse\n    manager of" in plain
    block = plain[plain.index("app/services.py:2:12: "):].split("\n  |")[0].splitlines()
    assert len(block) > 1 and all(len(line) <= 60 and line.startswith("    ") for line in block[1:]), block
    assert " ".join(line.strip() for line in block).endswith(
        "(OTO001) it becomes `invoice`, a single object, not a manager")  # nothing lost in the wrapping
    piped = run_cli("--output-format", "full", ".", cwd=tmp_path, env={"COLUMNS": ""})
    assert "(OTO001) it becomes `invoice`, a single object, not a manager\n" in piped.stdout  # piped: one line
    assert piped.stdout.count("  = rule: o2o-lint --explain ") == 3  # every finding points to its rule page


def test_no_color_and_piped_output_have_no_colours(tmp_path: Path) -> None:
    project(tmp_path)
    code, out, _ = run_in_pty(".", cwd=tmp_path, env=clean_env(NO_COLOR="1"))
    assert code == 1 and "\x1b[" not in out
    assert "^^^^ OTO004" in out  # still the full format: only the colours go
    piped = run_cli("--output-format", "full", ".", cwd=tmp_path, env={"NO_COLOR": ""})
    assert "\x1b[" not in piped.stdout and "^^^ OTO001" in piped.stdout
    forced = run_cli("--output-format", "full", ".", cwd=tmp_path, env={"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stdout


def test_explicit_format_wins_on_a_terminal(tmp_path: Path) -> None:
    project(tmp_path)
    _, out, _ = run_in_pty("--output-format", "concise", ".", cwd=tmp_path, env=clean_env())
    assert out.splitlines()[0].startswith("app/models.py:7:15: OTO001 ForeignKey")
    _, out, _ = run_in_pty(".", cwd=tmp_path, env=clean_env(O2O_LINT_OUTPUT_FORMAT="github"))
    assert out.startswith("::error title=o2o-lint (OTO001),file=app/models.py,")


# -- json ---------------------------------------------------------------------------------------------


def test_a_warm_json_run_reads_noqa_rows_from_the_cache(tmp_path: Path) -> None:
    """``noqa_row`` needs a tokenization of the finding's file: the first JSON report keeps
    it with the finding in the findings cache, and a warm one reports the same rows without
    tokenizing anything (a string spanning two lines: the row is its last line, not the finding's)."""
    write_project(tmp_path, {
        "app/models.py": (
            "from django.db import models\n\n\nclass Company(models.Model):\n    pass\n\n\n"
            "class Invoice(models.Model):\n"
            "    company = models.ForeignKey(Company, models.CASCADE, unique=True, help_text=\"\"\"one\n"
            "    per company\"\"\")\n"
        ),
    })
    script = (
        "import sys\n"
        "from o2o_lint import cli, noqa\n"
        "calls = []\n"
        "real = noqa.SourceLines.tokens.fget\n"
        "noqa.SourceLines.tokens = property(lambda self: calls.append(1) or real(self))\n"
        "cli.main(['--output-format', 'json', '.'])\n"
        "print('TOKENIZED' if calls else 'NOT-TOKENIZED')\n"
    )
    runs = [subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
            for _ in range(2)]
    (cold_out, cold_probe), (warm_out, warm_probe) = [run.stdout.rsplit("\n", 2)[:2] for run in runs]
    assert (cold_probe, warm_probe) == ("TOKENIZED", "NOT-TOKENIZED"), runs[1].stderr
    assert warm_out == cold_out
    record = json.loads(cold_out)[0]
    assert (record["line"], record["noqa_row"]) == (9, 10)


def test_json_records_keep_the_old_keys_and_add_ruffs(tmp_path: Path) -> None:
    project(tmp_path)
    result = run_cli("--output-format", "json", ".", cwd=tmp_path)
    assert result.returncode == 1
    records = json.loads(result.stdout)
    first = records[0]
    assert {k: first[k] for k in ("path", "line", "column", "end_line", "end_column", "code", "name")} == {
        "path": "app/models.py", "line": 7, "column": 15, "end_line": 7, "end_column": 70,
        "code": "OTO001", "name": "foreign-key-unique",
    }
    assert first["location"] == {"row": 7, "column": 15} and first["end_location"] == {"row": 7, "column": 70}
    assert first["filename"] == str(tmp_path / "app" / "models.py")
    assert first["noqa_row"] == 7
    assert first["url"].endswith("/docs/rules/OTO001.md")
    assert Path(first["doc_path"]).read_text().startswith("# OTO001: foreign-key-unique")
    fix = first["fix"]
    assert fix["safe"] is True and fix["applicability"] == "safe"
    assert fix["description"] == fix["message"] == "Use OneToOneField instead of ForeignKey(unique=True)"
    assert fix["edits"] == [
        {"content": "OneToOneField", "location": {"row": 7, "column": 22}, "end_location": {"row": 7, "column": 32}},
        {"content": "", "location": {"row": 7, "column": 56}, "end_location": {"row": 7, "column": 69}},
    ]
    unsafe = records[1]["fix"]
    assert unsafe["applicability"] == "unsafe" and unsafe["edits"]  # shown even when not enabled
    assert records[2]["fix"] is None and records[2]["name"] == "reverse-manager-of-unique-foreign-key"
    assert result.stderr.startswith("Found 3 findings")  # the summary stays out of the JSON


@pytest.mark.slow
def test_json_edits_reproduce_each_fix(tmp_path: Path) -> None:
    """Applying a finding's edits gives exactly what --fix writes for that finding alone."""
    project(tmp_path)
    models = tmp_path / "app" / "models.py"
    original = models.read_text()
    records = json.loads(run_cli("--output-format", "json", ".", cwd=tmp_path).stdout)
    safe_edits = records[0]["fix"]["edits"]
    assert run_cli("--fix", ".", cwd=tmp_path).returncode == 1  # applies the one safe fix
    assert apply_edits(original, safe_edits) == models.read_text()


@pytest.mark.slow
def test_json_from_the_cache_still_has_edits(tmp_path: Path) -> None:
    project(tmp_path)
    cold = run_cli("--output-format", "json", ".", cwd=tmp_path).stdout
    warm = run_cli("--output-format", "json", ".", cwd=tmp_path).stdout
    assert cold == warm and '"edits": [\n' in warm


# -- github and sarif ------------------------------------------------------------------------------


def test_github_annotations(tmp_path: Path) -> None:
    project(tmp_path)
    result = run_cli("--output-format", "github", ".", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "::error title=o2o-lint (OTO001),file=app/models.py,line=7,col=15,endLine=7,endColumn=70::"
        "app/models.py:7:15: OTO001 ForeignKey(unique=True) is a OneToOneField in disguise (Django's fields.W342); "
        "use OneToOneField"
    )
    assert len(lines) == 3 and all(line.startswith("::error title=o2o-lint (OTO00") for line in lines)
    assert result.stderr.startswith("Found 3 findings")


def test_github_escapes_what_workflow_commands_reserve(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/bad,name%.py": "x = (\n"})
    line = run_cli("--output-format", "github", ".", cwd=tmp_path).stdout.splitlines()[0]
    assert line.startswith("::error title=o2o-lint (OTO000),file=app/bad%2Cname%25.py,line=")


def test_sarif_validates_against_the_published_schema(tmp_path: Path) -> None:
    project(tmp_path)
    write_project(tmp_path, {"app/broken.py": "def f(:\n"})
    result = run_cli("--output-format", "sarif", "-o", "results.sarif", ".", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    log = json.loads((tmp_path / "results.sarif").read_text())
    schema = json.loads(SARIF_SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    errors = sorted(validator(schema).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][:2] == ["OTO000", "OTO001"]
    results = run["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("OTO000", 1), ("OTO001", 7), ("OTO001", 10), ("OTO004", 2)]
    first = results[1]
    assert rules[first["ruleIndex"]]["id"] == "OTO001"
    assert first["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "app/models.py", "uriBaseId": "%SRCROOT%"}
    assert first["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 7, "startColumn": 15, "endLine": 7, "endColumn": 70}
    replacements = first["fixes"][0]["artifactChanges"][0]["replacements"]
    assert replacements[0] == {"deletedRegion": {"startLine": 7, "startColumn": 22, "endLine": 7, "endColumn": 32},
                               "insertedContent": {"text": "OneToOneField"}}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"


@pytest.mark.slow
def test_output_file_takes_the_report_of_any_format(tmp_path: Path) -> None:
    project(tmp_path)
    for fmt in ("concise", "full", "json", "github"):
        target = tmp_path / "reports" / f"out.{fmt}"
        result = run_cli("--output-format", fmt, "-o", str(target), ".", cwd=tmp_path)
        assert result.returncode == 1 and result.stdout == ""
        assert target.read_text() == run_cli("--output-format", fmt, ".", cwd=tmp_path).stdout
    unwritable = run_cli("-o", str(tmp_path / "app" / "models.py" / "x"), ".", cwd=tmp_path)
    assert unwritable.returncode == 2 and "cannot write" in unwritable.stderr


# -- statistics and the --fix summary --------------------------------------------------------------


@pytest.mark.slow
def test_statistics_one_row_per_code(tmp_path: Path) -> None:
    project(tmp_path)
    text = run_cli("--statistics", ".", cwd=tmp_path)
    assert "     2  OTO001  foreign-key-unique  (2 fixable: 1 safe, 1 unsafe)\n" in text.stdout
    assert "     1  OTO004  reverse-manager-of-unique-foreign-key  (0 fixable)\n" in text.stdout
    assert ": OTO001 " not in text.stdout  # the statistics instead of the findings
    as_json = run_cli("--statistics", "--output-format", "json", ".", cwd=tmp_path)
    assert json.loads(as_json.stdout) == [  # the statistics as JSON; the summary on stderr
        {"code": "OTO001", "name": "foreign-key-unique", "count": 2, "fixable": 2, "safe_fixable": 1,
         "unsafe_fixable": 1},
        {"code": "OTO004", "name": "reverse-manager-of-unique-foreign-key", "count": 1, "fixable": 0,
         "safe_fixable": 0, "unsafe_fixable": 0},
    ]
    assert as_json.stderr.startswith("Found 3 findings")


@pytest.mark.slow
def test_fix_summary_says_what_was_fixed_what_is_left_and_hints_at_unsafe_fixes(tmp_path: Path) -> None:
    project(tmp_path / "b")
    as_json = run_cli("--fix", "--output-format", "json", ".", cwd=tmp_path / "b")
    assert [r["code"] for r in json.loads(as_json.stdout)] == ["OTO001", "OTO004"]  # what is left
    assert as_json.stderr.startswith("Fixed in 1 file:\n  app/models.py: 1 × OTO001\nNext (OTO001): a ForeignKey ")
    assert "\nFixed 1 finding. 2 findings remain" in as_json.stderr  # the converted field needs a migration
    root = project(tmp_path / "a")
    result = run_cli("--fix", ".", cwd=root)
    assert result.returncode == 1
    assert "Fixed in 1 file:\n  app/models.py: 1 × OTO001\n" in result.stdout
    assert result.stdout.rstrip().endswith(
        "Fixed 1 finding. 2 findings remain (1 fixable with --fix --unsafe-fixes, 1 without an automatic fix).")
    assert result.stdout.startswith("app/models.py:10:15: OTO001 ")  # what is left, listed first
    done = run_cli("--fix", "--unsafe-fixes", "--ignore", "OTO004", ".", cwd=root)
    assert done.returncode == 0
    assert done.stdout.endswith("Fixed 1 finding. No findings remain.\n")


# -- progress bar ----------------------------------------------------------------------------------


def _many_files(tmp_path: Path, count: int = 40) -> Path:
    files = {"app/models.py": MODELS}
    files.update({f"app/mod{n}.py": USES if n % 4 == 0 else f"def f{n}(x):\n    return x.invoice_set\n"
                  for n in range(count)})
    return write_project(tmp_path, files)


def test_progress_bar_on_a_terminal_after_the_delay(tmp_path: Path) -> None:
    _many_files(tmp_path)
    code, out, _ = run_in_pty("--no-cache", "--output-format", "concise", ".", cwd=tmp_path,
                              env=clean_env(O2O_LINT_PROGRESS_DELAY="0"), stderr_tty=True)
    assert code == 1
    assert re.search(r"\rChecking \[#+-*\] \d+/\d+ files", out)
    assert "\r\x1b[K" in out  # erased before the report
    report = out[out.rindex("\x1b[K") + 3:]
    assert report.startswith("app/mod0.py:2:12: OTO004")


@pytest.mark.slow
@pytest.mark.parametrize("where", ["ci", "piped", "fast"])
def test_no_progress_bar_in_ci_when_piped_or_for_a_fast_run(tmp_path: Path, where: str) -> None:
    _many_files(tmp_path)
    if where == "ci":
        _, out, _ = run_in_pty("--no-cache", ".", cwd=tmp_path, env=clean_env(CI="true", O2O_LINT_PROGRESS_DELAY="0"),
                               stderr_tty=True)
    elif where == "piped":
        out = run_cli("--no-cache", ".", cwd=tmp_path, env=clean_env(O2O_LINT_PROGRESS_DELAY="0")).stderr
    else:  # the default one-second delay: a small project is done before the bar would show
        run_cli(".", cwd=tmp_path)  # warm the cache
        _, out, _ = run_in_pty(".", cwd=tmp_path, env=clean_env(), stderr_tty=True)
    assert "Checking [" not in out
