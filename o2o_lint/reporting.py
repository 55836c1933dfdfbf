"""Turning findings into output: text lines, JSON, statistics and the summary line."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from o2o_lint.findings import PARSE_ERROR_CODE, Finding


def rule_name(code: str) -> str:
    if code == PARSE_ERROR_CODE:
        return "syntax-or-io-error"
    from o2o_lint.rules import all_rules  # imports LibCST: only when names are shown

    rule = all_rules().get(code)
    return rule.name if rule else code


def format_text(findings: Sequence[Finding]) -> str:
    return "".join(f"{finding.as_text()}\n" for finding in findings)


def finding_as_json(finding: Finding) -> dict[str, object]:
    return {
        "path": finding.path,
        "line": finding.line,
        "column": finding.column + 1,
        "end_line": finding.end_line or finding.line,
        "end_column": (finding.end_column if finding.end_line else finding.column) + 1,
        "code": finding.code,
        "name": rule_name(finding.code),
        "message": finding.message,
        "fix": None if finding.fix is None else {"safe": finding.fix.safe, "description": finding.fix.description},
    }


def format_json(findings: Sequence[Finding]) -> str:
    return json.dumps([finding_as_json(f) for f in findings], indent=2) + "\n"


def format_statistics(findings: Sequence[Finding]) -> str:
    counts = Counter(f.code for f in findings)
    fixable = Counter(f.code for f in findings if f.fix is not None)
    rows = [f"{counts[code]:>6}  {code}  {rule_name(code)}  ({fixable[code]} fixable)" for code in sorted(counts)]
    return "".join(row + "\n" for row in rows)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(findings: Sequence[Finding], *, checked: int, fixed: int | None, unsafe_enabled: bool) -> str:
    problems = [f for f in findings if f.code == PARSE_ERROR_CODE]
    real = [f for f in findings if f.code != PARSE_ERROR_CODE]
    safe = sum(1 for f in real if f.fix is not None and f.fix.safe)
    unsafe = sum(1 for f in real if f.fix is not None and not f.fix.safe)
    parts: list[str] = []
    if fixed is not None:
        parts.append(f"Fixed {_plural(fixed, 'finding')}.")
        if real:
            remaining = f"{_plural(len(real), 'finding')} remain"
            if unsafe and not unsafe_enabled:
                remaining += f" ({unsafe} fixable with --fix --unsafe-fixes)"
            parts.append(remaining + ".")
        else:
            parts.append("No findings remain.")
    elif real:
        text = f"Found {_plural(len(real), 'finding')} in {_plural(checked, 'file')} checked"
        hints = []
        if safe:
            hints.append(f"{safe} fixable with --fix")
        if unsafe:
            hints.append(f"{unsafe} more with --fix --unsafe-fixes" if not unsafe_enabled else f"{unsafe} with --fix")
        parts.append(text + (f" ({', '.join(hints)})" if hints else "") + ".")
    else:
        parts.append(f"All clear: no findings in {_plural(checked, 'file')}.")
    if problems:
        parts.append(f"{_plural(len(problems), 'file')} could not be checked (OTO000).")
    return " ".join(parts)
