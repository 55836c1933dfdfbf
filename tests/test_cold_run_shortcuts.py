"""The cold run's shortcuts give what the long way gives (issue 17).

Each shortcut skips work a text screen or a memo proves useless; these cases are the
corners where a screen could be wrong: identifiers spelled with other Unicode letters
(NFKC-normalised by Python), decorators above a statement, coding lines, a file that
changes between the index's scan and the analysis.
"""

from __future__ import annotations

import ast
import codecs
import io
import os
import textwrap
import tokenize
from pathlib import Path

import pytest

from o2o_lint.cache import stat_signature
from o2o_lint.index import build
from o2o_lint.index.facts import (
    _CUSTOM_MANAGER_WORDS,
    _custom_managers,
    _may_change_templates,
    _saved_names,
    _template_dirs_changed,
    module_name_for,
    remembering_packages,
)
from o2o_lint.runner import _kept_source
from o2o_lint.sourcefile import MAX_FILE_BYTES, SourceError, SourceText, decode_source


def _decode_the_long_way(data: bytes) -> SourceText:
    """``decode_source`` before its shortcut: always through ``tokenize.detect_encoding``."""
    if b"\x00" in data:
        raise SourceError("cannot read: binary file (contains NUL bytes)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"cannot decode: {exc}") from None
    has_bom = encoding == "utf-8-sig"
    body = data[len(codecs.BOM_UTF8):] if has_bom else data
    codec = "utf-8" if has_bom else encoding
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        raise SourceError(f"cannot decode: invalid {codec} byte at offset {exc.start}",
                          body[: exc.start].count(b"\n") + 1) from None
    return SourceText(text=text, encoding=codec, has_bom=has_bom)


def _outcome(decode, data: bytes) -> object:
    try:
        return decode(data)
    except SourceError as exc:
        return ("error", str(exc), exc.line)


@pytest.mark.parametrize("data", [
    pytest.param(b"", id="empty"),
    pytest.param(b"x = 1\n", id="ascii"),
    pytest.param("x = 'é'\n".encode(), id="utf-8"),
    pytest.param(codecs.BOM_UTF8 + b"x = 1\n", id="bom"),
    pytest.param(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", id="coding-line-1"),
    pytest.param(b"#!/usr/bin/env python\n# coding: latin-1\nx = '\xe9'\n", id="coding-line-2"),
    pytest.param(b"\n\n# coding: latin-1\nx = '\xe9'\n", id="coding-line-3-is-no-coding-line"),
    pytest.param(b"x = 1  # coding: latin-1\n", id="coding-after-code"),
    pytest.param(b"# encoding without a name\nx = 1\n", id="the-word-without-a-cookie"),
    pytest.param(b"x = '\xe9'\n", id="not-utf-8-on-line-1"),
    pytest.param(b"x = 1\ny = 2\nz = '\xe9'\n", id="not-utf-8-further-down"),
    pytest.param(b"# coding: no-such-codec\n", id="unknown-codec"),
    pytest.param(b"x = 1\r# coding: latin-1\r", id="carriage-returns"),
    pytest.param(b"x = 1", id="no-line-break"),
    pytest.param(b"x\x00 = 1\n", id="nul"),
])
def test_decoding_without_a_coding_line_gives_what_detect_encoding_gives(data: bytes) -> None:
    assert _outcome(decode_source, data) == _outcome(_decode_the_long_way, data)


def test_module_names_are_the_same_with_each_directory_looked_at_once(tmp_path: Path) -> None:
    for directory in ("pkg/sub/deeper", "pkg/other", "loose/inner"):
        (tmp_path / directory).mkdir(parents=True)
    for package in ("pkg", "pkg/sub", "pkg/sub/deeper", "pkg/other", "loose/inner"):
        (tmp_path / package / "__init__.py").write_text("")
    paths = [str(tmp_path / p) for p in ("pkg/sub/deeper/a.py", "pkg/sub/deeper/__init__.py", "pkg/sub/b.py",
                                         "pkg/other/c.py", "loose/inner/d.py", "loose/e.py", "f.py", "pkg/__init__.py")]
    alone = [module_name_for(p, str(tmp_path)) for p in paths]
    with remembering_packages():
        remembered = [module_name_for(p, str(tmp_path)) for p in paths * 2]
    assert remembered == alone * 2
    assert alone[:3] == ["pkg.sub.deeper.a", "pkg.sub.deeper", "pkg.sub.b"]
    # outside a scan every call looks again: an editor's server sees a package appear
    (tmp_path / "loose" / "__init__.py").write_text("")
    assert module_name_for(paths[4], str(tmp_path)) == "loose.inner.d"


SAVES = textwrap.dedent('''
    class Profile(models.Model):
        def save(self, *args, **kwargs):
            self.user.save()
            if self.owner_id:
                self.owner.asave()
            super().save(*args, **kwargs)

        @decorated(lambda: self.account.save())
        def other(self):
            return [
                item
                for item in self.items.all()
            ]

        class Nested:
            def go(self):
                helper.save()
''')


@pytest.mark.parametrize("source", [
    pytest.param(SAVES, id="ascii"),
    pytest.param(SAVES.replace("self.owner.asave()", "self.owner.as\uff41ve()").replace(
        "helper.save()", "helper.\uff53ave()"), id="other-unicode-letters"),
    pytest.param(SAVES.replace("self.user.save()", "self.user.\\\n        save()"), id="continued-line"),
    pytest.param(SAVES.replace("\n", "\r\n"), id="crlf"),
])
def test_the_relations_a_save_override_saves_are_found_near_the_lines_spelling_save(source: str) -> None:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ClassDef)
    assert _saved_names(node, source) == _saved_names(node)  # the text-free full walk
    assert _saved_names(node, source) == ["account", "helper", "owner", "user"]


@pytest.mark.parametrize("source", [
    pytest.param("x = 1\n", id="no-templates"),
    pytest.param("TEMPLATES[0]['DIRS'] += ['x']\n", id="changed"),
    pytest.param("if DEBUG:\n    TEMPLATES[0]['DIRS'].append('x')\n", id="changed-in-a-block"),
    pytest.param("\uff34EMPLATES[0]['DIRS'] += ['x']\n", id="other-unicode-letters"),
    pytest.param("TEMPLATES[0]['OPTIONS']['debug'] = True\n", id="another-key"),
])
def test_only_a_module_naming_templates_may_change_them(source: str) -> None:
    tree = ast.parse(source)
    assert _may_change_templates(tree, source) == _template_dirs_changed(tree, None)


@pytest.mark.parametrize("source", [
    "x = 1\n", "objects = Manager()\n", "objects = QS.as_manager()\n", "M = Manager.from_queryset(Q)\n",
    "def manager(): pass\nmanager()\n", "class M(models.Manager): pass\n",
])
def test_custom_managers_are_found_in_fewer_passes_over_the_text(source: str) -> None:
    tree = ast.parse(source)
    assert _custom_managers(tree, source, []) == any(word in source for word in _CUSTOM_MANAGER_WORDS)


@pytest.mark.parametrize("size", [0, 1, 4096, 65537, MAX_FILE_BYTES, MAX_FILE_BYTES + 1, MAX_FILE_BYTES + 7])
def test_the_scan_reads_what_a_buffered_read_reads(tmp_path: Path, size: int) -> None:
    path = tmp_path / "module.py"
    path.write_bytes(os.urandom(size))
    with open(path, "rb") as handle:
        expected = handle.read(MAX_FILE_BYTES + 1)
    assert build._read_signed(str(path)) == (stat_signature(str(path)), expected)


def test_what_cannot_be_read_is_not_scanned(tmp_path: Path) -> None:
    assert build._read_signed(str(tmp_path)) is None  # a directory
    assert build._read_signed(str(tmp_path / "missing.py")) is None


def test_the_analysis_takes_the_scanned_text_only_while_the_file_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "models.py"
    path.write_text("x = 1\n")
    with build.keeping_sources() as kept:
        scanned = build.scan_file((str(path), str(tmp_path), None, ()))
    assert scanned is not None and str(path) in kept
    signature, digest = scanned[0], scanned[1]
    taken = _kept_source(dict(kept), str(path), None)
    assert taken is not None and taken[0] == digest and taken[1].text == "x = 1\n"
    assert _kept_source(kept, str(path), signature) is not None
    assert _kept_source(kept, str(path), signature) is None  # taken once
    # changed since the scan (another size): read again
    with build.keeping_sources() as kept:
        build.scan_file((str(path), str(tmp_path), None, ()))
    path.write_text("x = 12\n")
    assert _kept_source(kept, str(path), None) is None
    # outside the block, and in a worker of a pool, nothing is kept
    build.scan_file((str(path), str(tmp_path), None, ()))
    assert build._KEEPING is None


def test_a_file_that_does_not_parse_keeps_no_text(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("def (:\n")
    with build.keeping_sources() as kept:
        assert build.scan_file((str(path), str(tmp_path), None, ())) is not None
    assert kept == {}
