"""Turning findings into output: the report formats, statistics and the summaries.

Formats (``--output-format``), after ruff's:

* ``concise``: ``path:line:col: CODE message``, one line each (the default when piped;
  ``text`` is its old name);
* ``full``: the same line, then the source line with carets under the finding and the
  fix on offer with its safety (the default on a terminal; coloured only on a terminal
  and never with ``NO_COLOR``);
* ``json``: one object per finding, with rule name, 1-based ranges, the rule's page and
  the fix with its applicability and edits;
* ``github``: GitHub Actions workflow commands, shown as pull-request annotations;
* ``sarif``: SARIF 2.1.0, for GitHub code scanning and other SARIF consumers;
* ``gitlab``: a GitLab Code Quality report (merge-request widget and diff annotations);
* ``junit``: JUnit XML, one ``testsuite`` per file and one failed ``testcase`` per finding;
* ``json-lines``: one ``json`` record per line.

Only ``json``, ``json-lines``, ``sarif`` and ``--statistics`` need rule names, hence the
rules and LibCST: the other formats print from the (cached) findings alone.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from o2o_lint import __version__
from o2o_lint.findings import PARSE_ERROR_CODE, Finding

OUTPUT_FORMATS = ("full", "concise", "json", "json-lines", "github", "gitlab", "junit", "sarif")
FORMAT_ALIASES = {"text": "concise"}
MACHINE_FORMATS = ("json", "json-lines", "github", "gitlab", "junit", "sarif")

Edits = Mapping[Finding, Sequence[Mapping[str, Any]]]


def rule_name(code: str) -> str:
    if code == PARSE_ERROR_CODE:
        return "syntax-or-io-error"
    from o2o_lint.rules import rule_names  # read from the rule modules' text: no LibCST

    return rule_names().get(code, code)


# -- colours -----------------------------------------------------------------------------------------


def colour_wanted(stream: TextIO) -> bool:
    """Colours on a terminal only, never with ``NO_COLOR`` (https://no-color.org);
    ``FORCE_COLOR`` turns them on elsewhere (CI logs that render ANSI)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Style:
    CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36"}

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not text:
            return text
        codes = ";".join(self.CODES[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"


# -- concise and full ------------------------------------------------------------------------------


def format_concise(findings: Sequence[Finding]) -> str:
    return "".join(f"{finding.as_text()}\n" for finding in findings)


format_text = format_concise  # the name before --output-format existed


def _end(finding: Finding) -> tuple[int, int]:
    """1-based end line and 0-based exclusive end column; a point when no end is known."""
    if finding.end_line:
        return finding.end_line, finding.end_column
    return finding.line, finding.column


class SourceCache:
    """Lines of the files being reported on, read once (standard input from memory)."""

    def __init__(self, texts: Mapping[str, str] | None = None) -> None:
        self.texts = dict(texts or {})
        self.lines: dict[str, list[str] | None] = {}

    def line(self, path: str, number: int) -> str | None:
        if path not in self.lines:
            text = self.texts.get(path)
            if text is None:
                from o2o_lint.sourcefile import SourceError, read_source

                try:
                    text = read_source(path)[1].text
                except SourceError:
                    text = None
            from o2o_lint.sourcefile import split_lines

            self.lines[path] = None if text is None else [line.rstrip("\r\n") for line in split_lines(text)]
        lines = self.lines[path]
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]


def _fix_note(finding: Finding, unsafe_enabled: bool) -> str | None:
    if finding.fix is None:
        return None
    if finding.fix.safe:
        return f"fix (safe, with --fix): {finding.fix.description}"
    how = "with --fix" if unsafe_enabled else "with --fix --unsafe-fixes"
    return f"fix (unsafe, {how}): {finding.fix.description}"


def terminal_width(stream: TextIO) -> int | None:
    """The width to wrap ``full`` messages at: ``COLUMNS``, else the terminal's; None (no
    wrapping, one line per finding for grep) when the output is not a terminal."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), 40)
    try:
        if not stream.isatty():
            return None
        width = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return None
    return max(width, 40) if width > 0 else 80


def _wrapped(head: str, message: str, width: int | None) -> list[str]:
    """*head* then *message*, wrapped at *width* with the continuation indented."""
    if width is None or len(head) + len(message) <= width:
        return [head + message]
    import textwrap

    return textwrap.wrap(message, width=width, initial_indent=head, subsequent_indent="    ",
                         break_long_words=False, break_on_hyphens=False) or [head + message]


def _rule_help(code: str) -> str | None:
    if code == PARSE_ERROR_CODE:
        return None
    from o2o_lint.explain import doc_url

    return f"rule: o2o-lint --explain {code} or {doc_url(code)}"


def format_full(findings: Sequence[Finding], sources: SourceCache, *, colour: bool, unsafe_enabled: bool,
                width: int | None = None) -> str:
    """Each finding (its message wrapped at *width*, when given), the source line with
    carets, the fix on offer with its safety and where the rule is explained."""
    style = Style(colour)
    blocks: list[str] = []
    for finding in findings:
        marker = " [*]" if finding.fix is not None and (finding.fix.safe or unsafe_enabled) else ""
        plain_head = f"{finding.path}:{finding.line}:{finding.column + 1}: {finding.code}{marker} "
        wrapped = _wrapped(plain_head, finding.message, width)
        head = (
            f"{style(finding.path, 'bold')}:{finding.line}:{finding.column + 1}: "
            f"{style(finding.code, 'bold', 'red')}{marker} {wrapped[0][len(plain_head):]}"
        )
        lines = [head, *wrapped[1:]]
        rule_help = _rule_help(finding.code)
        source = sources.line(finding.path, finding.line)
        if source is not None:
            end_line, end_column = _end(finding)
            start = finding.column
            stop = end_column if end_line == finding.line else len(source.rstrip())
            stop = max(stop, start + 1)
            shown = source.replace("\t", "    ")
            caret_from = len(source[:start].replace("\t", "    "))
            caret_len = max(1, len(source[start:stop].replace("\t", "    ")))
            gutter = len(str(finding.line))
            bar = style("|", "blue")
            lines.append(f"{' ' * (gutter + 1)}{bar}")
            lines.append(f"{style(str(finding.line), 'blue')} {bar} {shown}")
            lines.append(f"{' ' * (gutter + 1)}{bar} {' ' * caret_from}{style('^' * caret_len, 'red')} {style(finding.code, 'red')}")
            lines.append(f"{' ' * (gutter + 1)}{bar}")
            note = _fix_note(finding, unsafe_enabled)
            if note is not None:
                lines.append(f"{' ' * (gutter + 1)}= {style(note, 'cyan')}")
            if rule_help is not None:
                lines.append(f"{' ' * (gutter + 1)}= {style(rule_help, 'dim')}")
        else:
            note = _fix_note(finding, unsafe_enabled)
            if note is not None:
                lines.append(f"  = {style(note, 'cyan')}")
            if rule_help is not None:
                lines.append(f"  = {style(rule_help, 'dim')}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks) + ("\n" if blocks else "")


# -- json ------------------------------------------------------------------------------------------


def _doc_fields(code: str) -> tuple[str | None, str | None]:
    if code == PARSE_ERROR_CODE:
        return None, None
    from o2o_lint.explain import doc_path, doc_url

    return doc_url(code), doc_path(code)


def finding_as_json(finding: Finding, edits: Edits | None = None, noqa_row: int | None = None) -> dict[str, object]:
    end_line, end_column = _end(finding)
    url, page = _doc_fields(finding.code)
    fix: dict[str, object] | None = None
    if finding.fix is not None:
        fix = {
            "safe": finding.fix.safe,
            "description": finding.fix.description,
            "applicability": "safe" if finding.fix.safe else "unsafe",
            "message": finding.fix.description,
            "edits": [dict(edit) for edit in (edits or {}).get(finding, [])],
        }
    return {
        # the keys of the first release (o2o-lint 0.1): path, 1-based line and column
        "path": finding.path,
        "line": finding.line,
        "column": finding.column + 1,
        "end_line": end_line,
        "end_column": end_column + 1,
        "code": finding.code,
        "name": rule_name(finding.code),
        "message": finding.message,
        "fix": fix,
        # ruff's record shape, for tools that read ruff's JSON
        "filename": os.path.abspath(finding.path) if finding.path != "-" else "-",
        "location": {"row": finding.line, "column": finding.column + 1},
        "end_location": {"row": end_line, "column": end_column + 1},
        "noqa_row": noqa_row if noqa_row is not None else finding.line,
        "url": url,
        "doc_path": page,
    }


def format_json(findings: Sequence[Finding], edits: Edits | None = None,
                noqa_rows: Mapping[Finding, int] | None = None) -> str:
    import json  # here: a concise run never imports it
    rows = noqa_rows or {}
    return json.dumps([finding_as_json(f, edits, rows.get(f)) for f in findings], indent=2) + "\n"


def format_json_lines(findings: Sequence[Finding], edits: Edits | None = None,
                      noqa_rows: Mapping[Finding, int] | None = None) -> str:
    """``json-lines``: the ``json`` records, one a line (nothing at all when clean)."""
    import json
    rows = noqa_rows or {}
    return "".join(json.dumps(finding_as_json(f, edits, rows.get(f))) + "\n" for f in findings)


# -- gitlab ----------------------------------------------------------------------------------------


def _project_relative(path: str) -> str:
    """A path relative to the checkout (``CI_PROJECT_DIR``, else the working directory), with ``/``."""
    if path == "-":
        return path
    base = os.environ.get("CI_PROJECT_DIR") or os.getcwd()
    try:
        relative = os.path.relpath(os.path.abspath(path), base)
    except ValueError:  # another drive
        relative = os.path.abspath(path)
    return relative.replace(os.sep, "/")


def format_gitlab(findings: Sequence[Finding]) -> str:
    """A GitLab Code Quality report: ``description``, ``check_name``, ``fingerprint``,
    ``severity`` and ``location`` (``path``, ``lines.begin``/``lines.end``) per finding.

    The fingerprint hashes the path, code and message (and which occurrence of that
    triple it is), not the line, so a finding keeps it when code above it moves, and two
    identical findings in one file do not share one (GitLab would drop the second)."""
    import hashlib
    import json

    seen: Counter[tuple[str, str, str]] = Counter()
    issues = []
    for finding in findings:
        path = _project_relative(finding.path)
        key = (path, finding.code, finding.message)
        seen[key] += 1
        digest = hashlib.sha256("\0".join((*key, str(seen[key]))).encode("utf-8", "surrogatepass")).hexdigest()
        end_line, _ = _end(finding)
        issues.append({
            "description": f"{finding.code}: {finding.message}",
            "check_name": finding.code,
            "fingerprint": digest[:32],
            "severity": "major",
            "location": {"path": path, "lines": {"begin": finding.line, "end": max(end_line, finding.line)}},
        })
    return json.dumps(issues, indent=2) + "\n"


# -- junit -----------------------------------------------------------------------------------------


def format_junit(findings: Sequence[Finding]) -> str:
    """JUnit XML as ruff writes it: ``testsuites`` > one ``testsuite`` per file (named by its
    path) > one ``testcase`` per finding (``o2o-lint.OTO123``) holding a ``failure`` with the
    message; a clean run is one passing test case, so a consumer sees that it ran."""
    from xml.etree import ElementTree as ET

    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    root = ET.Element("testsuites", name="o2o-lint", tests=str(max(len(findings), 1)),
                      failures=str(len(findings)), errors="0")
    if not findings:
        suite = ET.SubElement(root, "testsuite", name="o2o-lint", tests="1", disabled="0", errors="0", failures="0",
                              package="org.o2o-lint")
        ET.SubElement(suite, "testcase", name="No errors found", classname="o2o-lint")
    for path, in_file in by_path.items():
        suite = ET.SubElement(root, "testsuite", name=path, tests=str(len(in_file)), disabled="0", errors="0",
                              failures=str(len(in_file)), package="org.o2o-lint")
        classname = os.path.splitext(path)[0]
        for finding in in_file:
            case = ET.SubElement(suite, "testcase", name=f"org.o2o-lint.{finding.code}", classname=classname,
                                 line=str(finding.line), column=str(finding.column + 1))
            failure = ET.SubElement(case, "failure", message=finding.message)
            failure.text = f"line {finding.line}, col {finding.column + 1}, {finding.message}"
    ET.indent(root, space="    ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- github ----------------------------------------------------------------------------------------


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: Sequence[Finding]) -> str:
    """``::error title=o2o-lint (CODE),file=…,line=…,col=…,endLine=…,endColumn=…::text``."""
    out = []
    for finding in findings:
        end_line, end_column = _end(finding)
        properties = ",".join([
            f"title={_escape_property(f'o2o-lint ({finding.code})')}",
            f"file={_escape_property(finding.path)}",
            f"line={finding.line}",
            f"col={finding.column + 1}",
            f"endLine={end_line}",
            f"endColumn={end_column + 1}",
        ])
        out.append(f"::error {properties}::{_escape_data(finding.as_text())}\n")
    return "".join(out)


# -- sarif -----------------------------------------------------------------------------------------

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _artifact(path: str) -> dict[str, str]:
    from pathlib import Path
    from urllib.parse import quote
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path.replace(os.sep, "/")), "uriBaseId": "%SRCROOT%"}


def _region(start_line: int, start_column: int, end_line: int, end_column: int) -> dict[str, int]:
    return {"startLine": start_line, "startColumn": start_column, "endLine": end_line, "endColumn": end_column}


def _sarif_rules() -> list[dict[str, object]]:
    from o2o_lint.explain import rule_rows

    rules = []
    for row in rule_rows():
        rule: dict[str, object] = {
            "id": row["code"],
            "name": row["name"],
            "shortDescription": {"text": row["summary"]},
            "defaultConfiguration": {"level": "error", "enabled": not row["opt_in"]},
            "properties": {"fix": row["fix"]},
        }
        if row["url"]:
            rule["helpUri"] = row["url"]
            rule["help"] = {"text": f"{row['summary']}. See {row['url']} or run: o2o-lint --explain {row['code']}"}
        rules.append(rule)
    return rules


def format_sarif(findings: Sequence[Finding], edits: Edits | None = None) -> str:
    import json
    from pathlib import Path

    from o2o_lint.explain import home_url

    rules = _sarif_rules()
    index = {rule["id"]: number for number, rule in enumerate(rules)}
    results = []
    for finding in findings:
        end_line, end_column = _end(finding)
        result: dict[str, object] = {
            "ruleId": finding.code,
            "level": "error",
            "message": {"text": finding.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.path),
                    "region": _region(finding.line, finding.column + 1, end_line, end_column + 1),
                }
            }],
        }
        if finding.code in index:
            result["ruleIndex"] = index[finding.code]
        if finding.fix is not None:
            result["properties"] = {"fix": "safe" if finding.fix.safe else "unsafe", "fixDescription": finding.fix.description}
            replacements = [
                {
                    "deletedRegion": _region(edit["location"]["row"], edit["location"]["column"],
                                             edit["end_location"]["row"], edit["end_location"]["column"]),
                    "insertedContent": {"text": edit["content"]},
                }
                for edit in (edits or {}).get(finding, [])
            ]
            if replacements:
                result["fixes"] = [{
                    "description": {"text": finding.fix.description},
                    "artifactChanges": [{"artifactLocation": _artifact(finding.path), "replacements": replacements}],
                }]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "o2o-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": home_url(),
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"


# -- statistics and summaries ----------------------------------------------------------------------


def statistics_rows(findings: Sequence[Finding]) -> list[dict[str, object]]:
    """One row per code with a finding: count, and how many have a safe or an unsafe fix."""
    counts = Counter(f.code for f in findings)
    safe = Counter(f.code for f in findings if f.fix is not None and f.fix.safe)
    unsafe = Counter(f.code for f in findings if f.fix is not None and not f.fix.safe)
    return [
        {"code": code, "name": rule_name(code), "count": counts[code], "fixable": safe[code] + unsafe[code],
         "safe_fixable": safe[code], "unsafe_fixable": unsafe[code]}
        for code in sorted(counts)
    ]


def format_statistics(findings: Sequence[Finding], *, as_json: bool = False) -> str:
    """``--statistics``: ``count  CODE  name  (N fixable: S safe, U unsafe)`` per code, or JSON."""
    import json
    rows = statistics_rows(findings)
    if as_json:
        return json.dumps(rows, indent=2) + "\n"
    lines = []
    for row in rows:
        fixes = f"{row['fixable']} fixable"
        if row["fixable"]:
            fixes += f": {row['safe_fixable']} safe, {row['unsafe_fixable']} unsafe"
        lines.append(f"{row['count']:>6}  {row['code']}  {row['name']}  ({fixes})\n")
    return "".join(lines)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def fixed_report(fixed: Sequence[Finding], next_steps: Mapping[str, str] | None = None) -> str:
    """What ``--fix`` changed, one line per file: ``app/models.py: 2 × OTO123``; then, for
    each code fixed whose rule has one (``after_fix``), what is left to do: ``Next (OTO123): ...``."""
    by_path: dict[str, Counter[str]] = {}
    for finding in fixed:
        by_path.setdefault(finding.path, Counter())[finding.code] += 1
    lines = []
    for path in sorted(by_path):
        counts = ", ".join(f"{count} × {code}" for code, count in sorted(by_path[path].items()))
        lines.append(f"  {path}: {counts}\n")
    if not lines:
        return ""
    steps = next_steps_report(fixed, next_steps)
    return f"Fixed in {_plural(len(by_path), 'file')}:\n" + "".join(lines) + steps


def next_steps_report(fixed: Sequence[Finding], next_steps: Mapping[str, str] | None) -> str:
    """``Next (OTO123): ...`` for each code among *fixed* that has a next step."""
    codes = sorted({finding.code for finding in fixed})
    return "".join(f"Next ({code}): {next_steps[code]}\n" for code in codes if next_steps and next_steps.get(code))


def summary(findings: Sequence[Finding], *, checked: int, fixed: int | None, unsafe_enabled: bool) -> str:
    problems = [f for f in findings if f.code == PARSE_ERROR_CODE]
    real = [f for f in findings if f.code != PARSE_ERROR_CODE]
    safe = sum(1 for f in real if f.fix is not None and f.fix.safe)
    unsafe = sum(1 for f in real if f.fix is not None and not f.fix.safe)
    unfixable = sum(1 for f in real if f.fix is None)
    parts: list[str] = []
    if fixed is not None:
        parts.append(f"Fixed {_plural(fixed, 'finding')}.")
        if real:
            remaining = f"{_plural(len(real), 'finding')} {'remains' if len(real) == 1 else 'remain'}"
            details = []
            if unsafe and not unsafe_enabled:
                details.append(f"{unsafe} fixable with --fix --unsafe-fixes")
            if unfixable:
                details.append(f"{unfixable} without an automatic fix")
            parts.append(remaining + (f" ({', '.join(details)})" if details else "") + ".")
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
