"""A damaged cache is ignored, never an error (issue 7: survive anything).

The on-disk cache (``.o2o-lint-cache``) is ours, but anything may happen to it: a crash
mid-way through another tool, a disk filling up, an older checkout of o2o-lint writing a
different layout under the same version. Whatever its files hold, a run gives the same
findings as a run without the cache, and ``--fix`` the same result.
"""

from __future__ import annotations

import json
import marshal
from pathlib import Path

import pytest

from tests.fuzz.bait import BAIT
from tests.helpers import run_cli, write_project

#: Left out by `pytest -m "not slow"`: each test runs the CLI several times on a damaged cache.
pytestmark = pytest.mark.slow


def _reshape(value, replacement):
    """The same keys, every value replaced: a layout from some other version."""
    if isinstance(value, dict):
        return {key: replacement for key in value}
    return replacement


CORRUPTIONS = {
    "garbage": lambda data: bytes(range(256)) * 3,
    "truncated": lambda data: data[: len(data) // 2],
    "an int": lambda data: marshal.dumps(5),
    "a list": lambda data: marshal.dumps([1, 2, 3]),
    "None": lambda data: marshal.dumps(None),
    "values are ints": lambda data: marshal.dumps(_reshape(marshal.loads(data), 5)),
    "values are dicts": lambda data: marshal.dumps(_reshape(marshal.loads(data), {"x": (1,)})),
}


def warm_project(root: Path, *, expected: bool = False) -> tuple[list[dict] | None, list[str]]:
    """A project whose cache is warm; returns its findings (without the cache, if asked)
    and the names of its cache files. (Cache entries are keyed by the project's path: a
    copy of the project elsewhere would not even read them.)"""
    write_project(root, {
        "app/models.py": BAIT,
        "app/services.py": "def count(company):\n    return company.invoice_set.count()\n",
    })
    warm = run_cli("--output-format", "json", ".", cwd=root)  # writes the cache
    if expected:
        assert run_cli("--output-format", "json", "--no-cache", ".", cwd=root).stdout == warm.stdout
    names = sorted(p.name for p in (root / ".o2o-lint-cache").glob("*.marshal"))
    return json.loads(warm.stdout), names


KINDS = ("facts", "findings", "index")


def test_the_cache_is_really_read(tmp_path: Path) -> None:
    """Else the test below proves nothing."""
    expected, names = warm_project(tmp_path, expected=True)
    assert expected and {name.split("-")[0] for name in names} == set(KINDS)
    (findings,) = [name for name in names if name.startswith("findings-")]
    stored = marshal.loads((tmp_path / ".o2o-lint-cache" / findings).read_bytes())
    assert isinstance(stored, dict) and stored


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_cache_entry_is_ignored(tmp_path: Path, kind: str) -> None:
    expected, names = warm_project(tmp_path)
    (name,) = [name for name in names if name.startswith(f"{kind}-")]
    path = tmp_path / ".o2o-lint-cache" / name
    intact = path.read_bytes()
    for corruption, damage in CORRUPTIONS.items():
        path.write_bytes(damage(intact))
        result = run_cli("--output-format", "json", ".", cwd=tmp_path)
        assert result.returncode == 1 and "Traceback" not in result.stderr, (corruption, result.stderr[-2000:])
        assert json.loads(result.stdout) == expected, corruption


def test_fix_with_every_cache_entry_damaged(tmp_path: Path) -> None:
    warm_project(tmp_path)
    for path in (tmp_path / ".o2o-lint-cache").glob("*.marshal"):
        path.write_bytes(marshal.dumps([1, 2, 3]))
    fixed = run_cli("--fix", ".", cwd=tmp_path)
    assert fixed.returncode in (0, 1) and "Traceback" not in fixed.stderr, fixed.stderr[-2000:]
    assert "OneToOneField" in (tmp_path / "app" / "models.py").read_text()
