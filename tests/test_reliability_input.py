"""Bad input (issue 7), each a test.

* odd but valid files are checked (and fixed) normally;
* a file that cannot be checked is one clear OTO000 line naming it, the run goes on with
  the other files, the exit code says a problem occurred, and ``--fix`` leaves the file
  byte for byte as it was;
* deep nesting is checked or OTO000, never a crash: not in the CLI (check, ``--fix``,
  ``--diff``, ``--jobs``, standard input), not for any single rule, not under flake8.

Every hostile file here starts from :data:`tests.fuzz.bait.BAIT`, which gets past the
screen of every tree rule, so the engine really goes as far as LibCST with it.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from o2o_lint import edits
from o2o_lint.rules import all_rules
from o2o_lint.sourcefile import decode_source
from tests.fuzz.bait import BAIT, BAIT_CODES, NON_TREE_RULES, TREE_RULES, bad_files, deep_files, plant_special_files
from tests.helpers import engine_for, run_cli, write_project

#: The good file of every project below, and what a clean ``--fix --unsafe-fixes`` makes of it.
GOOD = "app/models.py"


def assert_survived(result: subprocess.CompletedProcess[str]) -> None:
    """Exit 0 or 1, as a run that finished: no signal (-11 is a segfault), no traceback."""
    assert result.returncode in (0, 1), f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


def cli_json(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    result = run_cli("--output-format", "json", "--no-cache", *args, cwd=root)
    assert_survived(result)
    return result, json.loads(result.stdout)


def by_path(records: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for record in records:
        grouped.setdefault(record["path"], []).append(record)
    return grouped


def good_project(root: Path) -> Path:
    return write_project(root, {GOOD: BAIT})


def fixed_bait(root: Path, *, unsafe: bool = False) -> str:
    """The bait after ``--fix`` (with ``--unsafe-fixes``), computed by the engine."""
    engine = engine_for(root)
    outcome = engine.fix(str(root / GOOD), BAIT, unsafe=unsafe, fresh_facts=True)
    assert outcome.error is None and outcome.text != BAIT
    return outcome.text


# -- the bait itself ------------------------------------------------------------------


def test_the_bait_reaches_every_tree_rule(tmp_path: Path) -> None:
    """Without this, a hostile file built on the bait might stop at a screen and prove nothing."""
    good_project(tmp_path)
    findings = engine_for(tmp_path).analyze(str(tmp_path / GOOD), BAIT).findings
    assert sorted(f.code for f in findings) == BAIT_CODES, findings
    assert set(all_rules()) == set(TREE_RULES) | NON_TREE_RULES


@pytest.mark.slow
def test_shallow_versions_of_the_deep_files_reach_every_tree_rule(tmp_path: Path) -> None:
    """The constructs of the deep files do not stop the screens: only their depth matters."""
    paths = deep_project(tmp_path, scale=0.01)
    engine = engine_for(tmp_path)
    for path, name in paths.items():
        findings = engine.analyze(str(tmp_path / path), (tmp_path / path).read_text()).findings
        assert {f.code for f in findings} >= set(TREE_RULES), (name, findings)


# -- odd but valid files ----------------------------------------------------------------


def _nonascii(text: str) -> str:
    return text.replace("class Owner(models.Model):", "# Größe, 名前 — ünïcödé\nclass Owner(models.Model):\n    café = 'naïve'\n", 1)


ODD_BUT_VALID = {
    "utf8": (lambda s: s.encode(), "exact"),
    "bom": (lambda s: b"\xef\xbb\xbf" + s.encode(), "exact"),
    "latin1-coding": (lambda s: ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + s).encode("latin-1"), "exact"),
    "cp1252-coding": (lambda s: ("# coding: cp1252\n# \u20ac \u201cquoted\u201d\n" + s).encode("cp1252"), "exact"),
    "bom-and-utf8-coding": (lambda s: b"\xef\xbb\xbf# coding: utf-8\n" + s.encode(), "exact"),
    "crlf": (lambda s: s.replace("\n", "\r\n").encode(), "exact"),
    # libcst 1.9 drops the last "\r" of such a file: checked, but never fixed (byte loss)
    "cr-only": (lambda s: s.replace("\n", "\r").encode(), "untouched"),
    "tabs": (lambda s: s.replace("    ", "\t").encode(), "exact"),
    "form-feed": (lambda s: s.replace("\n\n\nclass", "\n\n\x0c\nclass").encode(), "exact"),
    "no-final-newline": (lambda s: s.rstrip("\n").encode(), "exact"),
    "non-ascii": (lambda s: _nonascii(s).encode(), "exact"),
    "trailing-whitespace": (lambda s: s.replace(":\n", ":   \n").encode(), "exact"),
    # CRLF for the first lines, LF after: existing lines keep theirs (checked line by line)
    "mixed-endings": (lambda s: s.replace("\n", "\r\n", 12).encode(), "endings"),
}


def _lines_with_endings(data: bytes) -> list[tuple[bytes, bytes]]:
    return [(m.group(1), m.group(2)) for m in re.finditer(rb"([^\r\n]*)(\r\n|\r|\n|$)", data) if m.group(0)]


def assert_line_endings_kept(original: bytes, fixed: bytes) -> None:
    """Every line the fix kept keeps its ending; a new line takes one the file already uses."""
    before, after = _lines_with_endings(original), _lines_with_endings(fixed)
    endings = {ending for _, ending in before}
    matcher = difflib.SequenceMatcher(None, [line for line, _ in before], [line for line, _ in after], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            assert [e for _, e in before[i1:i2]] == [e for _, e in after[j1:j2]], (before[i1:i2], after[j1:j2])
        else:
            assert {e for _, e in after[j1:j2]} <= endings | {b""}, after[j1:j2]


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(ODD_BUT_VALID))
def test_odd_but_valid_files_are_checked_and_fixed_byte_exactly(tmp_path: Path, variant: str) -> None:
    encode, expect = ODD_BUT_VALID[variant]
    good_project(tmp_path)
    expected_fixed = fixed_bait(tmp_path, unsafe=True)
    path = tmp_path / GOOD
    original = encode(BAIT)
    path.write_bytes(original)
    _, records = cli_json(tmp_path, ".")
    assert not [r for r in records if r["code"] == "OTO000"], records
    assert sorted(r["code"] for r in records) == BAIT_CODES
    fix = run_cli("--fix", "--unsafe-fixes", "--no-cache", ".", cwd=tmp_path)
    assert_survived(fix)
    fixed = path.read_bytes()
    if expect == "exact":
        # exactly the fixes, nothing else: same encoding, BOM, line endings, tabs, spacing
        assert fixed == encode(expected_fixed)
    elif expect == "untouched":
        assert fixed == original
        assert fix.returncode == 1 and "fix not applied" in fix.stdout
        return
    else:
        assert_line_endings_kept(original, fixed)
        assert decode_source(fixed).text.replace("\r\n", "\n") == expected_fixed
    # idempotent on odd files too
    again = run_cli("--fix", "--unsafe-fixes", "--no-cache", ".", cwd=tmp_path)
    assert_survived(again)
    assert path.read_bytes() == fixed


def generated_module() -> tuple[str, str]:
    """~5 MB: the bait, then a table in comments and a blob in a string. The screens pass,
    so the whole file goes through LibCST. Returns the whole text and the generated tail."""
    tail = "\n" + "".join(f"# row {i:07d}: " + "generated data " * 5 + "\n" for i in range(30000))
    tail += "BLOB = '''\n" + ("0123456789abcdef" * 8 + "\n") * 25000 + "'''\n"
    return BAIT + tail, tail


@pytest.mark.slow
def test_empty_files_and_a_5_mb_generated_module_that_reaches_libcst(tmp_path: Path) -> None:
    good_project(tmp_path)
    expected_fixed = fixed_bait(tmp_path)
    (tmp_path / "app" / "empty.py").write_bytes(b"")
    (tmp_path / "app" / "only_comments.py").write_text("# nothing here\n")
    (tmp_path / "app" / "only_bom.py").write_bytes(b"\xef\xbb\xbf")
    text, tail = generated_module()
    big = tmp_path / "app" / "generated_models.py"
    big.write_text(text)
    assert big.stat().st_size > 5_000_000
    result = run_cli("--output-format", "concise", "--no-cache", ".", cwd=tmp_path)
    assert_survived(result)
    rows = [line.split(": ", 1)[0].split(":")[0] + " " + line.split(": ", 1)[1].split(" ")[0]
            for line in result.stdout.splitlines() if ": OTO" in line]
    assert sorted(row for row in rows if row.startswith(GOOD)) == sorted(
        row.replace("generated_models.py", "models.py") for row in rows if row.startswith("app/generated_models.py")
    )
    assert not [row for row in rows if "OTO000" in row] and len(rows) == 2 * len(BAIT_CODES), rows
    fix = run_cli("--fix", "--no-cache", ".", cwd=tmp_path)
    assert_survived(fix)
    assert big.read_text() == expected_fixed + tail
    assert (tmp_path / "app" / "empty.py").read_bytes() == b""


@pytest.mark.slow
def test_json_output_for_a_5_mb_module(tmp_path: Path) -> None:
    """The JSON report computes each fix's edits on a 5 MB module and reports them all."""
    good_project(tmp_path)
    (tmp_path / "app" / "generated_models.py").write_text(generated_module()[0])
    result = run_cli("--output-format", "json", "--no-cache", "app/generated_models.py", cwd=tmp_path)
    assert_survived(result)
    assert len(json.loads(result.stdout)) == len(BAIT_CODES)


