"""Rule documentation at the command line: ``--explain CODE`` and ``--list-rules``.

The pages are written once, in ``docs/rules/<CODE>.md`` of the repository (the rule
authors' canonical copy, linked from the README). A wheel ships them as package data:
``pyproject.toml`` maps the package ``o2o_lint._rule_docs`` onto ``docs/rules``, so
``pip install .`` (and an sdist) carries the very same files, with no copy to keep in
step. At run time they are looked for in the installed package first, then in the
source checkout (an editable install made before that mapping existed).

The project's home address is written in one place, ``[project.urls]`` of
``pyproject.toml``; :func:`home_url` reads it from the installed metadata. The rule URLs
(``--list-rules``, JSON, SARIF, ``full``) name the page at the release's tag
(``v<version>``). No public remote answers at that address yet, so every output that
carries a URL also carries the offline pointer: ``doc_path`` (the page shipped with the
package) or ``o2o-lint --explain CODE``.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from o2o_lint import __version__

PARSE_ERROR_NAME = "syntax-or-io-error"
PARSE_ERROR_SUMMARY = "A file that cannot be read, decoded or parsed (no rule page; the run goes on)"
#: Used only when o2o-lint runs from a source tree without being installed (no metadata);
#: tests/test_packaging.py checks it equals ``Homepage`` of ``[project.urls]``.
FALLBACK_HOME_URL = "https://github.com/o2o-lint/o2o-lint"


@functools.lru_cache(maxsize=1)
def home_url() -> str:
    """``Homepage`` of ``[project.urls]``, as installed (``Project-URL: Homepage, ...``)."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        entries = metadata("o2o-lint").get_all("Project-URL") or []
    except PackageNotFoundError:
        return FALLBACK_HOME_URL
    for entry in entries:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "homepage" and url.strip():
            return url.strip().rstrip("/")
    return FALLBACK_HOME_URL


def doc_url(code: str) -> str:
    return f"{home_url()}/blob/v{__version__}/docs/rules/{code}.md"


def _doc_dirs() -> list[Path]:
    package = Path(__file__).resolve().parent
    candidates = [package / "_rule_docs"]
    try:
        import importlib.util

        spec = importlib.util.find_spec("o2o_lint._rule_docs")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        candidates.extend(Path(location) for location in spec.submodule_search_locations)
    candidates.append(package.parent / "docs" / "rules")
    return [path for path in candidates if path.is_dir()]


def doc_path(code: str) -> str | None:
    """The local path of a rule's page, or None when none is installed."""
    for directory in _doc_dirs():
        page = directory / f"{code}.md"
        if page.is_file():
            return str(page)
    return None


def resolve_code(name: str) -> str | None:
    """A code in any case (``oto123``) or a rule's name (``some-rule-name``) -> its code."""
    from o2o_lint.rules import all_rules

    wanted = name.strip()
    rules = all_rules()
    if wanted.upper() in rules or wanted.upper() == "OTO000":
        return wanted.upper()
    for code, rule in rules.items():
        if rule.name == wanted.lower():
            return code
    return None


def explain(name: str) -> tuple[str | None, str]:
    """(text to print, error): the rule's page, verbatim."""
    code = resolve_code(name)
    if code is None:
        return None, f"unknown rule {name!r}; o2o-lint --list-rules shows them all"
    if code == "OTO000":
        return f"# OTO000: {PARSE_ERROR_NAME}\n\n{PARSE_ERROR_SUMMARY}.\n", ""
    path = doc_path(code)
    if path is None:
        return None, f"the page of {code} is not installed; read it at {doc_url(code)}"
    with open(path, encoding="utf-8") as handle:
        return handle.read(), ""


def rule_rows() -> list[dict[str, object]]:
    from o2o_lint.rules import rule_table  # read from the rule modules' text: no LibCST

    rows: list[dict[str, object]] = [
        {"code": "OTO000", "name": PARSE_ERROR_NAME, "fix": "never", "opt_in": False,
         "summary": PARSE_ERROR_SUMMARY, "url": None, "doc_path": None}
    ]
    for code, row in rule_table().items():
        rows.append({"code": code, "name": row["name"], "fix": row["fix"], "opt_in": row["opt_in"],
                     "summary": row["summary"], "url": doc_url(code), "doc_path": doc_path(code)})
    return rows


def list_rules(output_format: str) -> str:
    rows = rule_rows()
    if output_format == "json":
        return json.dumps(rows, indent=2) + "\n"
    width = max(len(str(row["name"])) for row in rows)
    lines = [f"{'code':<7} {'name':<{width}}  {'fix':<9}  summary"]
    for row in rows:
        summary = f"{row['summary']}" + (" [opt-in: --extend-select " + str(row["code"]) + "]" if row["opt_in"] else "")
        lines.append(f"{row['code']:<7} {row['name']!s:<{width}}  {row['fix']!s:<9}  {summary}")
    return "\n".join(lines) + "\n"


def installed_pages() -> dict[str, str]:
    """Code -> path of every page found (tests compare it with the registry)."""
    pages: dict[str, str] = {}
    for directory in reversed(_doc_dirs()):
        for page in directory.glob("*.md"):
            pages[page.stem] = os.fspath(page)
    return pages
