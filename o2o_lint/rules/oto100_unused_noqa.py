"""OTO100: a ``# noqa: OTO...`` comment that suppresses nothing (opt-in).

A suppression outlives the finding it was written for: the field was converted, the
code moved, the rule learnt to tell the case apart. The stale comment then hides the
next real finding on that line, and reviewers learn to skim past ``# noqa``. ruff
reports such comments as RUF100 and flake8-noqa as NQA102; OTO100 does the same for
o2o-lint's own codes, leaving every other tool's codes alone.

Whether a directive is used depends on the *other* rules' findings on that line before
suppression, so this rule does not visit the syntax tree: it reviews the file's
findings (``reviews_findings``), with flake8's own notion of which lines a ``# noqa``
covers. It is off by default, even under ``select = ["OTO"]``: enable it with
``--extend-select OTO100`` (or ``--select OTO100``, which enables no other rule, so
that every ``OTO`` code listed is reported as non-enabled); under flake8, with
``--extend-select OTO100``. Its fix edits the comment's text, not a syntax node.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import ClassVar

from o2o_lint.findings import PARSE_ERROR_CODE, Finding, Fix, LineEdit
from o2o_lint.noqa import Directive, SourceLines, code_matches, codes_rewrite, directives, file_is_suppressed, line_content
from o2o_lint.rules.base import FileContext, Fixability, Invalid, Rule, Valid

#: o2o-lint's codes: the only ones this rule judges.
OWN_PREFIX = "OTO"


class UnusedNoqa(Rule):
    code = "OTO100"
    name = "unused-noqa"
    summary = "A `# noqa: OTO...` comment that suppresses nothing"
    fixable = Fixability.ALWAYS
    opt_in: ClassVar[bool] = True
    reviews_findings: ClassVar[bool] = True

    VALID = [
        # Other tools' codes and blanket noqa comments are not this rule's business.
        Valid(
            """
            import os  # noqa: F401
            import sys  # noqa
            """,
            id="other-tools-codes",
        ),
        # A directive that lists OTO100 itself is left alone.
        Valid(
            """
            import os  # noqa: OTO001, OTO100
            """,
            id="lists-own-code",
        ),
        Valid(
            """
            # flake8: noqa
            import os  # noqa: OTO001
            """,
            id="file-level-noqa",
        ),
    ]
    INVALID = [
        Invalid(
            """
            import os  # noqa: OTO001
            """,
            expected_fix="""
            import os
            """,
            expected_messages=["Unused `noqa` directive (non-enabled: `OTO001`)"],
            id="non-enabled-code",
            range=(1, 11, 1, 25),
        ),
        Invalid(
            """
            import os  # noqa: OTO999, E501 legacy
            """,
            expected_fix="""
            import os  # noqa: E501 legacy
            """,
            expected_messages=["unknown: `OTO999`"],
            id="unknown-code-others-kept",
            range=(1, 11, 1, 32),
        ),
        Invalid(
            """
            import os  # type: ignore  # noqa: OTO002
            """,
            expected_fix="""
            import os  # type: ignore
            """,
            id="after-type-ignore",
            range=(1, 27, 1, 41),
        ),
    ]

    @classmethod
    def screen(cls, context: FileContext) -> bool:
        return "noqa" in context.text.lower() and OWN_PREFIX in context.text

    @classmethod
    def review(cls, context: FileContext, findings: Sequence[Finding]) -> list[Finding]:
        from o2o_lint.rules import all_screens

        known = set(all_screens()) | {PARSE_ERROR_CODE}
        return unused_directives(context.path, context.text, findings, known=known, enabled=context.enabled_codes)


def unused_directives(
    path: str, text: str, raw_findings: Sequence[Finding], *, known: Collection[str], enabled: Collection[str],
) -> list[Finding]:
    """A finding for every ``# noqa`` listing ``OTO`` codes that suppress nothing.

    *raw_findings* are the file's findings before suppression; *known* every code that
    exists, *enabled* those enabled for this file. Other tools' codes are left alone.
    """
    source = SourceLines(text)
    if file_is_suppressed(source.lines):
        return []
    every = directives(source)
    found = [d for d in every if d.codes and any(c.startswith(OWN_PREFIX) for c in d.codes)]
    if not found:
        return []
    # flake8 honours only the first match of a range: map each range to that directive.
    first_of_range: dict[tuple[int, int], Directive] = {}
    for directive in every:
        first_of_range.setdefault(source.range_of(directive.line), directive)
    by_range: dict[tuple[int, int], list[Finding]] = {}
    for finding in raw_findings:
        by_range.setdefault(source.range_of(finding.line), []).append(finding)
    results: list[Finding] = []
    for directive in found:
        assert directive.codes is not None
        span = source.range_of(directive.line)
        served = by_range.get(span, []) if first_of_range.get(span) == directive else []
        if code_matches(UnusedNoqa.code, directive.codes):
            continue  # the directive suppresses this rule itself
        unused: dict[str, list[str]] = {}
        for code in directive.codes:
            if not code.startswith(OWN_PREFIX):
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
        start, end, content = codes_rewrite(directive, kept, source) if kept else _removal(directive, source)
        detail = "; ".join(
            f"{kind}: {', '.join(f'`{c}`' for c in codes)}"
            for kind in ("unused", "non-enabled", "unknown")
            if (codes := unused.get(kind))
        )
        fix = Fix(
            "Remove the unused `noqa` codes", True,
            span=((directive.line, start), (directive.line, end)),
            text_edits=(LineEdit(directive.line, start, end, content),),
        )
        results.append(Finding(
            path, directive.line, directive.start, UnusedNoqa.code, f"Unused `noqa` directive ({detail})",
            fix, directive.line, directive.end,
        ))
    return results


def _removal(directive: Directive, source: SourceLines) -> tuple[int, int, str]:
    """An edit removing a directive: the whole comment when nothing else is in it."""
    content, _ = line_content(source.lines[directive.line - 1])
    comment_end = directive.comment_start + len(directive.comment)
    rest = content[directive.end : comment_end].strip()
    before = content[directive.comment_start : directive.start].rstrip()
    if rest:  # "# noqa: OTO001 legacy" -> "# legacy"
        return directive.start, comment_end, f"# {rest.lstrip('#').strip()}"
    if before:  # "# type: ignore  # noqa: OTO001" -> "# type: ignore"
        return directive.comment_start + len(before), comment_end, ""
    start = len(content[: directive.comment_start].rstrip())
    return start, comment_end, ""