def test_fix_edits_diff_only_the_changed_region(monkeypatch) -> None:
    """difflib is quadratic: on a whole 5 MB module it took over 4 minutes. The edits of a
    fix must be computed on the lines it changed, whatever the size of the file."""
    compared: list[int] = []
    real_matcher = edits.difflib.SequenceMatcher

    def recording_matcher(junk, a, b, **kwargs):
        compared.append(max(len(a), len(b)))
        return real_matcher(junk, a, b, **kwargs)

    monkeypatch.setattr(edits.difflib, "SequenceMatcher", recording_matcher)
    filler = "".join(f"value_{n} = {n}\n" for n in range(200_000))
    original = filler + "field = models.ForeignKey(Company, unique=True)\n" + filler
    fixed = filler + "field = models.OneToOneField(Company)\n" + filler
    changes = edits.text_edits(original, fixed)
    assert edits.apply_edits(original, changes) == fixed
    assert compared and max(compared) < 100, compared  # a line or its tokens, not 400,000 lines


# -- files that cannot be checked -------------------------------------------------------------


def bad_project(root: Path) -> tuple[dict[str, str], dict[str, bytes]]:
    """The good file, then every kind of bad file in ``bad/``; returns the expected problems
    (path -> message fragment) and the bytes of every regular bad file."""
    good_project(root)
    bad = root / "bad"
    bad.mkdir()
    (bad / "__init__.py").write_text("")
    expected: dict[str, str] = {}
    contents: dict[str, bytes] = {}
    fragments = {"py2.py": "cannot parse", "half_written.py": "cannot parse", "merge_conflict.py": "cannot parse",
                 "binary.py": "binary", "utf16.py": "binary", "too_big.py": "larger than"}
    for name, data in bad_files().items():
        (bad / name).write_bytes(data)
        expected[f"bad/{name}"] = fragments.get(name, "cannot decode")
        contents[f"bad/{name}"] = data
    for name, fragment in plant_special_files(bad).items():
        expected[f"bad/{name}"] = fragment
    return expected, contents


