"""``# noqa``: suppression exactly as flake8 does it, ``--add-noqa`` and unused directives.

Under flake8 the plugin leaves suppression to flake8 itself (so that ``--disable-noqa``
and flake8-noqa keep working); the CLI applies the same rules here, with flake8's own
regular expressions and its notion of *which text* a finding's ``noqa`` is looked for
in: not only the physical line, but the whole token range from one NL/NEWLINE token
to the next (``FileProcessor._noqa_line_mapping``), so that a comment after a
backslash continuation or after the end of a multi-line string covers every line of
that range.

``--add-noqa`` (:func:`add_noqa`) builds on it: it writes ``# noqa: CODE`` for current
findings, merged into an existing directive, at the end of the finding's range: the
only place a comment can go when the reported line ends inside a multi-line string.
:func:`directives` lists the comments for the rule that reports unused ones.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from o2o_lint.discovery import is_template_path
from o2o_lint.findings import PARSE_ERROR_CODE, Finding
from o2o_lint.sourcefile import apply_line_edits, split_lines

# flake8's own expressions (flake8/defaults.py of flake8 7), copied so that the CLI runs without flake8 installed (flake8 is the optional
# extra ``o2o-lint[flake8]``); tests/test_packaging_extras.py checks they still equal
# flake8's.
NOQA_INLINE_REGEXP = re.compile(
    # ``# noqa``, ``# noqa: E123``, ``# noqa: E123,W451,F921``, ``# NoQA: E123 W451``...
    "# noqa"
    r"(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?",
    re.IGNORECASE,
)
NOQA_FILE = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)


def file_is_suppressed(lines: Iterable[str]) -> bool:
    return any(NOQA_FILE.match(line) for line in lines)


def _parse_codes(codes: str) -> list[str]:
    return [code for code in re.split(r"[,\s]+", codes) if code]


def code_matches(code: str, listed: Collection[str]) -> bool:
    return code in listed or code.startswith(tuple(listed))


@dataclass
class SourceLines:
    """A file's physical lines and flake8's noqa ranges over them (computed once)."""

    text: str
    lines: list[str] = field(init=False)
    _ranges: dict[int, tuple[int, int]] | None = field(default=None, init=False)
    _tokens: list[tokenize.TokenInfo] | None = field(default=None, init=False)
    tokenizes: bool = field(default=True, init=False)

    def __post_init__(self) -> None:
        self.lines = split_lines(self.text)

    @property
    def tokens(self) -> list[tokenize.TokenInfo]:
        if self._tokens is None:
            try:
                self._tokens = list(tokenize.generate_tokens(io.StringIO(self.text, newline="").readline))
            except (tokenize.TokenError, SyntaxError):
                self._tokens = []
                self.tokenizes = False
        return self._tokens

    @property
    def ranges(self) -> dict[int, tuple[int, int]]:
        """Line -> (first, last) line of its flake8 noqa range; lines not listed stand alone."""
        if self._ranges is None:
            ranges: dict[int, tuple[int, int]] = {}
            first, last = len(self.lines) + 2, -1
            for token in self.tokens:
                if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                    continue
                first, last = min(first, token.start[0]), max(last, token.end[0])
                if token.type in (tokenize.NL, tokenize.NEWLINE):
                    for line in range(first, last + 1):
                        ranges[line] = (first, last)
                    first, last = len(self.lines) + 2, -1
            self._ranges = ranges
        return self._ranges

    def range_of(self, line: int) -> tuple[int, int]:
        return self.ranges.get(line, (line, line))

    def noqa_text(self, line: int) -> str:
        """The text flake8 searches for the ``noqa`` of a finding on *line*."""
        first, last = self.range_of(line)
        return "".join(self.lines[max(first, 1) - 1 : last])


def is_suppressed(finding: Finding, source: SourceLines) -> bool:
    return _noqa_covers(source.noqa_text(finding.line), finding.code)


def _noqa_covers(text: str, code: str) -> bool:
    """Whether a ``# noqa`` in *text* (bare, or listing a code that matches) covers *code*."""
    match = NOQA_INLINE_REGEXP.search(text)
    if match is None:
        return False
    codes = match.group("codes")
    return not codes or code_matches(code, set(_parse_codes(codes)))


def filter_suppressed(findings: list[Finding], text: str) -> list[Finding]:
    return split_suppressed(findings, text)[0]


def split_suppressed(findings: list[Finding], text: str) -> tuple[list[Finding], list[Finding]]:
    """*findings* split into those ``# noqa`` in *text* lets through and those it suppresses
    (the findings cache keeps both: flake8 applies ``# noqa`` itself).

    A file that could not be checked (OTO000) is always said so: a ``# noqa`` comment in
    a file Python cannot read must not turn "not checked" into "all clear"."""
    if not findings or "noqa" not in text.lower():
        return findings, []
    source = SourceLines(text)
    whole_file = file_is_suppressed(source.lines)
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for finding in findings:
        unchecked = finding.code == PARSE_ERROR_CODE
        (suppressed if not unchecked and (whole_file or is_suppressed(finding, source)) else kept).append(finding)
    return kept, suppressed


