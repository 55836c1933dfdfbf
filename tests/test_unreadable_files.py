"""A fix whose safety depends on every other file is unsafe while some file cannot be read."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import engine_for, run_cli, write_project

MODELS = (
    "from django.db import models\n\n"
    "class Company(models.Model):\n    pass\n\n"
    "class Address(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"
)
#: The only use of the reverse manager is in a file no Python version parses.
BROKEN = "def first_address(company):\n    return company.address_set.get()\n\ndef half(:\n"


def test_the_index_lists_the_files_it_could_not_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": MODELS, "app/services.py": BROKEN})
    index = engine_for(tmp_path).index
    assert index.unreadable_files == (str(tmp_path / "app" / "services.py"),)


def test_a_conversion_is_unsafe_while_a_file_cannot_be_parsed(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": MODELS, "app/services.py": BROKEN, "app/other.py": "x = (\n"})
    engine = engine_for(tmp_path)
    path = str(tmp_path / "app" / "models.py")
    [finding] = engine.analyze(path, (tmp_path / "app" / "models.py").read_text()).findings
    assert finding.code == "OTO001" and finding.fix is not None and not finding.fix.safe
    assert "2 file(s) of the project could not be read or parsed" in finding.message
    assert "other.py and 1 more" in finding.message


def test_fix_leaves_the_field_alone_while_a_use_may_hide_in_an_unparsable_file(tmp_path: Path) -> None:
    """The issue's minimal form, with a real ``--fix`` run."""
    write_project(tmp_path, {"app/models.py": MODELS, "app/services.py": BROKEN})
    result = run_cli("--fix", ".", cwd=tmp_path)
    assert result.returncode == 1
    models = (tmp_path / "app" / "models.py").read_text()
    assert "models.ForeignKey(Company, models.CASCADE, unique=True)" in models
    assert "Fixed 0 findings." in result.stdout
    assert "OTO000" in result.stdout
    assert "1 file(s) of the project could not be read or parsed (app/services.py)" in result.stdout
    # once the file parses, its use is seen (OTO004) and the fix stays unsafe for that reason
    (tmp_path / "app" / "services.py").write_text(BROKEN.replace("def half(:\n", ""))
    again = run_cli("--fix", ".", cwd=tmp_path)
    assert "is used as a manager in 1 file(s)" in again.stdout and "could not be read" not in again.stdout
    # and with no use anywhere, the same fix is safe again (the use left without changing
    # the file's facts: the findings cache, keyed by facts, would still answer "used")
    (tmp_path / "app" / "services.py").write_text("x = 1\n")
    fixed = run_cli("--fix", "--no-cache", ".", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout
    assert "models.OneToOneField(Company, models.CASCADE)" in (tmp_path / "app" / "models.py").read_text()
