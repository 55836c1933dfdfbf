"""ruff's run-shaping options: exit codes (--exit-zero, --exit-non-zero-on-fix, --fix-only),
how much is printed (-q, -s), which files (--show-files) and which configuration (--config,
--isolated, --per-file-ignores).

Every test runs the real command in a subprocess.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from tests.helpers import run_cli, write_project
from tests.test_cli import MODELS, USES


def project(root: Path, config: str | None = None) -> Path:
    files = {"app/models.py": MODELS, "app/services.py": USES}
    if config is not None:
        files["pyproject.toml"] = config
    return write_project(root, files)


# -- exit codes --------------------------------------------------------------------------------------


def test_exit_zero_reports_the_findings_and_exits_0(tmp_path: Path) -> None:
    project(tmp_path)
    result = run_cli("--exit-zero", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OTO001" in result.stdout and "Found 3 findings" in result.stdout


def test_fix_only_applies_fixes_reports_nothing_left_and_exits_0(tmp_path: Path) -> None:
    root = project(tmp_path)
    before = (root / "app" / "models.py").read_text()
    result = run_cli("--fix-only", ".", cwd=root)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert (root / "app" / "models.py").read_text() != before  # --fix-only implies --fix
    assert "OTO004" not in result.stdout and "remain" not in result.stdout  # the leftovers are not reported
    assert result.stdout.endswith("Fixed 1 finding.\n")


def test_exit_non_zero_on_fix(tmp_path: Path) -> None:
    root = project(tmp_path / "a")
    assert run_cli("--fix-only", "--exit-non-zero-on-fix", ".", cwd=root).returncode == 1  # something was fixed
    assert run_cli("--fix-only", "--exit-non-zero-on-fix", ".", cwd=root).returncode == 0  # nothing left to fix
    clean = project(tmp_path / "b")
    fixed = run_cli("--fix", "--exit-non-zero-on-fix", "--unsafe-fixes", "--ignore", "OTO004", ".", cwd=clean)
    assert fixed.returncode == 1 and "No findings remain." in fixed.stdout  # fixed, even though nothing remains
    assert run_cli("--fix-only", "--exit-non-zero-on-fix", "--exit-zero", ".", cwd=project(tmp_path / "c")).returncode == 0


def test_fix_only_on_standard_input(tmp_path: Path) -> None:
    project(tmp_path)
    result = run_cli("--fix-only", "-", "--stdin-filename", "app/models.py", cwd=tmp_path, stdin=MODELS)
    assert result.returncode == 0
    assert result.stdout.count("OneToOneField") == 1  # the safe fix, on standard output
    assert result.stderr == "Fixed 1 finding.\n"


# -- how much is printed -----------------------------------------------------------------------------


def test_quiet_prints_the_findings_only(tmp_path: Path) -> None:
    project(tmp_path)
    result = run_cli("-q", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 3 and "Found" not in result.stdout
    assert result.stderr == ""  # not even the target-version warning


def test_silent_prints_nothing_and_keeps_the_exit_code(tmp_path: Path) -> None:
    project(tmp_path)
    result = run_cli("--silent", "--output-format", "json", ".", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "")
    report = tmp_path / "report.json"
    written = run_cli("-s", "--output-format", "json", "-o", str(report), ".", cwd=tmp_path)
    assert written.returncode == 1 and report.read_text().startswith("[")  # a file asked for is still written
    clean = run_cli("-s", "--ignore", "OTO", ".", cwd=tmp_path)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")


# -- which files ---------------------------------------------------------------------------------------


def test_show_files_lists_what_would_be_checked(tmp_path: Path) -> None:
    project(tmp_path, '[tool.o2o-lint]\nextend-exclude = ["services.py"]\n')
    write_project(tmp_path, {"app/migrations/0001_initial.py": "x = 1\n"})
    result = run_cli("--show-files", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["app/__init__.py", "app/models.py", "manage.py"]


# -- which configuration -----------------------------------------------------------------------------


def test_config_file_instead_of_searching(tmp_path: Path) -> None:
    project(tmp_path, '[tool.o2o-lint]\nignore = ["OTO004"]\n')
    other = tmp_path / "ci" / "o2o-lint.toml"
    other.parent.mkdir()
    other.write_text('ignore = ["OTO001"]\n')
    result = run_cli("--config", str(other), ".", cwd=tmp_path)
    assert ": OTO001 " not in result.stdout and ": OTO004 " in result.stdout
    shown = run_cli("--config", str(other), "--show-settings", ".", cwd=tmp_path).stdout
    assert str(other) in shown
    cfg = tmp_path / "ci" / "setup.cfg"
    cfg.write_text("[o2o-lint]\nignore = OTO004\n")
    assert ": OTO004 " not in run_cli("--config", str(cfg), ".", cwd=tmp_path).stdout


def test_config_file_missing_or_broken_is_exit_2(tmp_path: Path) -> None:
    project(tmp_path)
    missing = run_cli("--config", "nowhere.toml", ".", cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.startswith("o2o-lint: error: --config ")
    assert "Traceback" not in missing.stderr and len(missing.stderr.splitlines()) == 1
    (tmp_path / "broken.toml").write_text("ignore = [\n")
    broken = run_cli("--config", "broken.toml", ".", cwd=tmp_path)
    assert broken.returncode == 2 and "broken.toml" in broken.stderr and len(broken.stderr.splitlines()) == 1
    (tmp_path / "unknown.toml").write_text('selekt = ["OTO"]\n')
    assert run_cli("--config", "unknown.toml", ".", cwd=tmp_path).returncode == 2
    both = run_cli("--config", "unknown.toml", "--isolated", ".", cwd=tmp_path)
    assert both.returncode == 2


def test_isolated_ignores_every_configuration_file(tmp_path: Path) -> None:
    project(tmp_path, '[tool.o2o-lint]\nignore = ["OTO"]\n')
    assert run_cli(".", cwd=tmp_path).returncode == 0
    result = run_cli("--isolated", ".", cwd=tmp_path)
    assert result.returncode == 1 and "OTO001" in result.stdout
    assert "configuration file: (none: defaults)" in run_cli("--isolated", "--show-settings", ".", cwd=tmp_path).stdout


def test_per_file_ignores_on_the_command_line(tmp_path: Path) -> None:
    project(tmp_path, '[tool.o2o-lint.per-file-ignores]\n"app/services.py" = ["OTO004"]\n')
    assert ": OTO004 " not in run_cli(".", cwd=tmp_path).stdout
    replaced = run_cli("--per-file-ignores", "app/models.py:OTO001", ".", cwd=tmp_path).stdout
    assert ": OTO001 " not in replaced and ": OTO004 " in replaced  # replaces the configuration's
    extended = run_cli("--extend-per-file-ignores", "app/models.py:OTO001", ".", cwd=tmp_path)
    assert extended.returncode == 0, extended.stdout  # added to the configuration's
    # comma-separated pairs, repeated options, and a bare code continuing the pattern before it
    for args in (["--per-file-ignores", "app/models.py:OTO001,app/services.py:OTO004"],
                 ["--per-file-ignores", "app/models.py:OTO001", "--per-file-ignores", "app/services.py:OTO004"],
                 ["--per-file-ignores", "app/*:OTO001,OTO004"]):
        assert run_cli(*args, ".", cwd=tmp_path).returncode == 0, args


def test_per_file_ignores_bad_values_are_usage_errors(tmp_path: Path) -> None:
    project(tmp_path)
    unknown = run_cli("--per-file-ignores", "app/*:OTO01", ".", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown rule code or prefix 'OTO01'" in unknown.stderr
    assert "did you mean OTO001" in unknown.stderr
    no_pattern = run_cli("--per-file-ignores", "OTO001", ".", cwd=tmp_path)
    assert no_pattern.returncode == 2 and "expected PATTERN:CODES" in no_pattern.stderr


# -- --show-settings as TOML -------------------------------------------------------------------------


def test_show_settings_is_toml_that_pastes_back_into_the_configuration(tmp_path: Path) -> None:

    first = project(tmp_path / "a", (
        '[tool.o2o-lint]\nselect = ["OTO0"]\nextend-select = ["OTO100"]\nignore = ["OTO004"]\n'
        'extend-exclude = ["legacy", "odd \\"name\\""]\nforeign-key-classes = ["app.fields.FK"]\n'
        'model-base-classes = ["app.base.Model"]\nunsafe-fixes = true\ntarget-version = "4.2"\n'
        'cache-dir = "/tmp/o2o cache"\nrespect-gitignore = false\nforce-exclude = true\n'
        '[tool.o2o-lint.per-file-ignores]\n"tests/*" = ["OTO001"]\n"app/a b.py" = ["OTO003", "OTO004"]\n'
    ))
    shown = run_cli("--show-settings", ".", cwd=first)
    assert shown.returncode == 0, shown.stderr
    settings = tomllib.loads(shown.stdout)
    assert settings["per-file-ignores"] == {"tests/*": ["OTO001"], "app/a b.py": ["OTO003", "OTO004"]}
    assert settings["unsafe-fixes"] is True and settings["target-version"] == "4.2"
    # pasted into another project's [tool.o2o-lint]: the same settings, shown the same way
    second = project(tmp_path / "b", "[tool.o2o-lint]\n" + shown.stdout)
    again = run_cli("--show-settings", ".", cwd=second)
    assert tomllib.loads(again.stdout) == settings
    assert again.stdout.splitlines()[2:] == shown.stdout.splitlines()[2:]  # all but the configuration file's path


def test_show_settings_defaults_and_options_are_toml_too(tmp_path: Path) -> None:

    root = project(tmp_path)
    shown = run_cli("--show-settings", "--per-file-ignores", "tests/*:OTO001", "--no-cache", ".", cwd=root).stdout
    settings = tomllib.loads(shown)
    assert settings["select"] == ["OTO"] and "migrations" in settings["exclude"]
    assert settings["per-file-ignores"] == {"tests/*": ["OTO001"]}
    assert "cache-dir" not in settings and "root" not in settings  # not set: comments
    assert "# the cache is off" in shown
    write_project(root, {"pyproject.toml": "[tool.o2o-lint]\n" + shown})
    assert tomllib.loads(run_cli("--show-settings", ".", cwd=root).stdout) == settings
