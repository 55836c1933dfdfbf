"""Reading Python source the way CPython does: PEP 263 coding lines, a UTF-8 BOM.

The decoded text keeps its line endings so that ``--fix`` can write them back
unchanged; the raw bytes are kept so a fix can detect a file that changed underneath.
"""

from __future__ import annotations

import bisect
import codecs
import io
import os
import re
import stat
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass

#: Larger files are nearly always generated; reading them costs memory for nothing.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: The line ends Python's tokenizer counts (``str.splitlines`` also splits on \f, \v, \x1c...).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: For text screens' patterns: a whole ``#`` comment. The look-ahead to the line end leaves
#: the regex one way to match it (a line of ``#`` could otherwise be split into comments in
#: exponentially many ways).
COMMENT_PATTERN = r"#[^\r\n]*(?=[\r\n]|\Z)"
#: For text screens' patterns: what may stand between two tokens of one expression
#: (whitespace, line continuations, comments, closing brackets: ``(x.acc).all()``).
EXPRESSION_GAP = r"(?:[\s)\\]|%s)*" % COMMENT_PATTERN


def split_lines(text: str) -> list[str]:
    """Physical lines as the tokenizer (and flake8) count them, line endings kept."""
    return io.StringIO(text, newline="").readlines()


def apply_line_edits(text: str, edits: Iterable[tuple[int, int, int, str]]) -> str:
    """*text* with each (line, start column, end column, replacement) applied; the edits
    of one line must not overlap. Line endings are kept."""
    by_line: dict[int, list[tuple[int, int, str]]] = {}
    for line, start, end, content in edits:
        by_line.setdefault(line, []).append((start, end, content))
    if not by_line:
        return text
    lines = split_lines(text)
    for number, line_edits in by_line.items():
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        for start, end, content in sorted(line_edits, reverse=True):
            body = body[:start] + content + body[end:]
        lines[number - 1] = body + ending
    return "".join(lines)


def char_column(lines: list[str], line: int, byte_column: int) -> int:
    """The column in characters of ``ast``'s UTF-8 *byte_column* on *line* of *lines*
    (as :func:`split_lines` gives them), as LibCST counts columns."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return len(text.encode("utf-8")[:byte_column].decode("utf-8", "replace"))


def line_numbers(text: str, offsets: Iterable[int]) -> list[int]:
    """The 1-based line (as ``ast`` numbers lines) of each character offset in *text*."""
    offsets = list(offsets)
    if "\r" in text:
        breaks = [match.start() for match in _LINE_BREAK.finditer(text)]
        return [bisect.bisect_right(breaks, offset - 1) + 1 for offset in offsets]
    # counting in C between the offsets, instead of listing every line break of a long file
    lines: dict[int, int] = {}
    line, position = 1, 0
    for offset in sorted(set(offsets)):
        line += text.count("\n", position, offset)
        lines[offset] = line
        position = max(offset, 0)
    return [lines[offset] for offset in offsets]


class SourceError(Exception):
    """A file that cannot be read or decoded; the message is one line for the user."""

    def __init__(self, message: str, line: int = 1, column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class SourceText:
    text: str
    encoding: str
    has_bom: bool

    def encode(self, text: str) -> bytes:
        data = text.encode(self.encoding)
        return codecs.BOM_UTF8 + data if self.has_bom else data


def decode_source(data: bytes) -> SourceText:
    if b"\x00" in data:
        raise SourceError("cannot read: binary file (contains NUL bytes)")
    if not data.startswith(codecs.BOM_UTF8) and b"coding" not in _first_two_lines(data):
        # no BOM and no coding line: utf-8, as tokenize.detect_encoding finds, without its
        # work; bytes that are not utf-8 take the long way, for its error
        try:
            return SourceText(text=data.decode("utf-8"), encoding="utf-8", has_bom=False)
        except UnicodeDecodeError:
            pass
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"cannot decode: {exc}") from None
    has_bom = encoding == "utf-8-sig"
    body = data[len(codecs.BOM_UTF8) :] if has_bom else data
    codec = "utf-8" if has_bom else encoding
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise SourceError(
            f"cannot decode: invalid {codec} byte at offset {exc.start}", line
        ) from None
    except LookupError:
        raise SourceError(f"cannot decode: unknown encoding {encoding!r}") from None
    except Exception as exc:  # codecs fail in their own ways: `coding: undefined`, `punycode`...
        raise SourceError(f"cannot decode as {codec}: {type(exc).__name__}") from None
    return SourceText(text=text, encoding=codec, has_bom=has_bom)


def _first_two_lines(data: bytes) -> bytes:
    """The lines where a PEP 263 coding line can be (as ``tokenize.detect_encoding`` reads them)."""
    end = data.find(b"\n")
    if end != -1:
        end = data.find(b"\n", end + 1)
    return data if end == -1 else data[:end + 1]


def decode_template(data: bytes) -> SourceText:
    """A template's text as Django's loaders (``OPTIONS["file_charset"]``, ``"utf-8"``
    unless a project sets it) and Jinja2's ``FileSystemLoader`` (``encoding="utf-8"``)
    read it by default: utf-8, a BOM kept out of the text here and written back; no
    ``coding:`` line is honoured. A template in another charset is reported unreadable,
    never guessed at."""
    if b"\x00" in data:
        raise SourceError("cannot read: binary file (contains NUL bytes)")
    has_bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8):] if has_bom else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise SourceError(f"cannot decode: invalid utf-8 byte at offset {exc.start}", line) from None
    return SourceText(text=text, encoding="utf-8", has_bom=has_bom)


def read_source(path: str) -> tuple[bytes, SourceText]:
    """A file's bytes and text: a template (by its extension) as a template engine decodes
    it (:func:`decode_template`), anything else as Python source."""
    from o2o_lint.discovery import is_template_path

    data = read_bytes(path)
    return data, (decode_template if is_template_path(path) else decode_source)(data)


def read_bytes(path: str) -> bytes:
    """A regular file's bytes (at most :data:`MAX_FILE_BYTES`), or :class:`SourceError`."""
    try:
        # O_NONBLOCK: opening a FIFO named like a module must not wait for a writer forever.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise SourceError("cannot read: not a regular file")
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise SourceError(f"cannot read: file larger than {MAX_FILE_BYTES // 2**20} MiB")
    return data