def _snapshot(root: Path) -> dict[str, tuple[str, bytes]]:
    """Every entry under *root* without following symlinks: kind and bytes or link target."""
    snapshot = {}
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".o2o-lint-cache"]
        for name in filenames:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                snapshot[relative] = ("link", os.readlink(path).encode())
            elif os.path.isfile(path):
                with open(path, "rb") as handle:
                    snapshot[relative] = ("file", handle.read())
            else:
                snapshot[relative] = ("special", b"")
    return snapshot


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_each_bad_file_is_one_oto000_line_and_the_run_goes_on(tmp_path: Path, jobs: str) -> None:
    expected, _ = bad_project(tmp_path)
    result, records = cli_json(tmp_path, "--jobs", jobs, ".")
    assert result.returncode == 1
    problems = [r for r in records if r["code"] == "OTO000"]
    assert sorted(r["path"] for r in problems) == sorted(expected), problems
    for record in problems:
        assert expected[record["path"]] in record["message"], record
        assert "\n" not in record["message"] and "internal error" not in record["message"]
    # the good file is still checked and reported, fully
    assert sorted(r["code"] for r in records if r["path"] == GOOD) == BAIT_CODES


def test_bad_files_in_text_output_are_one_line_each_naming_the_file(tmp_path: Path) -> None:
    expected, _ = bad_project(tmp_path)
    result = run_cli("--output-format", "concise", "--no-cache", ".", cwd=tmp_path)
    assert_survived(result)
    lines = [line for line in result.stdout.splitlines() if " OTO000 " in line]
    assert len(lines) == len(expected)
    for path in expected:
        assert len([line for line in lines if line.startswith(f"{path}:")]) == 1, (path, lines)


