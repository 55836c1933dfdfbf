"""Fix safety (issue 7), each a test.

``--fix`` writes atomically (a temporary file in the same directory, then a rename), keeps
the file's mode, owner and line endings, and never writes text that does not parse; fixes
are idempotent; after fixing, the fixed findings are gone and no new ones appear; two
``--fix`` processes at once (or one killed half-way) leave every file untouched or fully
fixed; and the code being linted is never imported or executed.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path

import libcst as cst
import pytest

from o2o_lint import runner
from o2o_lint.engine import Engine
from o2o_lint.findings import Fix
from o2o_lint.rules.visitor import LintRule
from o2o_lint.runner import MODE_FIX, process_file
from tests.fuzz.bait import BAIT, TREE_RULES
from tests.helpers import FIXTURES, engine_for, run_cli, write_project

GOOD = "app/models.py"


def assert_survived(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode in (0, 1), f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


def check_json(root: Path, *args: str) -> list[dict]:
    result = run_cli("--output-format", "json", "--no-cache", *args, ".", cwd=root)
    assert_survived(result)
    return json.loads(result.stdout)


def snapshot(root: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        if ".o2o-lint-cache" in path.parts or not path.is_file() or path.is_symlink():
            continue
        files[str(path.relative_to(root))] = path.read_bytes()
    return files


def fix_file(root: Path, relative: str = GOOD, *, engine: Engine | None = None, unsafe: bool = False):
    engine = engine or engine_for(root)
    return process_file(engine, str(root / relative), MODE_FIX, unsafe, (os.path.realpath(root),))


# -- atomic writes -----------------------------------------------------------------------------


def test_fix_writes_a_temporary_file_in_the_same_directory_then_renames_it(tmp_path, monkeypatch) -> None:
    write_project(tmp_path, {GOOD: BAIT})
    target = tmp_path / GOOD
    seen = []
    real_replace = os.replace

    def spy(source, destination):
        # at the moment of the rename: the new text is complete in the temporary file,
        # next to the target, and the target still holds the old text
        seen.append((Path(source), Path(destination), Path(source).read_bytes(), Path(destination).read_bytes()))
        return real_replace(source, destination)

    monkeypatch.setattr(runner.os, "replace", spy)
    result = fix_file(tmp_path)
    assert result.written
    ((source, destination, new, old),) = seen
    assert destination == target and source.parent == target.parent and source.name.startswith(".o2o-lint-")
    assert old == BAIT.encode() and new == target.read_bytes() != old
    assert not source.exists()


@pytest.mark.parametrize("failing", ["write", "fsync", "chmod", "replace"])
def test_a_failure_during_the_write_leaves_the_file_and_no_temporary_file(tmp_path, monkeypatch, failing: str) -> None:
    write_project(tmp_path, {GOOD: BAIT})

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if failing == "write":
        real_fdopen = os.fdopen

        class Full:
            def __init__(self, *args, **kwargs):
                self.handle = real_fdopen(*args, **kwargs)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.handle.close()

            def write(self, data):
                self.handle.write(data[: len(data) // 2])  # half the bytes made it to disk
                raise OSError(28, "No space left on device")

        monkeypatch.setattr(runner.os, "fdopen", Full)
    else:
        monkeypatch.setattr(runner.os, failing, boom)
    result = fix_file(tmp_path)
    assert not result.written and not result.fixed
    assert (tmp_path / GOOD).read_text() == BAIT
    assert [p.name for p in (tmp_path / "app").iterdir() if p.name.startswith(".")] == []
    problems = [f for f in result.findings if f.code == "OTO000"]
    assert len(problems) == 1 and "No space left on device" in problems[0].message
    # what was not fixed is still reported
    assert {f.code for f in result.findings} >= set(TREE_RULES)


def test_an_interrupt_during_the_write_removes_the_temporary_file(tmp_path, monkeypatch) -> None:
    write_project(tmp_path, {GOOD: BAIT})

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fix_file(tmp_path)
    assert (tmp_path / GOOD).read_text() == BAIT
    assert [p.name for p in (tmp_path / "app").iterdir() if p.name.startswith(".")] == []


def test_a_file_changed_while_it_was_being_fixed_is_left_alone(tmp_path, monkeypatch) -> None:
    write_project(tmp_path, {GOOD: BAIT})
    engine = engine_for(tmp_path)
    real_fix = engine.fix
    edited = BAIT + "\n# the user saved this meanwhile\n"

    def fix_while_the_user_types(*args, **kwargs):
        outcome = real_fix(*args, **kwargs)
        (tmp_path / GOOD).write_text(edited)
        return outcome

    monkeypatch.setattr(engine, "fix", fix_while_the_user_types)
    result = fix_file(tmp_path, engine=engine)
    assert not result.written
    assert (tmp_path / GOOD).read_text() == edited
    assert any("changed while it was being fixed" in f.message for f in result.findings)


# -- what is kept -------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o755, 0o444, 0o2775])
def test_fix_keeps_the_file_mode(tmp_path: Path, mode: int) -> None:
    write_project(tmp_path, {GOOD: BAIT})
    target = tmp_path / GOOD
    target.chmod(mode)
    result = run_cli("--fix", "--no-cache", ".", cwd=tmp_path)
    assert_survived(result)
    assert target.read_text() != BAIT
    assert stat.S_IMODE(target.stat().st_mode) == mode


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_fix_keeps_the_owner_when_root_fixes_a_users_file(tmp_path: Path) -> None:
    write_project(tmp_path, {GOOD: BAIT})
    target = tmp_path / GOOD
    os.chown(target, 4321, 4322)
    result = run_cli("--fix", "--no-cache", ".", cwd=tmp_path)
    assert_survived(result)
    assert target.read_text() != BAIT
    assert (target.stat().st_uid, target.stat().st_gid) == (4321, 4322)


def test_fix_keeps_hard_links_apart_and_never_writes_through_them(tmp_path: Path) -> None:
    """A rename replaces the directory entry: the other name keeps the old bytes."""
    write_project(tmp_path, {GOOD: BAIT})
    outside = tmp_path.parent / f"{tmp_path.name}-outside.py"
    os.link(tmp_path / GOOD, outside)
    try:
        assert_survived(run_cli("--fix", "--no-cache", ".", cwd=tmp_path))
        assert (tmp_path / GOOD).read_text() != BAIT
        assert outside.read_text() == BAIT
    finally:
        outside.unlink()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("header", "why"),
    [
        # decodes "\\u00e9" to "é", which would be written back as a raw byte
        ('# -*- coding: unicode_escape -*-\nX = "\\u00e9"\n', "does not round-trip"),
        # decodes, but encoding a line longer than 63 characters raises UnicodeError
        ("# -*- coding: idna -*-\n", "cannot be encoded"),
    ],
    ids=["unicode_escape", "idna"],
)
def test_fix_never_writes_in_an_encoding_that_does_not_round_trip(tmp_path: Path, header: str, why: str) -> None:
    write_project(tmp_path, {GOOD: ""})
    target = tmp_path / GOOD
    original = header.encode("ascii") + BAIT.encode()
    target.write_bytes(original)
    result = run_cli("--fix", "--no-cache", ".", cwd=tmp_path)
    assert_survived(result)
    assert target.read_bytes() == original
    assert result.returncode == 1 and why in result.stdout
    assert {code for code in TREE_RULES if f" {code} " in result.stdout} == set(TREE_RULES)


# -- never write what does not parse ---------------------------------------------------------------------


class _BreaksSyntax(LintRule):
    code = "OTO998"
    name = "breaks-syntax"
    summary = "test double: a fix whose output does not parse"

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "Restaurant":
            self.report(node, "bad", Fix("break it", True, {node: cst.Name("if")}, span=self.span_of(node)))


class _FixRaises(LintRule):
    code = "OTO997"
    name = "fix-raises"
    summary = "test double: a fix that blows up while being applied"

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "Restaurant":
            self.report(node, "bad", Fix("raise", True, {node: "not a node"}, span=self.span_of(node)))  # type: ignore[dict-item]


@pytest.mark.parametrize("double", [_BreaksSyntax, _FixRaises])
def test_fix_never_writes_when_a_fix_breaks_the_code(tmp_path: Path, double: type[LintRule]) -> None:
    write_project(tmp_path, {GOOD: BAIT})
    engine = engine_for(tmp_path)
    engine.rules = [*engine.rules, double]
    result = fix_file(tmp_path, engine=engine)
    assert not result.written and (tmp_path / GOOD).read_text() == BAIT
    problems = [f for f in result.findings if f.code == "OTO000"]
    assert len(problems) == 1 and "left unchanged" in problems[0].message
    # the file's findings are still all reported, as they are on disk
    assert {f.code for f in result.findings} >= {*TREE_RULES, double.code}


# -- idempotence, and what fixing changes ----------------------------------------------------------------


def demo_project(root: Path) -> Path:
    shutil.copytree(FIXTURES / "demo", root / "demo")
    (root / "demo" / "extra").mkdir()
    (root / "demo" / "extra" / "__init__.py").write_text("")
    (root / "demo" / "extra" / "models.py").write_text(BAIT)
    return root / "demo"


@pytest.mark.slow
@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_fix_is_idempotent_and_leaves_no_fixable_finding(tmp_path: Path, unsafe: bool) -> None:
    root = demo_project(tmp_path)
    flags = ["--fix", "--unsafe-fixes"] if unsafe else ["--fix"]
    first = run_cli(*flags, "--no-cache", ".", cwd=root)
    assert_survived(first)
    after_first = snapshot(root)
    second = run_cli(*flags, "--no-cache", ".", cwd=root)
    assert_survived(second)
    assert snapshot(root) == after_first, "a second --fix changed something"
    assert "Fixed 0 findings" in second.stdout or "Fixed" not in second.stdout
    records = check_json(root, *(["--unsafe-fixes"] if unsafe else []))
    fixable = [r for r in records if r["fix"] is not None and (r["fix"]["safe"] or unsafe)]
    assert fixable == [], fixable
    assert not [r for r in records if r["code"] == "OTO000"]


@pytest.mark.slow
@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_after_fixing_the_fixed_findings_are_gone_and_no_new_ones_appear(tmp_path: Path, unsafe: bool) -> None:
    root = demo_project(tmp_path)
    before = check_json(root)
    fixable = [r for r in before if r["fix"] is not None and (r["fix"]["safe"] or unsafe)]
    assert {r["code"] for r in fixable} >= {"OTO001", "OTO002", "OTO003"}
    result = run_cli("--fix", *(["--unsafe-fixes"] if unsafe else []), "--no-cache", ".", cwd=root)
    assert_survived(result)
    after = check_json(root)

    def key(record: dict) -> tuple[str, str]:
        return record["path"], record["code"]

    # (line numbers move when a fix adds a line: compare by file and code)
    expected = Counter(map(key, before)) - Counter(map(key, fixable))
    gone = Counter(map(key, before)) - Counter(map(key, after))
    new = Counter(map(key, after)) - Counter(map(key, before))
    moved: Counter[tuple[str, str]] = Counter()
    if unsafe:
        # the uses an unsafe conversion breaks, reported before it by OTO004 (the reason it was
        # unsafe), are reported after it by OTO005, in the same files: no more of them
        broken = gone - Counter(map(key, fixable))
        moved = Counter({(path, "OTO005"): n for (path, code), n in broken.items() if code == "OTO004"}) & new
        new -= moved
    assert not new, f"fixing created findings: {new}"
    if unsafe:
        # An unsafe OTO001 fix turns a ForeignKey(unique=True) into a OneToOneField, and the
        # OTO004 findings about that relation's reverse manager go with it: they were the
        # reason the fix was unsafe (its description says so), not findings of their own.
        assert {code for _, code in gone - Counter(map(key, fixable))} <= {"OTO004"}, gone
        expected = Counter({k: n for k, n in expected.items() if k[1] != "OTO004"})
        after = [r for r in after if r["code"] != "OTO004"]
    assert Counter(map(key, after)) - moved == expected, f"gone {gone}, expected gone {Counter(map(key, fixable))}"


# -- concurrency and interruption ---------------------------------------------------------------------------


def many_files(root: Path, count: int) -> Path:
    files = {}
    for number in range(count):
        files[f"pkg{number:02d}/models.py"] = BAIT
        files[f"pkg{number:02d}/services.py"] = (
            f"from pkg{number:02d}.models import Company, Place, Restaurant\n\n\n"
            "def opened(company):\n    place = Place(name='x')\n    Restaurant.objects.create(place=place)\n"
            "    return company.invoice_set.count()\n"
        )
    return write_project(root, files)


@pytest.fixture(scope="module")
def fix_outcomes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], dict[str, bytes]]:
    """A tree of 48 files, and each file's two allowed states: untouched and fully fixed
    (by one ``--fix`` process alone)."""
    template = many_files(tmp_path_factory.mktemp("template"), 24)
    original = snapshot(template)
    alone = tmp_path_factory.mktemp("alone")
    shutil.copytree(template, alone, dirs_exist_ok=True)
    assert_survived(run_cli("--fix", "--no-cache", ".", cwd=alone))
    fixed = snapshot(alone)
    assert sum(fixed[p] != original[p] for p in original) >= 40
    return template, original, fixed


def assert_untouched_or_fully_fixed(root: Path, original: dict[str, bytes], fixed: dict[str, bytes]) -> int:
    """Returns how many temporary files were left behind (only a killed process may)."""
    now = {path: data for path, data in snapshot(root).items() if not Path(path).name.startswith(".o2o-lint-")}
    assert set(now) == set(original), set(now) ^ set(original)
    for path, data in now.items():
        assert data in (original[path], fixed[path]), f"{path} is neither untouched nor fully fixed"
    leftovers = [p for p in root.rglob(".o2o-lint-*") if p.name != ".o2o-lint-cache"]
    return len(leftovers)


@pytest.mark.slow
@pytest.mark.parametrize("cache", [False, True], ids=["no-cache", "cache"])
def test_two_fix_processes_at_once_leave_every_file_untouched_or_fully_fixed(
    tmp_path: Path, fix_outcomes, cache: bool
) -> None:
    template, original, fixed = fix_outcomes
    for round_ in range(3):
        root = tmp_path / f"round{round_}"
        shutil.copytree(template, root)
        args = [sys.executable, "-m", "o2o_lint", "--fix", *([] if cache else ["--no-cache"]), "."]
        if round_ == 2:
            args.insert(-1, "--jobs=2")
        processes = [subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for _ in range(2)]
        for process in processes:
            out, err = process.communicate(timeout=300)
            assert process.returncode in (0, 1) and "Traceback" not in err, err[-3000:]
        assert assert_untouched_or_fully_fixed(root, original, fixed) == 0
        # and together they fixed everything: whichever lost a race left it to the other
        assert snapshot(root) == fixed


#: Rounds of the kill test at most; it stops once two kills landed between the writes.
MAX_KILL_ROUNDS = 16


@pytest.mark.slow
def test_a_fix_process_killed_at_any_moment_leaves_every_file_untouched_or_fully_fixed(
    tmp_path: Path, fix_outcomes
) -> None:
    template, original, fixed = fix_outcomes
    rng = random.Random(7)
    killed_half_way = 0
    # Where a kill lands depends on the scheduler: a loaded machine runs the fixer and this
    # loop at uneven speeds, so rounds go on (up to a bound) until two kills landed between
    # the writes; every round, wherever its kill landed, must leave no file half-fixed.
    for round_ in range(MAX_KILL_ROUNDS):
        if killed_half_way >= 2:
            break
        root = tmp_path / f"round{round_}"
        shutil.copytree(template, root)
        process = subprocess.Popen([sys.executable, "-m", "o2o_lint", "--fix", "--no-cache", "."], cwd=root,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # freeze it as soon as it has started writing (plus a little, every other round), then kill it
        deadline = time.monotonic() + 120
        while process.poll() is None and snapshot(root) == original and time.monotonic() < deadline:
            time.sleep(0.002)
        if round_ % 2:
            time.sleep(rng.uniform(0, 0.02))
        if process.poll() is None:
            process.send_signal(signal.SIGSTOP)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=300)
        # a temporary file may be left behind by a kill; it is never a module (no .py)
        assert_untouched_or_fully_fixed(root, original, fixed)
        assert not [p for p in root.rglob(".o2o-lint-*") if p.suffix == ".py"]
        now = {p: d for p, d in snapshot(root).items() if not Path(p).name.startswith(".o2o-lint-")}
        killed_half_way += process.returncode == -signal.SIGKILL and now != original and now != fixed
    assert killed_half_way >= 2, "the kills did not land in the middle of the writes"


# -- the linted code is never run ------------------------------------------------------------------------


#: Module names a project may have at its top level that shadow what o2o-lint (and its
#: dependencies) import: `python -m o2o_lint` runs with the project as current directory.
SHADOWING = ("typing", "argparse", "difflib", "tempfile", "json", "ast", "tokenize", "hashlib", "marshal",
             "dataclasses", "fnmatch", "secrets", "types", "libcst", "django", "sitecustomize", "usercustomize")


def console_script(name: str) -> Path:
    """Where pip put the console script *name* for this interpreter (a venv, --user...)."""
    candidates = [Path(sys.executable).with_name(name), Path(sysconfig.get_path("scripts")) / name]
    candidates += [Path(sysconfig.get_path("scripts", f"{os.name}_user")) / name] if os.name == "posix" else []
    found = next((path for path in candidates if path.is_file()), None) or shutil.which(name)
    assert found, f"no {name} console script: pip install -e '.[test]'"
    return Path(found)


def planted_project(root: Path, markers: Path) -> Path:
    def plant(name: str) -> str:
        return f"open({str(markers / name)!r}, 'w').close()\n"

    files = {
        GOOD: plant("models") + BAIT,
        "app/apps.py": plant("apps") + "from django.apps import AppConfig\n",
        "app/services.py": plant("services") + "def f(company):\n    return company.invoice_set.count()\n",
        "app/migrations/0001_initial.py": plant("migration"),
        "config/settings.py": plant("settings") + "INSTALLED_APPS = ['app']\n",
        "conftest.py": plant("conftest"),
        "setup.py": plant("setup") + "from setuptools import setup\nsetup()\n",
        "noxfile.py": plant("noxfile"),
    }
    for name in SHADOWING:
        files[f"{name}.py"] = plant(f"shadow-{name}")
    write_project(root, files)
    (root / "app" / "__init__.py").write_text(plant("app-init"))
    (root / "manage.py").write_text(plant("manage") + "import sys\n")
    (root / "requirements.txt").write_text("Django>=5.2\n")
    return root


@pytest.mark.slow
def test_the_linted_code_is_never_imported_or_executed(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    root = planted_project(tmp_path / "project", markers)
    # the flake8 plugin (through flake8's console script: `python -m flake8` would put the
    # project first on sys.path before flake8 and our plugin are even loaded)
    flake8 = console_script("flake8")
    result = subprocess.run([str(flake8), "--isolated", "--select", "OTO", "."], cwd=root,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "OTO001" in result.stdout, result.stderr[-3000:]
    # the console script, as pre-commit runs it
    script = console_script("o2o-lint")
    result = subprocess.run([str(script), "--no-cache", "."], cwd=root, capture_output=True, text=True, timeout=300)
    assert_survived(result)
    assert "OTO001" in result.stdout
    assert sorted(p.name for p in markers.iterdir()) == []
    runs = [
        ["."], ["--jobs", "2", "."], ["--target-version", "auto", "."], ["--diff", "--unsafe-fixes", "."],
        ["--output-format", "json", "."],
        ["--fix", "--unsafe-fixes", "."],  # writes models.py (through LibCST): it was really processed
        ["--stdin-filename", "app/models.py", "-"],
        ["--fix", "--stdin-filename", "app/models.py", "-"],
    ]
    for args in runs:
        stdin = (root / GOOD).read_text() if "-" in args else None
        for cache in ([], ["--no-cache"]):
            result = run_cli(*cache, *args, cwd=root, stdin=stdin)  # python -m o2o_lint, from the project
            assert_survived(result)
            assert sorted(p.name for p in markers.iterdir()) == [], (args, result.stdout[-2000:])
    assert "OneToOneField" in (root / GOOD).read_text()
    assert sorted(p.name for p in markers.iterdir()) == []


def test_the_planted_modules_would_write_their_marker(tmp_path: Path) -> None:
    """The test above proves something only if running the planted code leaves a marker."""
    markers = tmp_path / "markers"
    markers.mkdir()
    root = planted_project(tmp_path / "project", markers)
    subprocess.run([sys.executable, "conftest.py"], cwd=root, check=True)
    subprocess.run([sys.executable, "-c", "import typing"], cwd=root, check=True)  # '' first on sys.path
    assert sorted(p.name for p in markers.iterdir()) == ["conftest", "shadow-typing"]
