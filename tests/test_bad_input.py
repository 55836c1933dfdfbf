"""Bad input gets one clear OTO000 line and the run goes on; good-but-odd input is checked."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.helpers import run_cli, write_project

FK_UNIQUE = "from django.db import models\n\nclass Company(models.Model):\n    pass\n\nclass Address(models.Model):\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"


def findings(tmp_path: Path, *args: str) -> tuple[int, list[dict]]:
    result = run_cli("--format", "json", "--no-cache", *args, cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("py2.py", b"print 'hello'\n", "cannot parse"),
        ("half.py", b"def f(:\n", "cannot parse"),
        ("conflict.py", b"x = 1\n<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> branch\n", "cannot parse"),
        ("latin.py", "x = 'caf\xe9'\n".encode("latin-1"), "cannot decode"),
        ("binary.py", b"\x7fELF\x00\x00\x01\x02", "binary"),
        ("badcoding.py", b"# -*- coding: klingon -*-\nx = 1\n", "cannot decode"),
    ],
)
def test_bad_file_is_one_line_and_others_still_checked(tmp_path: Path, name: str, content: bytes, fragment: str) -> None:
    write_project(tmp_path, {"app/models.py": FK_UNIQUE})
    (tmp_path / "app" / name).write_bytes(content)
    code, results = findings(tmp_path, ".")
    assert code == 1
    problems = [r for r in results if r["code"] == "OTO000"]
    assert len(problems) == 1 and problems[0]["path"].endswith(name)
    assert fragment in problems[0]["message"]
    assert any(r["code"] == "OTO001" for r in results)


def test_text_output_names_the_file_in_one_line(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": FK_UNIQUE})
    (tmp_path / "app" / "broken.py").write_text("class (:\n")
    result = run_cli("--no-cache", ".", cwd=tmp_path)
    lines = [line for line in result.stdout.splitlines() if ": OTO000 " in line]
    assert lines == [lines[0]] and lines[0].startswith("app/broken.py:1:")


def test_missing_path_and_symlink_loop(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": FK_UNIQUE})
    os.symlink("loop_b.py", tmp_path / "app" / "loop_a.py")
    os.symlink("loop_a.py", tmp_path / "app" / "loop_b.py")
    missing = run_cli("--no-cache", ".", "does-not-exist.py", cwd=tmp_path)  # a usage error, before any work
    assert missing.returncode == 2 and missing.stderr == "o2o-lint: error: does-not-exist.py: no such file or directory\n"
    code, results = findings(tmp_path, ".")
    messages = {r["path"]: r["message"] for r in results if r["code"] == "OTO000"}
    assert any("symlink" in m for p, m in messages.items() if "loop_" in p)
    assert any(r["code"] == "OTO001" for r in results)


def test_unreadable_file(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": FK_UNIQUE})
    secret = tmp_path / "app" / "secret.py"
    if os.geteuid() == 0:
        # root reads any file whatever its mode; reading this one fails with EIO instead
        os.symlink("/proc/self/mem", secret)
    else:
        secret.write_text("x = 1\n")
        secret.chmod(0)
    _, results = findings(tmp_path, ".")
    assert any(r["code"] == "OTO000" and "cannot read" in r["message"] for r in results)


@pytest.mark.slow
@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode(),
        lambda s: b"\xef\xbb\xbf" + s.encode(),
        lambda s: ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + s).encode("latin-1"),
        lambda s: ("# coding: cp1252\n# \u20ac\n" + s).encode("cp1252"),
        lambda s: s.replace("\n", "\r\n").encode(),
        lambda s: s.replace("\n", "\r\n", 3).encode(),
        lambda s: s.replace("    ", "\t").encode(),
    ],
    ids=["utf8", "bom", "latin1", "cp1252", "crlf", "mixed-endings", "tabs"],
)
def test_odd_but_valid_files_are_checked_and_fixed_byte_exactly(tmp_path: Path, encode) -> None:
    write_project(tmp_path, {"app/__init__.py": ""})
    path = tmp_path / "app" / "models.py"
    original = encode(FK_UNIQUE)
    path.write_bytes(original)
    code, results = findings(tmp_path, ".")
    assert [r["code"] for r in results] == ["OTO001"]
    result = run_cli("--fix", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    fixed = path.read_bytes()
    # Exactly the fix, nothing else: same encoding, BOM, line endings and tabs.
    assert fixed == original.replace(b"ForeignKey", b"OneToOneField").replace(b", unique=True", b"")


@pytest.mark.slow
def test_empty_file_and_large_generated_file(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": FK_UNIQUE, "app/empty.py": ""})
    (tmp_path / "app" / "generated.py").write_text("DATA = [\n" + "    'x' * 10,\n" * 400_000 + "]\n")
    assert (tmp_path / "app" / "generated.py").stat().st_size > 5_000_000
    code, results = findings(tmp_path, ".")
    assert [r["code"] for r in results] == ["OTO001"]


def test_deeply_nested_input_never_crashes_the_run(tmp_path: Path) -> None:
    write_project(tmp_path, {"app/models.py": FK_UNIQUE})
    app = tmp_path / "app"
    (app / "chain2k.py").write_text("unique = 1" + "+1" * 2000 + "\nForeignKey = None\n")
    (app / "chain10k.py").write_text("unique = 1" + "+1" * 10000 + "\nForeignKey = None\n")
    (app / "parens.py").write_text("unique = " + "(" * 3000 + "1" + ")" * 3000 + "\nForeignKey = None\n")
    (app / "nested.py").write_text("unique = " + "[" * 1000 + "]" * 1000 + "\nForeignKey = None\n")
    code, results = findings(tmp_path, ".")
    codes = {Path(r["path"]).name: r["code"] for r in results}
    assert codes["models.py"] == "OTO001"
    # more than 200 nested brackets: a syntax error on every Python
    assert codes.get("parens.py") == "OTO000"
    # a 10 000-term chain: Python 3.11+ stops at its recursion limit (OTO000); Python
    # 3.10's parser builds it, and then the file has nothing to report
    expected = "OTO000" if sys.version_info >= (3, 11) else None
    assert codes.get("chain10k.py") == expected
    assert code == 1
