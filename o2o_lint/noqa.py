"""``# noqa`` handling for the CLI, with flake8's own regular expressions.

Under flake8 the plugin leaves suppression to flake8 itself (so that ``--disable-noqa``
and flake8-noqa keep working); the CLI applies the same rules here.
"""

from __future__ import annotations

from flake8.defaults import NOQA_FILE, NOQA_INLINE_REGEXP

from o2o_lint.findings import Finding


def file_is_suppressed(lines: list[str]) -> bool:
    return any(NOQA_FILE.match(line) for line in lines)


def is_suppressed(finding: Finding, lines: list[str]) -> bool:
    if not 1 <= finding.line <= len(lines):
        return False
    match = NOQA_INLINE_REGEXP.search(lines[finding.line - 1])
    if match is None:
        return False
    codes = match.group("codes")
    if not codes:
        return True
    listed = {code.strip() for code in codes.replace(",", " ").split()}
    return any(finding.code == code or finding.code.startswith(code) for code in listed)


def filter_suppressed(findings: list[Finding], text: str) -> list[Finding]:
    if not findings or "noqa" not in text.lower():
        return findings
    lines = text.splitlines()
    if file_is_suppressed(lines):
        return []
    return [f for f in findings if not is_suppressed(f, lines)]
