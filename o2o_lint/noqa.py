"""``# noqa``: suppression exactly as flake8 does it, ``--add-noqa`` and unused directives.

Under flake8 the plugin leaves suppression to flake8 itself (so that ``--disable-noqa``
and flake8-noqa keep working); the CLI applies the same rules here, with flake8's own
regular expressions and its notion of *which text* a finding's ``noqa`` is looked for
in: not only the physical line, but the whole token range from one NL/NEWLINE token
to the next (``FileProcessor._noqa_line_mapping``), so that a comment after a
backslash continuation or after the end of a multi-line string covers every line of
that range.

Two workflows build on it:

* ``--add-noqa`` (:func:`add_noqa`) writes ``# noqa: CODE`` for current findings, merged
  into an existing directive, at the end of the finding's range: the only place a
  comment can go when the reported line ends inside a multi-line string;
* OTO100 (:func:`unused_directives`, opt-in) reports ``# noqa: OTO...`` codes that
  suppress nothing, with a safe fix that removes them.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from flake8.defaults import NOQA_FILE, NOQA_INLINE_REGEXP

from o2o_lint.findings import Finding, Fix
from o2o_lint.sourcefile import split_lines

UNUSED_NOQA_CODE = "OTO100"
UNUSED_NOQA_FIX = "Remove the unused `noqa` codes"


def file_is_suppressed(lines: Iterable[str]) -> bool:
    return any(NOQA_FILE.match(line) for line in lines)


def _parse_codes(codes: str) -> list[str]:
    return [code for code in re.split(r"[,\s]+", codes) if code]


def _code_matches(code: str, listed: Collection[str]) -> bool:
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
    match = NOQA_INLINE_REGEXP.search(source.noqa_text(finding.line))
    if match is None:
        return False
    codes = match.group("codes")
    return not codes or _code_matches(finding.code, set(_parse_codes(codes)))


def filter_suppressed(findings: list[Finding], text: str) -> list[Finding]:
    if not findings or "noqa" not in text.lower():
        return findings
    source = SourceLines(text)
    if file_is_suppressed(source.lines):
        return []
    return [f for f in findings if not is_suppressed(f, source)]


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


def _line_content(line: str) -> tuple[str, str]:
    stripped = line.rstrip("\r\n")
    return stripped, line[len(stripped):]


def _apply_line_edits(source: SourceLines, edits: dict[int, list[tuple[int, int, str]]]) -> str:
    lines = list(source.lines)
    for number, line_edits in edits.items():
        content, ending = _line_content(lines[number - 1])
        for start, end, replacement in sorted(line_edits, reverse=True):
            content = content[:start] + replacement + content[end:]
        lines[number - 1] = content + ending
    return "".join(lines)


def _codes_rewrite(directive: Directive, codes: list[str], source: SourceLines) -> tuple[int, int, str]:
    """An edit that makes *directive* list *codes* (keeping what follows the codes)."""
    content, _ = _line_content(source.lines[directive.line - 1])
    old = content[directive.codes_start : directive.codes_end]
    trailing = old[len(old.rstrip(", \t")) :]
    return directive.codes_start, directive.codes_end, ", ".join(codes) + trailing


def _removal(directive: Directive, source: SourceLines) -> tuple[int, int, str]:
    """An edit removing a directive: the whole comment when nothing else is in it."""
    content, _ = _line_content(source.lines[directive.line - 1])
    comment_end = directive.comment_start + len(directive.comment)
    rest = content[directive.end : comment_end].strip()
    before = content[directive.comment_start : directive.start].rstrip()
    if rest:  # "# noqa: OTO001 legacy" -> "# legacy"
        return directive.start, comment_end, f"# {rest.lstrip('#').strip()}"
    if before:  # "# type: ignore  # noqa: OTO001" -> "# type: ignore"
        return directive.comment_start + len(before), comment_end, ""
    start = len(content[: directive.comment_start].rstrip())
    return start, comment_end, ""


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
            missing = [code for code in sorted(codes) if not _code_matches(code, directive.codes)]
            if missing:
                edits[line] = [_codes_rewrite(directive, [*directive.codes, *missing], source)]
                result.added += len(missing)
            continue
        content, _ = _line_content(source.lines[line - 1])
        stripped = content.rstrip(" \t")
        edits[line] = [(len(stripped), len(content), f"  # noqa: {', '.join(sorted(codes))}")]
        result.added += len(codes)
    result.text = _apply_line_edits(source, edits)
    return result


# -- OTO100: unused directives ---------------------------------------------------------------------


@dataclass(frozen=True)
class UnusedNoqa:
    finding: Finding
    edit: tuple[int, int, int, str]  # line, start column, end column, replacement


def unused_directives(
    path: str,
    text: str,
    raw_findings: Iterable[Finding],
    *,
    known: Collection[str],
    enabled: Collection[str],
) -> list[UnusedNoqa]:
    """OTO100 for every ``# noqa`` listing ``OTO`` codes that suppress nothing.

    *raw_findings* are the file's findings before suppression; *known* every code that
    exists, *enabled* those enabled for this file. Other tools' codes are left alone.
    """
    if "noqa" not in text.lower() or "OTO" not in text:
        return []
    source = SourceLines(text)
    if file_is_suppressed(source.lines):
        return []
    found = [d for d in directives(source) if d.codes and any(c.startswith("OTO") for c in d.codes)]
    if not found:
        return []
    # flake8 honours only the first match of a range: map each range to that directive.
    first_of_range: dict[tuple[int, int], Directive] = {}
    for directive in directives(source):
        first_of_range.setdefault(source.range_of(directive.line), directive)
    by_range: dict[tuple[int, int], list[Finding]] = {}
    for finding in raw_findings:
        by_range.setdefault(source.range_of(finding.line), []).append(finding)
    results: list[UnusedNoqa] = []
    for directive in found:
        assert directive.codes is not None
        span = source.range_of(directive.line)
        served = by_range.get(span, []) if first_of_range.get(span) == directive else []
        if _code_matches(UNUSED_NOQA_CODE, directive.codes):
            continue  # the directive suppresses OTO100 itself
        unused: dict[str, list[str]] = {}
        for code in directive.codes:
            if not code.startswith("OTO"):
                continue
            if any(f.code == code or f.code.startswith(code) for f in served):
                continue
            if not any(k.startswith(code) for k in known):
                kind = "unknown"
            elif not any(k.startswith(code) for k in enabled):
                kind = "non-enabled"
            else:
                kind = "unused"
            unused.setdefault(kind, []).append(code)
        if not unused:
            continue
        dropped = {code for codes in unused.values() for code in codes}
        kept = [code for code in directive.codes if code not in dropped]
        edit = _codes_rewrite(directive, kept, source) if kept else _removal(directive, source)
        detail = "; ".join(
            f"{kind}: {', '.join(f'`{c}`' for c in codes)}"
            for kind in ("unused", "non-enabled", "unknown")
            if (codes := unused.get(kind))
        )
        content, _ = _line_content(source.lines[directive.line - 1])
        finding = Finding(
            path, directive.line, directive.start, UNUSED_NOQA_CODE, f"Unused `noqa` directive ({detail})",
            Fix(UNUSED_NOQA_FIX, True), directive.line, directive.end,
        )
        results.append(UnusedNoqa(finding, (directive.line, *edit)))
    return results


def remove_unused(text: str, unused: Iterable[UnusedNoqa]) -> str:
    edits: dict[int, list[tuple[int, int, str]]] = {}
    for item in unused:
        line, start, end, replacement = item.edit
        edits.setdefault(line, []).append((start, end, replacement))
    return _apply_line_edits(SourceLines(text), edits) if edits else text
