#!/usr/bin/env python3
"""o2o-lint's real-code check: every finding on real Django code bases, with a verdict.

    python benchmarks/realcode.py                      # all projects, compare with the review file
    python benchmarks/realcode.py --projects django,wagtail
    python benchmarks/realcode.py --strict --write-docs

Run it with the interpreter o2o-lint is installed in (the project's ``.venv/bin/python``).
It downloads pinned releases of real Django code bases from PyPI (``pip download
--no-deps``, sha256-checked; Django's sdist for its ``tests/``, wheels otherwise), keeps
them in ``benchmarks/corpus/realcode/`` (git-ignored, never committed), lints each one
with the installed CLI in a subprocess (``o2o-lint --no-cache --output-format json
--jobs 2 .``, the default rule selection) and compares the findings with the committed
review file ``benchmarks/realcode-review.json``: every finding there has a verdict,
``true`` (a real trap Django would exhibit) or ``false`` (a false finding: a bug of the
rule, to be fixed, never whitelisted), with a one-line reason written after reading the
code.

A finding is matched to a review by project, path, code and ``snippet`` (the stripped
source line of the finding), so that a verdict survives line shifts; the line only
breaks ties. Findings without a review ("new") and reviews without a finding
("vanished") are printed first, then the false findings still reported, then the
counts per project and per code. OTO000 (a file that could not be parsed) is counted
apart and needs no verdict.

Exit status: 0 when every finding has a verdict; 1 when a finding has none, or, with
``--strict``, also when a finding reviewed as false is still reported; 2 when a download
or a lint run failed. ``--write-docs`` regenerates ``docs/precision.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from bench import BenchError, _sha256, _tail, o2o_command, run_command  # noqa: E402

from o2o_lint.rules import all_rules  # noqa: E402

REPO = HERE.parent
CORPUS_DIR = HERE / "corpus" / "realcode"
REVIEW_PATH = HERE / "realcode-review.json"
DOCS_PATH = REPO / "docs" / "precision.md"
RUN_COMMAND = "python benchmarks/realcode.py --strict --write-docs"
LINT_TIMEOUT = 1800.0
#: Bump when the layout of the extracted projects changes.
LAYOUT = 1
STAMP = ".realcode.json"
MARKER = "# o2o-lint real-code corpus: its own project root (see benchmarks/realcode.py)\n[o2o-lint]\nroot = .\n"
PARSE_ERROR = "OTO000"
#: The codes of the rules the default selection runs (opt-in ones excluded), from the registry.
RULE_CODES = tuple(code for code, rule in all_rules().items() if not rule.opt_in)
VERDICTS = ("true", "false")


@dataclass(frozen=True)
class Project:
    """A pinned release on PyPI. ``include``: the top-level directories to lint (None: all)."""

    name: str
    distribution: str
    version: str
    filename: str
    sha256: str
    include: tuple[str, ...] | None = None

    @property
    def sdist(self) -> bool:
        return not self.filename.endswith(".whl")

    @property
    def label(self) -> str:
        return f"{self.name}-{self.version}"


PROJECTS = (
    Project("django", "Django", "5.2.19", "django-5.2.19.tar.gz",
            "ad03d8abc51dbff95ebf34b27123cf0c26a3b62db7ba0cd520783686362533d1", ("django", "tests")),
    Project("wagtail", "wagtail", "8.0.1", "wagtail-8.0.1-py3-none-any.whl",
            "1e6ad5c7891a54efce1400e168298b5a2cc343b642cee89c31bf5ec30c98b26c"),
    Project("django-oscar", "django-oscar", "4.2.1", "django_oscar-4.2.1-py3-none-any.whl",
            "adbb95ea0130859c204cc6fb221052d6d437ecbaa90800e8418a809f72645e9c"),
    Project("django-cms", "django-cms", "5.1.3", "django_cms-5.1.3-py3-none-any.whl",
            "acf31919aab389d2bea253efa97a901bf55e96046a252f23a7a742e495848a5e"),
    Project("tendenci", "tendenci", "16.30", "tendenci-16.30-py3-none-any.whl",
            "e53c25423c369dbeaa077a9ac0eedbc9aff7fa1c1476160ff219d04915d73ea7"),
    Project("pretix", "pretix", "2026.8.0", "pretix-2026.8.0-py3-none-any.whl",
            "a78932e698778d873530d67f25a57c28d1c09b1bfb1a22ec817c00d90397db85"),
    Project("weblate", "weblate", "5.14.3", "weblate-5.14.3-py3-none-any.whl",
            "0bc2c5a49ebc496758e89f08d5ec9d1b226e8aba2cff7744a18ab9f235dca816"),
    Project("mayan-edms", "mayan-edms", "4.12.2", "mayan_edms-4.12.2-py2.py3-none-any.whl",
            "5eb0deccb29199a7add33a757161f3f461aa3b00451de13027049258dd412f67"),
    Project("misago", "misago", "0.39.6", "misago-0.39.6-py3-none-any.whl",
            "57152ffa4d5d567803594b49163a7b399e93fab438f99ab4a463459936eb9f00"),
    Project("django-allauth", "django-allauth", "65.22.1", "django_allauth-65.22.1-py3-none-any.whl",
            "08f7a3ddbd5ff7f1000d685dee9c0678d0da2057e18bed473a6eb2de18bd04e4"),
    Project("django-helpdesk", "django-helpdesk", "2.6.1", "django_helpdesk-2.6.1-py3-none-any.whl",
            "f2167cd340577088be861fa5d25ca6f828226ac0d25db7e67b96a35a89ca4e44"),
    Project("djangorestframework", "djangorestframework", "3.18.3", "djangorestframework-3.18.3-py3-none-any.whl",
            "8544bb674846731b1e3c9b309236ee1dc412905a0aa725be2ec193ca950a7d12"),
)
PROJECTS_BY_NAME = {project.name: project for project in PROJECTS}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- downloading


def _download(project: Project, dest: Path) -> Path:
    """``pip download`` the pinned file into *dest* and check its digest."""
    kind = ["--no-binary", ":all:"] if project.sdist else ["--only-binary", ":all:"]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", *kind, "--disable-pip-version-check",
         "--dest", str(dest), f"{project.distribution}=={project.version}"],
        capture_output=True, text=True,
    )
    path = dest / project.filename
    if result.returncode != 0 or not path.is_file():
        raise BenchError(f"pip download {project.distribution}=={project.version} failed:\n"
                         f"{_tail(result.stdout + result.stderr)}")
    digest = _sha256(path)
    if digest != project.sha256:
        raise BenchError(f"{path.name}: sha256 {digest} is not the pinned {project.sha256}")
    return path


def _wanted(parts: Sequence[str], include: tuple[str, ...] | None) -> bool:
    if not parts or any(part in ("", ".", "..") for part in parts):
        return False
    if include is not None:
        return parts[0] in include
    top = parts[0]
    return not (top.endswith(".dist-info") or top.endswith(".data"))


def _extract(project: Project, archive: Path, staging: Path) -> None:
    if project.sdist:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                parts = member.name.split("/")[1:]  # strip "<name>-<version>/"
                if not (member.isfile() and _wanted(parts, project.include)):
                    continue
                target = staging.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                with source, open(target, "wb") as handle:
                    shutil.copyfileobj(source, handle)
    else:
        with zipfile.ZipFile(archive) as wheel:
            for name in wheel.namelist():
                parts = name.split("/")
                if name.endswith("/") or not _wanted(parts, project.include):
                    continue
                target = staging.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with wheel.open(name) as source, open(target, "wb") as handle:
                    shutil.copyfileobj(source, handle)


def ensure_project(project: Project, corpus_dir: Path = CORPUS_DIR) -> Path:
    """``corpus_dir/<name>-<version>/``: the project's code and a project-root marker."""
    target = corpus_dir / project.label
    try:
        stamp = json.loads((target / STAMP).read_text())
    except (OSError, ValueError):
        stamp = {}
    if stamp.get("layout") == LAYOUT and stamp.get("sha256") == project.sha256:
        # the marker keeps the corpus its own project even inside a git work tree
        if (target / "setup.cfg").read_text() != MARKER:
            (target / "setup.cfg").write_text(MARKER)
        return target
    corpus_dir.mkdir(parents=True, exist_ok=True)
    downloads = corpus_dir / "downloads"
    downloads.mkdir(exist_ok=True)
    archive = downloads / project.filename
    if not (archive.is_file() and _sha256(archive) == project.sha256):
        _log(f"downloading {project.distribution}=={project.version} from PyPI ...")
        archive = _download(project, downloads)
    staging = Path(tempfile.mkdtemp(dir=corpus_dir, prefix=f".{project.label}.tmp-"))
    try:
        _extract(project, archive, staging)
        (staging / "setup.cfg").write_text(MARKER)
        (staging / STAMP).write_text(json.dumps({"layout": LAYOUT, "file": project.filename,
                                                 "sha256": project.sha256}, indent=2) + "\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


# --------------------------------------------------------------------------- linting


@dataclass
class LintResult:
    project: str
    version: str
    files: int | None
    findings: list[dict[str, Any]]  # project, path, line, code, snippet, message
    parse_errors: list[dict[str, Any]] = field(default_factory=list)


def _snippet(root: Path, path: str, line: int, cache: dict[str, list[str]]) -> str:
    if path not in cache:
        try:
            cache[path] = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            cache[path] = []
    lines = cache[path]
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def lint_project(project: Project, root: Path, *, jobs: int = 2) -> LintResult:
    command = [*o2o_command(), "--no-cache", "--output-format", "json", "--jobs", str(jobs), "."]
    _log(f"linting {project.label} ...")
    sample = run_command(command, root, timeout=LINT_TIMEOUT)
    if sample.returncode not in (0, 1):
        raise BenchError(f"o2o-lint on {project.label} exited {sample.returncode}:\n{_tail(sample.stderr)}")
    try:
        raw = json.loads(sample.stdout)
    except ValueError as exc:
        raise BenchError(f"o2o-lint on {project.label}: no JSON ({exc}):\n{_tail(sample.stderr)}") from exc
    match = re.search(r" in ([\d,]+) files?\b", sample.stderr)
    files = int(match.group(1).replace(",", "")) if match else None
    return LintResult(project.name, project.version, files, *split_findings(project.name, root, raw))


def split_findings(project: str, root: Path, raw: Iterable[dict[str, Any]]
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The JSON findings as review-shaped records: (rule findings, OTO000 findings)."""
    cache: dict[str, list[str]] = {}
    findings, errors = [], []
    for item in raw:
        path = Path(item["path"])
        if path.is_absolute():
            path = path.relative_to(root.resolve()) if path.is_relative_to(root.resolve()) else path
        rel = path.as_posix().removeprefix("./")
        record = {"project": project, "path": rel, "line": int(item["line"]), "code": item["code"],
                  "snippet": _snippet(root, rel, int(item["line"]), cache), "message": item.get("message", "")}
        (errors if item["code"] == PARSE_ERROR else findings).append(record)
    key = lambda r: (r["path"], r["line"], r["code"])
    return sorted(findings, key=key), sorted(errors, key=key)


# --------------------------------------------------------------------------- matching


def _key(record: dict[str, Any]) -> tuple[str, str, str, str]:
    return (record["project"], record["path"], record["code"], record["snippet"])


@dataclass
class Comparison:
    matched: list[tuple[dict[str, Any], dict[str, Any]]]  # (finding, review)
    new: list[dict[str, Any]]
    vanished: list[dict[str, Any]]

    @property
    def false_reported(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [(f, r) for f, r in self.matched if r.get("verdict") == "false"]

    @property
    def unreviewed(self) -> list[dict[str, Any]]:
        """New findings, and matched ones whose review has no valid verdict."""
        return self.new + [f for f, r in self.matched if r.get("verdict") not in VERDICTS]


def compare(findings: Sequence[dict[str, Any]], reviews: Sequence[dict[str, Any]],
            projects: Iterable[str] | None = None) -> Comparison:
    """Pair findings with reviews by project + path + code + snippet; the line breaks ties.

    Within one key, pairs with the same line are made first, then the rest in line order.
    Reviews of projects outside *projects* (when given) are neither matched nor vanished.
    """
    wanted = None if projects is None else set(projects)
    by_key: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for review in reviews:
        if wanted is None or review["project"] in wanted:
            by_key[_key(review)].append(review)
    findings_by_key: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for finding in findings:
        findings_by_key[_key(finding)].append(finding)
    matched, new = [], []
    for key, group in findings_by_key.items():
        candidates = sorted(by_key.pop(key, []), key=lambda r: r.get("line", 0))
        rest = []
        for finding in sorted(group, key=lambda f: f["line"]):
            same = next((r for r in candidates if r.get("line") == finding["line"]), None)
            if same is not None:
                candidates.remove(same)
                matched.append((finding, same))
            else:
                rest.append(finding)
        for finding in rest:
            if candidates:
                matched.append((finding, candidates.pop(0)))
            else:
                new.append(finding)
        if candidates:
            by_key[key] = candidates
    vanished = [review for group in by_key.values() for review in group]
    order = lambda r: (r["project"], r["path"], r.get("line", 0), r["code"])
    return Comparison(sorted(matched, key=lambda pair: order(pair[0])), sorted(new, key=order),
                      sorted(vanished, key=order))


def load_reviews(path: Path = REVIEW_PATH) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    reviews = data["findings"] if isinstance(data, dict) else data
    for review in reviews:
        review.setdefault("snippet", "")
    return reviews


def review_skeleton(finding: dict[str, Any]) -> dict[str, Any]:
    """A review entry for *finding*, verdict still to be written (``--add-new``)."""
    return {key: finding[key] for key in ("project", "path", "line", "code", "snippet")} | {
        "verdict": "", "reason": ""}


def write_reviews(reviews: Sequence[dict[str, Any]], path: Path = REVIEW_PATH) -> None:
    order = lambda r: (r["project"], r["path"], r.get("line", 0), r["code"])
    data = {
        "about": "o2o-lint's real-code review (benchmarks/realcode.py): a verdict for every finding on "
                 "the pinned projects; 'true' = a real trap Django exhibits, 'false' = a false finding "
                 "(a rule bug to fix). Matched by project + path + code + snippet; line breaks ties.",
        "projects": {p.name: p.version for p in PROJECTS},
        "findings": sorted(reviews, key=order),
    }
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- reporting


def _where(record: dict[str, Any]) -> str:
    return f"{record['project']}:{record['path']}:{record.get('line', '?')}: {record['code']}  {record['snippet']}"


def summary_rows(results: Sequence[LintResult], comparison: Comparison) -> list[dict[str, Any]]:
    verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    for finding, review in comparison.matched:
        verdicts[finding["project"]][review.get("verdict") if review.get("verdict") in VERDICTS else "none"] += 1
    for finding in comparison.new:
        verdicts[finding["project"]]["none"] += 1
    rows = []
    for result in results:
        codes = Counter(f["code"] for f in result.findings)
        rows.append({"project": result.project, "version": result.version, "files": result.files,
                     "OTO000": len(result.parse_errors), **{code: codes[code] for code in RULE_CODES},
                     "findings": len(result.findings), "true": verdicts[result.project]["true"],
                     "false": verdicts[result.project]["false"], "unreviewed": verdicts[result.project]["none"]})
    return rows


COLUMNS = ("project", "version", "files", "OTO000", *RULE_CODES, "findings", "true", "false", "unreviewed")


def _total(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"project": "total", "version": ""}
    for column in COLUMNS[2:]:
        total[column] = sum(row[column] or 0 for row in rows)
    return total


def render_table(rows: Sequence[dict[str, Any]], markdown: bool = False) -> str:
    body = [*rows, _total(rows)] if rows else []
    cells = [[str(row[c]) if row[c] is not None else "?" for c in COLUMNS] for row in body]
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        for row_cells in cells:
            if row_cells[0] == "total":
                row_cells = [f"**{c}**" if c else c for c in row_cells]
            lines.append("| " + " | ".join(row_cells) + " |")
        return "\n".join(lines)
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(COLUMNS)]
    line = lambda values: "  ".join(v.ljust(w) if i < 2 else v.rjust(w)
                                    for i, (v, w) in enumerate(zip(values, widths)))
    return "\n".join([line(COLUMNS), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def render_report(results: Sequence[LintResult], comparison: Comparison) -> str:
    out: list[str] = []
    if comparison.new:
        out.append(f"NEW findings (no review in {REVIEW_PATH.name}): {len(comparison.new)}")
        out.extend("  " + _where(f) for f in comparison.new)
    if comparison.vanished:
        out.append(f"VANISHED: reviewed findings no longer reported: {len(comparison.vanished)}")
        out.extend(f"  {_where(r)}  [was {r.get('verdict') or 'unreviewed'}]" for r in comparison.vanished)
    missing = [f for f, r in comparison.matched if r.get("verdict") not in VERDICTS]
    if missing:
        out.append(f"Reviewed without a verdict: {len(missing)}")
        out.extend("  " + _where(f) for f in missing)
    if comparison.false_reported:
        out.append(f"FALSE findings still reported (bugs of the rules): {len(comparison.false_reported)}")
        out.extend(f"  {_where(f)}\n      {r.get('reason', '')}" for f, r in comparison.false_reported)
    parse_errors = [e for result in results for e in result.parse_errors]
    if parse_errors:
        out.append(f"OTO000 (files that could not be checked): {len(parse_errors)}")
        out.extend(f"  {e['project']}:{e['path']}:{e['line']}: {e['message']}" for e in parse_errors)
    rows = summary_rows(results, comparison)
    out.append("")
    out.append(render_table(rows))
    per_code: dict[str, Counter[str]] = defaultdict(Counter)
    for finding, review in comparison.matched:
        per_code[finding["code"]][review.get("verdict") if review.get("verdict") in VERDICTS else "none"] += 1
    for finding in comparison.new:
        per_code[finding["code"]]["none"] += 1
    if per_code:
        out.append("")
        out.append("per code: " + "; ".join(
            f"{code} {sum(c.values())} ({c['true']} true, {c['false']} false, {c['none']} unreviewed)"
            for code, c in sorted(per_code.items())))
    return "\n".join(out)


def render_docs(results: Sequence[LintResult], comparison: Comparison) -> str:
    rows = summary_rows(results, comparison)
    lines = [
        "# Precision on real code",
        "",
        "<!-- Generated by benchmarks/realcode.py --write-docs; edit the script, not this table. -->",
        "",
        f"`{RUN_COMMAND}` downloads pinned releases of real Django code bases from PyPI",
        "(Django's sdist with its `tests/`, wheels of the others; sha256-checked, cached in",
        "`benchmarks/corpus/realcode/`, never committed), runs",
        "`o2o-lint --no-cache --output-format json --jobs 2 .` (the default rule selection) on",
        "each, and compares every finding with `benchmarks/realcode-review.json`, where each",
        "finding has a verdict written after reading the code: `true` (a real trap, as Django",
        "behaves) or `false` (a false finding: a bug of the rule, to be fixed, not whitelisted).",
        "",
        "`files`: the files o2o-lint checked, Django templates included (migrations are excluded by default); `OTO000`:",
        "files that could not be parsed (not findings of a rule, no verdict needed). o2o-lint",
        "reads every syntax from Python 3.8 to 3.14 on any interpreter, so an OTO000 is a file",
        "no supported Python accepts. This table was made with",
        f"Python {platform.python_version()}.",
        "",
        render_table(rows, markdown=True),
        "",
    ]
    if comparison.false_reported:
        lines += ["## False findings still reported", "",
                  "Bugs of the rules, to be fixed (not whitelisted); one line per file, code and reason.", ""]
        groups: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
        for finding, review in comparison.false_reported:
            groups[(finding["project"], finding["path"], finding["code"], review.get("reason", ""))].append(
                finding["line"])
        for (project, path, code, reason), found_lines in groups.items():
            where = ", ".join(map(str, found_lines[:8])) + (", ..." if len(found_lines) > 8 else "")
            count = f" ×{len(found_lines)}" if len(found_lines) > 1 else ""
            lines.append(f"- `{project}:{path}` line {where}: {code}{count}: {reason}")
        lines.append("")
    parse_errors = [e for result in results for e in result.parse_errors]
    if parse_errors:
        lines += ["## Files that could not be parsed (OTO000)", ""]
        for error in parse_errors:
            lines.append(f"- `{error['project']}:{error['path']}:{error['line']}`: {error['message']}")
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", help="comma-separated subset: " + ",".join(PROJECTS_BY_NAME))
    parser.add_argument("--strict", action="store_true",
                        help="also exit 1 when a finding reviewed as false is still reported")
    parser.add_argument("--write-docs", action="store_true", help=f"regenerate {DOCS_PATH.relative_to(REPO)}")
    parser.add_argument("--review", type=Path, default=REVIEW_PATH, help="the review file")
    parser.add_argument("--add-new", action="store_true",
                        help="append the new findings to the review file with an empty verdict (to fill in)")
    parser.add_argument("--jobs", type=int, default=2, help="o2o-lint --jobs (default 2)")
    parser.add_argument("--corpus-dir", type=Path, default=CORPUS_DIR)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.projects:
        names = [name.strip() for name in args.projects.split(",") if name.strip()]
        unknown = [name for name in names if name not in PROJECTS_BY_NAME]
        if unknown:
            build_parser().error(f"unknown project(s): {', '.join(unknown)}; known: {', '.join(PROJECTS_BY_NAME)}")
        projects = [PROJECTS_BY_NAME[name] for name in names]
    else:
        projects = list(PROJECTS)
    try:
        results = [lint_project(p, ensure_project(p, args.corpus_dir), jobs=args.jobs) for p in projects]
    except BenchError as exc:
        _log(f"error: {exc}")
        return 2
    reviews = load_reviews(args.review)
    findings = [f for result in results for f in result.findings]
    comparison = compare(findings, reviews, [p.name for p in projects])
    print(render_report(results, comparison))
    if args.add_new and comparison.new:
        write_reviews([*reviews, *map(review_skeleton, comparison.new)], args.review)
        _log(f"added {len(comparison.new)} new finding(s) to {args.review} with an empty verdict")
    if args.write_docs:
        if len(projects) != len(PROJECTS):
            _log("note: --write-docs with a subset of the projects writes a partial table")
        DOCS_PATH.write_text(render_docs(results, comparison), encoding="utf-8")
        _log(f"wrote {DOCS_PATH.relative_to(REPO)}")
    if comparison.unreviewed:
        return 1
    if args.strict and comparison.false_reported:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