def template_lines(text: str) -> list[str]:
    """A template's lines as its findings number them: split at ``\n`` only, as Django's
    lexer and Jinja2 count lines (a lone ``\r`` or U+2028 ends no line)."""
    return text.split("\n")


def split_suppressed_by_line(findings: list[Finding], text: str) -> tuple[list[Finding], list[Finding]]:
    """For text that is not Python (a template): *findings* split into those kept and
    those a ``# noqa`` (``{# noqa: CODE #}``) on their own line (:func:`template_lines`)
    suppresses."""
    if not findings or "noqa" not in text.lower():
        return findings, []
    lines = template_lines(text)
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for finding in findings:
        covered = 0 < finding.line <= len(lines) and _noqa_covers(lines[finding.line - 1], finding.code)
        (suppressed if covered else kept).append(finding)
    return kept, suppressed


def split_suppressed_in(path: str, findings: list[Finding], text: str) -> tuple[list[Finding], list[Finding]]:
    """*findings* of the file *path* split into those its ``# noqa`` comments let through and
    those they suppress: the one place that decides, by the path, how a file's comments are
    read (a template's ``{# noqa #}`` per line, :func:`split_suppressed_by_line`; Python's
    ``# noqa`` over flake8's token ranges, :func:`split_suppressed`)."""
    return (split_suppressed_by_line if is_template_path(path) else split_suppressed)(findings, text)


def filter_suppressed_in(path: str, findings: list[Finding], text: str) -> list[Finding]:
    """The findings of the file *path* its ``# noqa`` comments let through (:func:`split_suppressed_in`)."""
    return split_suppressed_in(path, findings, text)[0]


# -- directives in comments -----------------------------------------------------------------------


@dataclass(frozen=True)
class Directive:
    """A ``# noqa`` in a comment token: where it is and what it lists."""

    line: int
    start: int  # column of its ``#``
    end: int  # column just after the match
    comment_start: int
    comment: str
    codes: tuple[str, ...] | None  # None: a blanket ``# noqa``
    codes_start: int = 0  # columns of the codes group, when there is one
    codes_end: int = 0


def directives(source: SourceLines) -> list[Directive]:
    found = []
    for token in source.tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = NOQA_INLINE_REGEXP.search(token.string)
        if match is None:
            continue
        line, column = token.start
        codes = match.group("codes")
        found.append(
            Directive(
                line, column + match.start(), column + match.end(), column, token.string,
                None if codes is None else tuple(_parse_codes(codes)),
                column + match.start("codes") if codes else 0, column + match.end("codes") if codes else 0,
            )
        )
    return found


def line_content(line: str) -> tuple[str, str]:
    stripped = line.rstrip("\r\n")
    return stripped, line[len(stripped):]


def _apply_line_edits(source: SourceLines, edits: dict[int, list[tuple[int, int, str]]]) -> str:
    return apply_line_edits(source.text, ((line, *edit) for line, line_edits in edits.items() for edit in line_edits))


def codes_rewrite(directive: Directive, codes: list[str], source: SourceLines) -> tuple[int, int, str]:
    """An edit that makes *directive* list *codes* (keeping what follows the codes)."""
    content, _ = line_content(source.lines[directive.line - 1])
    old = content[directive.codes_start : directive.codes_end]
    trailing = old[len(old.rstrip(", \t")) :]
    return directive.codes_start, directive.codes_end, ", ".join(codes) + trailing


# -- --add-noqa ------------------------------------------------------------------------------------


@dataclass
class AddNoqaResult:
    text: str
    added: int = 0  # codes written
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why)


def noqa_line(source: SourceLines, line: int) -> int:
    """Where a ``# noqa`` for a finding on *line* must go: the end of its flake8 range."""
    return source.range_of(line)[1]


def add_noqa(text: str, findings: Iterable[Finding]) -> AddNoqaResult:
    """Add ``# noqa: CODE`` comments so that every one of *findings* is suppressed."""
    source = SourceLines(text)
    wanted: dict[int, list[str]] = {}
    result = AddNoqaResult(text)
    tokens = source.tokens
    if not source.tokenizes or not tokens:
        for finding in findings:
            result.skipped.append((finding.line, "the file cannot be tokenized"))
        return result
    for finding in findings:
        target = noqa_line(source, finding.line)
        if not 1 <= target <= len(source.lines):
            result.skipped.append((finding.line, "the line does not exist"))
            continue
        codes = wanted.setdefault(target, [])
        if finding.code not in codes:
            codes.append(finding.code)
    existing = {d.line: d for d in directives(source)}
    edits: dict[int, list[tuple[int, int, str]]] = {}
    for line, codes in sorted(wanted.items()):
        directive = existing.get(line)
        if directive is not None and directive.codes is None:
            continue  # a blanket noqa already covers everything
        if directive is not None:
            assert directive.codes is not None
            missing = [code for code in sorted(codes) if not code_matches(code, directive.codes)]
            if missing:
                edits[line] = [codes_rewrite(directive, [*directive.codes, *missing], source)]
                result.added += len(missing)
            continue
        content, _ = line_content(source.lines[line - 1])
        stripped = content.rstrip(" \t")
        edits[line] = [(len(stripped), len(content), f"  # noqa: {', '.join(sorted(codes))}")]
        result.added += len(codes)
    result.text = _apply_line_edits(source, edits)
    return result
