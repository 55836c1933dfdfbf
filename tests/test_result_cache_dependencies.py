"""The findings cache follows what a file's findings read from other files' text.

OTO001's fix is safe only when no file of the project uses the reverse manager, and that
is read from the other files' text, not from their facts: removing the use from a view
leaves the view's facts as they were, yet must make the models file's fix safe again on
the next (warm) run, exactly as a run without the cache says.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from o2o_lint import __version__, cli
from o2o_lint.cache import Cache
from o2o_lint.result_cache import CacheEntry
from tests.helpers import run_cli, write_project

MODELS = """\
from django.db import models


class Company(models.Model):
    name = models.CharField(max_length=10)


class Invoice(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, unique=True)


class Badge(models.Model):
    company = models.OneToOneField(Company, on_delete=models.CASCADE)
"""
#: (``Badge``: a one-to-one in the models file, so that even the first, cold scan extracts
#: every file's facts whole, and their digests compare like with like from run to run.)
USING = "def total(company):\n    return company.invoice_set.count()\n"
NOT_USING = "def total(company):\n    return 0\n"


def _oto001_fix(root: Path, *options: str) -> str:
    report = json.loads(run_cli("--output-format", "json", *options, ".", cwd=root).stdout)
    [finding] = [f for f in report if f["code"] == "OTO001"]
    return finding["fix"]["applicability"]


def _entry_name(root: Path, kind: str) -> str:
    """The name of the one cache entry of *kind* (file names end in ``-<version>.marshal``)."""
    [path] = (root / ".o2o-lint-cache").glob(f"{kind}-*-{__version__}.marshal")
    return path.name[: -len(f"-{__version__}.marshal")]


def _views_facts(root: Path) -> object:
    stats = Cache(str(root / ".o2o-lint-cache")).load(_entry_name(root, "index"))
    assert isinstance(stats, dict)
    return stats["files"][str(root / "billing" / "views.py")][2]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_removing_a_use_in_another_file_makes_the_cached_fix_safe(tmp_path: Path, jobs: str) -> None:
    root = write_project(tmp_path / "p", {"billing/models.py": MODELS, "billing/views.py": USING})
    # the pool runs only with enough files to share
    for number in range(20):
        (root / "billing" / f"other{number}.py").write_text(f"VALUE = {number}\n")
    assert _oto001_fix(root, "--jobs", jobs) == "unsafe"
    facts_before = _views_facts(root)
    (root / "billing" / "views.py").write_text(NOT_USING)
    assert _oto001_fix(root, "--jobs", jobs) == "safe" == _oto001_fix(root, "--no-cache")
    assert _views_facts(root) == facts_before  # the facts alone could not have told
    # and back: the use is there again, a warm run sees it
    (root / "billing" / "views.py").write_text(USING)
    assert _oto001_fix(root, "--jobs", jobs) == "unsafe"


def test_only_findings_that_read_other_files_keep_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dependency is recorded on the file whose findings read other files; a file no
    text-reading view looked at stays reusable whatever the others' text."""
    root = write_project(tmp_path / "p", {"billing/models.py": MODELS, "billing/views.py": USING,
                                          "billing/forms.py": NOT_USING})
    monkeypatch.chdir(root)
    assert cli.main(["--output-format", "concise", "."]) == 1
    stored = Cache(str(root / ".o2o-lint-cache")).load(_entry_name(root, "findings"))
    assert isinstance(stored, dict)
    entries = {os.path.relpath(path, root): CacheEntry.from_stored(entry) for path, entry in stored["files"].items()}
    models, forms = entries["billing/models.py"], entries["billing/forms.py"]
    assert models is not None and forms is not None
    assert str(root / "billing" / "views.py") in models.texts_read
    assert forms.texts_read == ()
