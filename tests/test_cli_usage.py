"""What the CLI (and the flake8 plugin) cannot mean is a usage error: exit 2, one line.

Every test runs the real command in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from o2o_lint.rules import all_rules, known_codes, rule_names, rule_table
from tests.helpers import run_cli, write_project

MODELS = (
    "from django.db import models\n\n"
    "class Company(models.Model):\n    pass\n\n"
    "class Address(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"
)


def one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    return lines[0]


def test_known_codes_come_from_the_registry_without_importing_rules() -> None:
    assert known_codes() == tuple(all_rules())


def test_rule_names_read_without_importing_rules_are_the_registrys() -> None:
    assert rule_names() == {code: rule.name for code, rule in all_rules().items()}


def test_the_rule_table_read_without_importing_rules_is_the_registrys() -> None:
    assert rule_table() == {
        code: {"name": rule.name, "summary": rule.summary, "fix": rule.fixable.value, "opt_in": rule.opt_in}
        for code, rule in all_rules().items()
    }


# -- 1. unknown codes and prefixes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "named", "suggested"),
    [
        ("--select", "OT0", "'OT0'", "OTO0"),  # a zero for an O
        ("--select", "OTO01", "'OTO01'", "OTO001"),
        ("--ignore", "OTO_001", "'OTO_001'", "OTO001"),
        ("--extend-select", "OTO001,unused-noqa", "'unused-noqa'", "OTO100 (unused-noqa)"),
        ("--select", "E501", "'E501'", "--list-rules"),
    ],
)
def test_unknown_codes_on_the_command_line(tmp_path: Path, option: str, value: str, named: str, suggested: str) -> None:
    write_project(tmp_path, {"app/models.py": MODELS})
    line = one_error_line(run_cli(option, value, ".", cwd=tmp_path))
    assert line.startswith(f"o2o-lint: error: {option}: unknown rule code or prefix {named}")
    assert suggested in line


@pytest.mark.parametrize(
    ("config_file", "text", "where"),
    [
        ("pyproject.toml", '[tool.o2o-lint]\nselect = ["OTO", "OTO9"]\n', "select"),
        ("pyproject.toml", '[tool.o2o-lint]\nignore = ["OTO0001"]\n', "ignore"),
        ("pyproject.toml", '[tool.o2o-lint]\nextend-select = ["OTP100"]\n', "extend-select"),
        ("pyproject.toml", '[tool.o2o-lint]\nper-file-ignores = { "app/*" = ["OTO0O1"] }\n', "per-file-ignores 'app/*'"),
        ("setup.cfg", "[o2o-lint]\nignore = OTO001,OT0\n", "ignore"),
        ("setup.cfg", "[o2o-lint]\nper-file-ignores =\n    app/*: OTO01\n", "per-file-ignores 'app/*'"),
    ],
)
def test_unknown_codes_in_configuration_files(tmp_path: Path, config_file: str, text: str, where: str) -> None:
    write_project(tmp_path, {"app/models.py": MODELS})
    (tmp_path / config_file).write_text(text)
    line = one_error_line(run_cli(".", cwd=tmp_path))
    assert line.startswith(f"o2o-lint: error: {tmp_path / config_file}: {where}: unknown rule code or prefix ")
    assert "did you mean OTO" in line


@pytest.mark.parametrize("selector", ["O", "OT", "OTO", "OTO0", "OTO00", "OTO001", "OTO000", "OTO1", "OTO100", "ALL", "oto001", "all"])
def test_every_prefix_of_a_real_code_and_all_are_valid(tmp_path: Path, selector: str) -> None:
    write_project(tmp_path, {"app/models.py": MODELS})
    result = run_cli("--select", selector, "--show-settings", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f'select = ["{selector.upper()}"]' in result.stdout


def test_lowercase_codes_in_configuration_are_accepted(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": MODELS})
    (tmp_path / "pyproject.toml").write_text('[tool.o2o-lint]\nselect = ["oto001"]\n')
    result = run_cli(".", cwd=tmp_path)
    assert result.returncode == 1 and "OTO001" in result.stdout, result.stderr


def test_all_enables_every_rule_opt_in_ones_included(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": MODELS + "x = 1  # noqa: OTO004\n"})
    everything = run_cli("--select", "ALL", ".", cwd=tmp_path)
    assert everything.returncode == 1 and "OTO001" in everything.stdout and "OTO100" in everything.stdout
    default = run_cli(".", cwd=tmp_path)
    assert "OTO001" in default.stdout and "OTO100" not in default.stdout
    # ALL is the least specific selector: any prefix ignores over it
    ignored = run_cli("--select", "ALL", "--ignore", "OTO", ".", cwd=tmp_path)
    assert ignored.returncode == 0, ignored.stdout


# -- 3. exit codes: closed pipe, full disk, internal errors -----------------------------------------


def test_a_closed_pipe_exits_two_quietly(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"app/models.py": MODELS})
    process = subprocess.Popen(
        [sys.executable, "-m", "o2o_lint", "--no-cache", "."], cwd=root,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"},
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the report is written
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 2
    assert stderr == b""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [("--no-cache", "."), ("--list-rules",), ("-o", "/dev/full", "--no-cache", ".")])
def test_a_full_disk_is_one_line_and_exit_two(tmp_path: Path, args: tuple[str, ...]) -> None:
    root = write_project(tmp_path, {"app/models.py": MODELS})
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "o2o_lint", *args], cwd=root, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr == "o2o-lint: error: cannot write: No space left on device\n"


CRASHING = (
    "import sys\n"
    "import o2o_lint.cli as cli\n"
    "def crash(*args, **kwargs):\n"
    "    raise RuntimeError('something broke')\n"
    "cli.run = crash\n"
    "sys.exit(cli.main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize(("flag", "env"), [(None, {}), ("--verbose", {}), (None, {"O2O_LINT_TRACEBACK": "1"})])
def test_an_internal_error_is_one_line_and_exit_two(tmp_path: Path, flag: str | None, env: dict[str, str]) -> None:
    root = write_project(tmp_path, {"app/models.py": MODELS})
    args = ["--no-cache", "."] + ([flag] if flag else [])
    done = subprocess.run([sys.executable, "-c", CRASHING, *args], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "O2O_LINT_TRACEBACK": "", **env}, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    last = done.stderr.splitlines()[-1]
    assert last.startswith("o2o-lint: internal error: RuntimeError: something broke; please report it")
    if flag or env:
        assert "Traceback (most recent call last)" in done.stderr
    else:
        assert done.stderr.splitlines() == [last]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b'[tool.o2o-lint]\nselect = ["OTO\xff001"]\n', "'utf-8' codec can't decode byte 0xff", id="not-utf-8"),
        pytest.param(b"[project]\ndependencies = ['django\xff']\n", "'utf-8' codec can't decode byte 0xff", id="not-utf-8-no-section"),
        pytest.param(b"[tool.o2o-lint\n", "Expected ']' at the end of a table declaration", id="not-toml"),
    ],
)
def test_an_unreadable_pyproject_is_one_line_naming_it(tmp_path: Path, content: bytes, reason: str) -> None:
    write_project(tmp_path, {"app/models.py": MODELS})
    (tmp_path / "pyproject.toml").write_bytes(content)
    line = one_error_line(run_cli("--no-cache", ".", cwd=tmp_path))
    assert line.startswith(f"o2o-lint: error: {tmp_path / 'pyproject.toml'}: {reason}"), line


# -- 2. paths: missing ones, none found, the check subcommand ---------------------------------------


@pytest.mark.parametrize("args", [("no/such/dir",), (".", "missing.py"), ("--fix", "missing.py")])
def test_a_path_that_does_not_exist_is_a_usage_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    write_project(tmp_path, {"app/models.py": MODELS})
    missing = [a for a in args if a not in (".", "--fix")][0]
    assert one_error_line(run_cli(*args, cwd=tmp_path)) == f"o2o-lint: error: {missing}: no such file or directory"


@pytest.mark.parametrize("output_format", ["concise", "json"])
def test_no_python_file_found_is_a_warning_and_exit_zero(tmp_path: Path, output_format: str) -> None:
    write_project(tmp_path, {"manage.py": ""})
    (tmp_path / "app" / "migrations").mkdir(parents=True)  # excluded by default
    (tmp_path / "app" / "migrations" / "0001_initial.py").write_text("x = 1\n")
    (tmp_path / "app" / "README.txt").write_text("hello\n")
    result = run_cli("--output-format", output_format, "app", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == "o2o-lint: warning: no Python files found under app\n"
    assert "All clear" not in result.stdout
    assert result.stdout == ("[]\n" if output_format == "json" else "")


def test_check_is_the_default_command(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": MODELS, "app/clean.py": "x = 1\n"})
    plain = run_cli("--output-format", "concise", ".", cwd=tmp_path)
    checked = run_cli("check", "--output-format", "concise", ".", cwd=tmp_path)
    assert plain.returncode == checked.returncode == 1
    assert checked.stdout == plain.stdout and "OTO001" in checked.stdout
    one = run_cli("check", "app/clean.py", cwd=tmp_path)
    assert one.returncode == 0 and "All clear: no findings in 1 file." in one.stdout
    # a directory named check is ./check
    (tmp_path / "check").mkdir()
    (tmp_path / "check" / "models.py").write_text(MODELS)
    assert "check/models.py" in run_cli("./check", cwd=tmp_path).stdout


# -- 4. flake8 reads the configuration as the CLI does ----------------------------------------------

USES = "def count(company):\n    return company.address_set.count()\n"


def flake8(root: Path, *args: str, isolated: bool = True) -> subprocess.CompletedProcess[str]:
    """flake8 on *root*; ``--isolated`` (no flake8 configuration) unless told otherwise."""
    return subprocess.run(
        [sys.executable, "-m", "flake8", *(["--isolated"] if isolated else []), "--select", "OTO",
         "--format", "%(path)s:%(row)d:%(code)s", *args],
        cwd=root, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({}, ("--o2o-target-version", "five"), "--o2o-target-version: invalid Django version 'five'"),
        ({"setup.cfg": "[flake8]\no2o-target-version = 4.x\n"}, (), "--o2o-target-version: invalid Django version '4.x'"),
        ({"pyproject.toml": "[tool.o2o-lint\nselect = 1\n"}, (), "pyproject.toml: "),
        ({"pyproject.toml": '[tool.o2o-lint]\nno-such-key = 1\n'}, (), "unknown configuration key 'no-such-key'"),
        ({"pyproject.toml": '[tool.o2o-lint]\nignore = ["OTO0O4"]\n'}, (), "did you mean OTO004?"),
        ({"pyproject.toml": '[tool.o2o-lint]\ntarget-version = "five"\n'}, (), "invalid Django version 'five'"),
        ({"setup.cfg": "[o2o-lint]\nper-file-ignores =\n    app/*: OTO9\n"}, (), "per-file-ignores 'app/*'"),
    ],
)
def test_flake8_with_a_bad_option_is_one_line_and_non_zero(
    tmp_path: Path, files: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    write_project(tmp_path, {"app/models.py": MODELS})
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    done = flake8(tmp_path, *args, ".", isolated="[flake8]" not in files.get("setup.cfg", ""))
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("flake8: o2o-lint: error: ") and message in lines[0]
    # and the CLI says the same about the same files
    if not args and "flake8" not in files.get("setup.cfg", ""):
        assert message in one_error_line(run_cli(".", cwd=tmp_path))


def test_flake8_applies_the_o2o_lint_configuration(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": MODELS, "app/services.py": USES})
    both = {"app/models.py:7:OTO001", "app/services.py:2:OTO004"}
    assert set(flake8(tmp_path, "app").stdout.split()) == both
    (tmp_path / "pyproject.toml").write_text('[tool.o2o-lint]\nignore = ["OTO004"]\n')
    assert set(flake8(tmp_path, "app").stdout.split()) == {"app/models.py:7:OTO001"}
    (tmp_path / "pyproject.toml").write_text('[tool.o2o-lint]\nper-file-ignores = { "app/models.py" = ["OTO001"] }\n')
    cli_rows = {line.split(":")[0] + ":" + line.split(":")[1] + ":" + line.split()[1]
                for line in run_cli("--output-format", "concise", ".", cwd=tmp_path).stdout.splitlines() if " OTO" in line}
    assert set(flake8(tmp_path, "app").stdout.split()) == cli_rows == {"app/services.py:2:OTO004"}


def test_flake8_accepts_target_version_auto(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": MODELS})
    done = flake8(tmp_path, "--o2o-target-version", "auto", "app")
    assert done.returncode == 1 and done.stdout.split() == ["app/models.py:7:OTO001"] and done.stderr == ""
    (tmp_path / "setup.cfg").write_text("[flake8]\no2o-target-version = auto\n")
    again = flake8(tmp_path, "app", isolated=False)
    assert again.returncode == 1 and again.stdout.split() == ["app/models.py:7:OTO001"], again.stderr


# -- 5. target-version auto by default --------------------------------------------------------------


def test_target_version_is_auto_by_default(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": MODELS})
    shown = run_cli("--show-settings", ".", cwd=tmp_path)
    assert 'target-version = "6.1"  # warning: target-version auto: no Django requirement' in shown.stdout
    # the fallback is a note for a human (full output), never in machine output or CI logs by default
    concise = run_cli("--output-format", "concise", ".", cwd=tmp_path)
    assert concise.returncode == 1 and concise.stderr == ""
    json_run = run_cli("--output-format", "json", ".", cwd=tmp_path)
    assert json_run.stderr.count("assuming Django") == 0 and json_run.stdout.startswith("[")
    full = run_cli("--output-format", "full", ".", cwd=tmp_path)
    assert full.stderr.count("assuming Django 6.1") == 1 and "assuming" not in full.stdout
    (tmp_path / "requirements.txt").write_text("Django>=4.2,<5\n")
    detected = run_cli("--show-settings", ".", cwd=tmp_path)
    assert 'target-version = "4.2"  # target-version auto: Django 4.2, the lowest that' in detected.stdout
    assert "assuming" not in run_cli("--output-format", "full", ".", cwd=tmp_path).stderr
    (tmp_path / "pyproject.toml").write_text('[tool.o2o-lint]\ntarget-version = "5.0"\n')
    assert 'target-version = "5.0"\n' in run_cli("--show-settings", ".", cwd=tmp_path).stdout
    assert 'target-version = "5.1"\n' in run_cli("--target-version", "5.1", "--show-settings", ".", cwd=tmp_path).stdout