@pytest.mark.slow
def test_exit_code_says_a_problem_occurred_even_when_nothing_else_is_found(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": "from django.db import models\n"})
    (tmp_path / "app" / "broken.py").write_text(BAIT[:200])
    check = run_cli("--no-cache", ".", cwd=tmp_path)
    assert_survived(check)
    assert check.returncode != 0
    # --fix fixes everything fixable, and still says a file could not be checked
    (tmp_path / "app" / "models.py").write_text(
        "from django.db import models\n\n\nclass Company(models.Model):\n    pass\n\n\n"
        "class Address(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"
    )
    # (unsafe: while broken.py cannot be read, a use of `address_set` there is unknown)
    fix = run_cli("--fix", "--unsafe-fixes", "--no-cache", ".", cwd=tmp_path)
    assert_survived(fix)
    assert "OneToOneField" in (tmp_path / "app" / "models.py").read_text()
    assert fix.returncode != 0 and "OTO000" in fix.stdout


@pytest.mark.slow
@pytest.mark.parametrize("flags", [["--fix"], ["--fix", "--unsafe-fixes"], ["--fix", "--jobs", "2"]], ids=" ".join)
def test_fix_leaves_every_bad_file_byte_for_byte_untouched(tmp_path: Path, flags: list[str]) -> None:
    expected, _ = bad_project(tmp_path)
    before = _snapshot(tmp_path)
    result = run_cli(*flags, "--no-cache", ".", cwd=tmp_path)
    assert_survived(result)
    assert result.returncode == 1
    after = _snapshot(tmp_path)
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    assert changed == {GOOD}, changed  # the good file was fixed; nothing else was touched
    assert not [p for p in after if os.path.basename(p).startswith(".o2o-lint-")]


@pytest.mark.slow
def test_fix_through_a_symlink_pointing_outside_the_project_writes_nothing(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "models.py").write_text(BAIT)
    (outside / "pkg").mkdir()
    (outside / "pkg" / "models.py").write_text(BAIT)
    project = good_project(tmp_path / "project")
    os.symlink(outside / "models.py", project / "app" / "linked_models.py")
    os.symlink(outside / "pkg", project / "vendored")
    before = _snapshot(outside)
    for args in (["--fix", "."], ["--fix", "--unsafe-fixes", "."], ["--fix", "--unsafe-fixes", "vendored/models.py"]):
        result = run_cli(*args, "--no-cache", cwd=project)
        assert_survived(result)
        assert result.returncode == 1
        assert "outside the project" in result.stdout
    assert _snapshot(outside) == before
    assert os.readlink(project / "app" / "linked_models.py") == str(outside / "models.py")
    # the finding the fix would have removed is still reported
    _, records = cli_json(project, "app/linked_models.py")
    assert "OTO001" in {r["code"] for r in records}


@pytest.mark.slow
def test_fix_through_a_symlink_inside_the_project_fixes_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"app/real_models.py": BAIT})
    expected = engine_for(project).fix(str(project / "app" / "real_models.py"), BAIT).text
    assert expected != BAIT
    os.symlink("real_models.py", project / "app" / "a_link.py")  # sorted first: found before its target
    result = run_cli("--fix", "--no-cache", ".", cwd=project)
    assert_survived(result)
    assert os.readlink(project / "app" / "a_link.py") == "real_models.py"
    assert (project / "app" / "real_models.py").read_text() == expected


