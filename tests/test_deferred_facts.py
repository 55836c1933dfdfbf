"""Rule facts a project cannot need are not extracted on a cold scan (``FactsExtractor.needed``).

A cold scan reads the models files first. When their index has no reverse one-to-one
relation, the other files are scanned without OTO002's facts (``facts["deferred"]``); once
the whole project's index is built, :meth:`ProjectFacts.complete` extracts them if it needs
them after all (a one-to-one declared outside the models files). Findings never depend on
which path was taken: every front end and cache state gives the same.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from o2o_lint.config import Settings
from o2o_lint.index.build import ProjectFacts, _may_define_models, facts_for_file, index_from_facts
from o2o_lint.index.facts import DEFERRED, rule_facts
from tests.helpers import run_cli, write_project
from tests.rules.test_oto002_index import SERVICES, VIEWS  # services import Profile through shop.models

#: Owner and Profile live outside the models files: the models files' index has no relation.
PROFILES = """\
from django.db import models


class Owner(models.Model):
    name = models.CharField(max_length=50)


class Profile(models.Model):
    owner = models.{field}(Owner, models.CASCADE, related_name="profile")
"""
MODELS = """\
from shop.profiles import Owner, Profile
"""


def _project(root: Path, field: str = "OneToOneField") -> Path:
    return write_project(root, {
        "shop/profiles.py": PROFILES.format(field=field),
        "shop/models.py": MODELS,
        "shop/services.py": SERVICES,
        "shop/views.py": VIEWS,
    })


def _findings(root: Path, *args: str) -> list[tuple[str, int, str]]:
    result = run_cli("--output-format", "json", *args, ".", cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return sorted((f["path"], f["line"], f["code"]) for f in json.loads(result.stdout))


#: The stale-cache findings: ensure_profile writes the profile row that login read first.
EXPECTED = [("shop/services.py", 5, "OTO002"), ("shop/views.py", 6, "OTO002")]


def test_only_app_models_modules_are_read_first() -> None:
    root = os.path.join(os.sep, "work", "site")
    for relative, first in [("shop/models.py", True), ("shop/models/profile.py", True), ("models.py", True),
                            ("shop/views.py", False), ("shop/mymodels.py", False), ("shop/models_extra.py", False)]:
        assert _may_define_models(os.path.join(root, *relative.split("/")), root) is first, relative


def test_a_project_without_reverse_one_to_one_scans_without_the_stale_cache_facts(tmp_path: Path) -> None:
    root = _project(tmp_path, field="ForeignKey")
    settings = Settings(use_cache=False)
    facts = ProjectFacts([str(root)], settings).facts
    deferred = sorted(os.path.relpath(path, root) for path, found in facts.items() if found.get(DEFERRED))
    # the models module is read first with every extractor; no other file gets OTO002's facts
    assert "shop/models.py" not in deferred
    assert deferred == sorted(os.path.relpath(path, root) for path in facts if not path.endswith("models.py"))
    for path, found in facts.items():
        full = facts_for_file(path, str(root))
        assert full is not None and DEFERRED not in full
        if found.get(DEFERRED):
            assert found[DEFERRED] == ["OTO002"] and "OTO002" not in found["rules"]
            # nothing else differs from a full extraction
            assert {k: v for k, v in found.items() if k != DEFERRED} == {
                **full, "rules": {code: value for code, value in full["rules"].items() if code != "OTO002"}}
        else:
            assert found == full
    project_facts = ProjectFacts([str(root)], settings)
    facts = project_facts.facts
    project_facts.complete(index_from_facts(facts, settings))  # no reverse one-to-one: nothing to extract
    assert sorted(os.path.relpath(path, root) for path, found in facts.items() if found.get(DEFERRED)) == deferred
    assert _findings(root, "--no-cache", "--select", "OTO002") == []


def test_a_one_to_one_outside_the_models_files_gets_its_facts_before_any_rule_reads_them(tmp_path: Path) -> None:
    root = _project(tmp_path)
    settings = Settings(use_cache=False)
    project_facts = ProjectFacts([str(root)], settings)
    facts = project_facts.facts
    services = str(root / "shop" / "services.py")
    assert facts[services][DEFERRED] == ["OTO002"]  # the models module alone names no relation
    project_facts.complete(index_from_facts(facts, settings))
    assert DEFERRED not in facts[services]
    assert rule_facts(facts[services], "OTO002") == rule_facts(facts_for_file(services, str(root)), "OTO002")
    assert rule_facts(facts[services], "OTO002")  # ensure_profile's write

    cache = tmp_path / "cache"
    assert _findings(root, "--no-cache") == EXPECTED
    assert _findings(root, "--cache-dir", str(cache)) == EXPECTED  # cold: deferred, then completed
    assert _findings(root, "--cache-dir", str(cache)) == EXPECTED  # warm: findings from the cache
    (root / "shop" / "views.py").write_text(VIEWS + "\n")  # re-analysed against the stored facts
    assert _findings(root, "--cache-dir", str(cache)) == EXPECTED
    assert _findings(root, "--no-cache", "--jobs", "2") == EXPECTED
    # flake8, cold, on its own cache: the same two
    shutil.rmtree(root / ".o2o-lint-cache", ignore_errors=True)
    flake8 = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "OTO",
                             "--format=%(path)s:%(row)d:%(code)s", "."],
                            cwd=root, capture_output=True, text=True, timeout=300)
    assert sorted(tuple(line.split(":")) for line in flake8.stdout.split()) == [
        (f"./{path}", str(line), code) for path, line, code in EXPECTED], flake8.stderr


def test_a_one_to_one_added_after_a_cold_scan_completes_the_cached_facts(tmp_path: Path) -> None:
    root = _project(tmp_path, field="ForeignKey")
    cache = tmp_path / "cache"
    assert _findings(root, "--cache-dir", str(cache), "--select", "OTO002") == []
    # the one change that makes the relation one-to-one: services.py and views.py are unchanged,
    # and their cached facts were scanned without OTO002's
    profiles = root / "shop" / "profiles.py"
    profiles.write_text(PROFILES.format(field="OneToOneField"))
    assert _findings(root, "--cache-dir", str(cache), "--select", "OTO002") == EXPECTED
    assert _findings(root, "--cache-dir", str(cache), "--select", "OTO002") == EXPECTED
    assert _findings(root, "--no-cache", "--select", "OTO002") == EXPECTED


def test_a_file_that_no_longer_parses_when_completed_gets_no_facts_of_the_rule(tmp_path: Path) -> None:
    root = _project(tmp_path)
    settings = Settings(use_cache=False)
    project_facts = ProjectFacts([str(root)], settings)
    facts = project_facts.facts
    services, views = str(root / "shop" / "services.py"), str(root / "shop" / "views.py")
    assert facts[services][DEFERRED] == facts[views][DEFERRED] == ["OTO002"]
    (root / "shop" / "services.py").write_text("def broken(:\n")  # edited between the scan and the completion
    project_facts.complete(index_from_facts(facts, settings))
    assert DEFERRED not in facts[services] and rule_facts(facts[services], "OTO002") is None
    assert DEFERRED not in facts[views] and rule_facts(facts[views], "OTO002")  # login's read and call
