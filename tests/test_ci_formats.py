"""The output formats of other CI systems, each read the way its consumer reads it:
``gitlab`` against the Code Quality schema, ``junit`` through ``xml.etree`` as a JUnit
report reader does, ``json-lines`` line by line.

Every test runs the real command in a subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema

from tests.helpers import REPO, run_cli
from tests.test_output_formats import project

GITLAB_SCHEMA = REPO / "tests" / "schemas" / "gitlab-code-quality.json"
TWICE = (
    "from django.db import models\n\n"
    "class Company(models.Model):\n    pass\n\n"
    "class Address(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n\n"
    "class Office(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"
)


def test_gitlab_code_quality_report(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = run_cli("--output-format", "gitlab", ".", cwd=root, env={"CI_PROJECT_DIR": str(root)})
    assert result.returncode == 1
    report = json.loads(result.stdout)
    schema = json.loads(GITLAB_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(report)
    assert [(issue["check_name"], issue["location"]["path"], issue["location"]["lines"]["begin"]) for issue in report] == [
        ("OTO001", "app/models.py", 7), ("OTO001", "app/models.py", 10), ("OTO004", "app/services.py", 2)]
    assert report[0]["description"].startswith("OTO001: ForeignKey(unique=True)")
    assert len({issue["fingerprint"] for issue in report}) == 3  # GitLab drops an issue whose fingerprint repeats
    assert result.stderr.startswith("Found 3 findings")  # standard output stays the report
    # paths relative to the checkout (CI_PROJECT_DIR) whatever the working directory
    from_app = json.loads(run_cli("--output-format", "gitlab", ".", cwd=root / "app",
                                  env={"CI_PROJECT_DIR": str(root)}).stdout)
    assert [issue["location"]["path"] for issue in from_app] == ["app/models.py", "app/models.py", "app/services.py"]
    assert [issue["fingerprint"] for issue in from_app] == [issue["fingerprint"] for issue in report]
    clean = run_cli("--output-format", "gitlab", "--ignore", "OTO", ".", cwd=root)
    assert clean.returncode == 0 and json.loads(clean.stdout) == []


def test_gitlab_fingerprints_survive_moved_code_and_tell_identical_findings_apart(tmp_path: Path) -> None:
    root = project(tmp_path)
    models = root / "app" / "models.py"
    models.write_text(TWICE)
    first = json.loads(run_cli("--output-format", "gitlab", ".", cwd=root).stdout)
    models.write_text("# a comment moves everything down\n" + TWICE)
    moved = json.loads(run_cli("--output-format", "gitlab", ".", cwd=root).stdout)
    assert [i["location"]["lines"]["begin"] for i in moved] == [i["location"]["lines"]["begin"] + 1 for i in first]
    assert [i["fingerprint"] for i in moved] == [i["fingerprint"] for i in first]
    twins = [i for i in first if i["location"]["path"] == "app/models.py"]
    assert len(twins) == 2 and twins[0]["description"] == twins[1]["description"]
    assert twins[0]["fingerprint"] != twins[1]["fingerprint"]


def test_junit_report_as_a_junit_consumer_reads_it(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = run_cli("--output-format", "junit", ".", cwd=root)
    assert result.returncode == 1
    assert result.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    suites = ET.fromstring(result.stdout)
    assert suites.tag == "testsuites"
    assert (suites.get("tests"), suites.get("failures"), suites.get("errors")) == ("3", "3", "0")
    by_file = {suite.get("name"): suite for suite in suites.findall("testsuite")}
    assert list(by_file) == ["app/models.py", "app/services.py"]  # one test suite per file, as ruff
    models = by_file["app/models.py"]
    assert (models.get("tests"), models.get("failures"), models.get("errors")) == ("2", "2", "0")
    cases = models.findall("testcase")
    assert len(cases) == 2
    assert [case.get("name") for case in cases] == ["org.o2o-lint.OTO001"] * 2
    assert [(case.get("line"), case.get("column")) for case in cases] == [("7", "15"), ("10", "15")]
    failure = cases[0].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("ForeignKey(unique=True) is a OneToOneField")
    assert (failure.text or "").startswith("line 7, col 15, ForeignKey(unique=True)")
    total = sum(int(suite.get("tests", "0")) for suite in suites.findall("testsuite"))
    assert total == len(suites.findall("testsuite/testcase")) == 3


def test_junit_clean_run_is_one_passing_test(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = run_cli("--output-format", "junit", "--ignore", "OTO", ".", cwd=root)
    assert result.returncode == 0
    suites = ET.fromstring(result.stdout)
    assert (suites.get("tests"), suites.get("failures")) == ("1", "0")
    cases = suites.findall("testsuite/testcase")
    assert len(cases) == 1 and cases[0].find("failure") is None


def test_json_lines_one_json_record_per_line(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = run_cli("--output-format", "json-lines", ".", cwd=root)
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.stdout.endswith("\n") and len(records) == 3
    as_json = json.loads(run_cli("--output-format", "json", ".", cwd=root).stdout)
    assert records == as_json  # ruff's record shape, the same as --output-format json
    assert {"code", "message", "filename", "location", "end_location", "fix", "noqa_row", "url"} <= set(records[0])
    clean = run_cli("--output-format", "json-lines", "--ignore", "OTO", ".", cwd=root)
    assert (clean.returncode, clean.stdout) == (0, "")