# -- deep nesting -----------------------------------------------------------------------------------


def deep_project(root: Path, scale: float = 1.0) -> dict[str, str]:
    """The good file and every deep file, each in a models module of its own package."""
    good_project(root)
    paths = {}
    for index, (name, text) in enumerate(sorted(deep_files(scale).items())):
        relative = f"deep{index:02d}/models.py"
        (root / f"deep{index:02d}").mkdir()
        (root / f"deep{index:02d}" / "__init__.py").write_text("")
        (root / relative).write_text(text)
        paths[relative] = name
    return paths


def assert_deep_files_handled(records: list[dict], paths: dict[str, str]) -> None:
    grouped = by_path(records)
    assert sorted(r["code"] for r in grouped[GOOD]) == BAIT_CODES
    for path, name in paths.items():
        found = grouped.get(path, [])
        problems = [r for r in found if r["code"] == "OTO000"]
        # checked (its findings) or exactly one OTO000 line; never an internal error
        assert found and len(problems) <= 1, (name, found)
        if problems:
            assert len(found) == 1 and "internal error" not in problems[0]["message"], (name, found)


@pytest.fixture(scope="module")
def deep_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("deep")
    return root, deep_project(root)


@pytest.mark.slow
@pytest.mark.parametrize("args", [[], ["--jobs", "2"], ["--unsafe-fixes", "--diff"]], ids=" ".join)
def test_deep_nesting_never_takes_the_run_down(deep_root: tuple[Path, dict[str, str]], args: list[str]) -> None:
    root, paths = deep_root
    result, records = cli_json(root, *args, ".") if "--diff" not in args else (run_cli("--no-cache", *args, ".", cwd=root), None)
    assert_survived(result)
    assert result.returncode == 1
    if records is not None:
        assert_deep_files_handled(records, paths)
    else:
        assert "+++ b/app/models.py" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("code", TREE_RULES)
def test_deep_nesting_is_guarded_for_every_rule_alone(deep_root: tuple[Path, dict[str, str]], code: str) -> None:
    root, paths = deep_root
    result, records = cli_json(root, "--select", code, ".")
    assert result.returncode == 1
    grouped = by_path(records)
    assert code in {r["code"] for r in grouped[GOOD]}
    for path, name in paths.items():
        assert len([r for r in grouped.get(path, []) if r["code"] == "OTO000"]) <= 1, name


@pytest.mark.slow
@pytest.mark.parametrize("flags", [["--fix"], ["--fix", "--unsafe-fixes"], ["--fix", "--jobs", "2"]], ids=" ".join)
def test_deep_nesting_under_fix_fixes_the_rest_and_leaves_deep_files_untouched(tmp_path: Path, flags: list[str]) -> None:
    paths = deep_project(tmp_path)
    expected_good = fixed_bait(tmp_path, unsafe="--unsafe-fixes" in flags)
    before = _snapshot(tmp_path)
    result = run_cli(*flags, "--no-cache", ".", cwd=tmp_path)
    assert_survived(result)
    assert result.returncode == 1
    assert (tmp_path / GOOD).read_text() == expected_good
    after = _snapshot(tmp_path)
    _, records = cli_json(tmp_path, ".")
    unchecked = {r["path"] for r in records if r["code"] == "OTO000"}
    assert unchecked, "the deep files must be there"
    for path in unchecked:
        assert after[path] == before[path], paths.get(path)
    for path in paths:
        if after[path] != before[path]:  # a deep file that was checked may be fixed, and must parse
            ast.parse(after[path][1])


_STDIN_LOOP = textwrap.dedent(
    """
    import contextlib, io, json, sys
    from o2o_lint.cli import main

    for path in sys.argv[1:]:
        with open(path, "rb") as handle:
            data = handle.read()
        for args in (["--output-format", "json"], ["--fix"]):
            sys.stdin = io.TextIOWrapper(io.BytesIO(data))
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = main(["--no-cache", *args, "--stdin-filename", "app/other_models.py", "-"])
            print(json.dumps([path, args[0], code, out.getvalue()[:200]]), file=sys.stderr, flush=True)
    """
)


@pytest.mark.slow
def test_deep_nesting_on_standard_input(tmp_path: Path, deep_root: tuple[Path, dict[str, str]]) -> None:
    """Every deep file through ``-`` (check and ``--fix``) into a small project, in one
    process: a crash on any one of them kills it."""
    root, paths = deep_root
    good_project(tmp_path)
    files = {str(root / path): name for path, name in paths.items()}
    result = subprocess.run(
        [sys.executable, "-c", _STDIN_LOOP, *files], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("[")]
    assert len(runs) == 2 * len(files)
    for path, mode, code, output in runs:
        assert code in (0, 1), (files[path], mode, code)
        assert output, (files[path], mode)  # a report, or the (fixed or unchanged) text


# -- flake8 ----------------------------------------------------------------------------------------

#: Runs the plugin exactly as flake8 does (its own options, its FileChecker) but alone,
#: without pyflakes and pycodestyle: on deep input those crash flake8 by themselves (see
#: docs/reliability.md), and the question here is whether *our* plugin ever does.
_PLUGIN_ALONE = textwrap.dedent(
    """
    import ast, json, sys
    from flake8.checker import FileChecker
    from flake8.options.parse_args import parse_args

    plugins, options = parse_args(["--select", "OTO", *sys.argv[1:]])
    ours = [p for p in plugins.checkers.tree if p.entry_name == "OTO"]
    assert ours, [p.entry_name for p in plugins.checkers.tree]
    alone = plugins.checkers._replace(tree=ours, logical_line=[], physical_line=[])
    for path in sys.argv[1:]:
        with open(path, "rb") as handle:
            source = handle.read()
        try:
            ast.parse(source)
        except (RecursionError, MemoryError):
            # flake8 7's own ast.parse raises these out of flake8 before any plugin runs
            print(json.dumps([path, "flake8-cannot-parse"]), flush=True)
            continue
        except SyntaxError:
            pass
        _, results, _ = FileChecker(filename=path, plugins=alone, options=options).run_checks()
        print(json.dumps([path, sorted({r[0] for r in results})]), flush=True)
    """
)


@pytest.mark.slow
def test_flake8_plugin_survives_deep_nesting(deep_root: tuple[Path, dict[str, str]]) -> None:
    root, paths = deep_root
    result = subprocess.run(
        [sys.executable, "-c", _PLUGIN_ALONE, GOOD, *paths], cwd=root, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    codes = dict(json.loads(line) for line in result.stdout.splitlines())
    assert set(codes) == {GOOD, *paths}
    assert set(TREE_RULES) <= set(codes[GOOD])
    for path, name in paths.items():
        assert codes[path] == "flake8-cannot-parse" or codes[path], name
    # the cases flake8 itself cannot parse are only the ones CPython rejects
    assert {paths[p] for p, c in codes.items() if c == "flake8-cannot-parse"} <= {
        name for name in paths.values() if name.startswith("chain-10000")
    }


@pytest.mark.slow
def test_real_flake8_survives_what_pyflakes_survives(tmp_path: Path) -> None:
    """``flake8 --select OTO`` end to end, on the deep files pyflakes itself can handle
    (a flat ``ast`` with a deep LibCST tree, or a syntax error): the plugin must not crash."""
    good_project(tmp_path)
    chosen = {name: text for name, text in deep_files().items()
              if name.split("-")[0] in {"or", "and", "strings", "fstrings", "parens", "brackets", "import"}}
    for index, (name, text) in enumerate(sorted(chosen.items())):
        package = tmp_path / f"deep{index:02d}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "models.py").write_text(text)
    result = subprocess.run(
        # E999: flake8's own report of a file that does not parse (no plugin runs on those)
        [sys.executable, "-m", "flake8", "--isolated", "--select", "OTO,E999", "--format", "%(path)s|%(code)s", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    rows = [line.split("|") for line in result.stdout.splitlines()]
    assert {code for path, code in rows if path == f"./{GOOD}"} >= set(TREE_RULES)
    assert {path for path, _ in rows} >= {f"./deep{i:02d}/models.py" for i in range(len(chosen))}
