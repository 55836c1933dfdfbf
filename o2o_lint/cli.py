"""``o2o-lint`` / ``python -m o2o_lint``: the command-line front end (and pre-commit's).

Start-up stays cheap: LibCST and the rules are imported only when the run needs them
(a file to analyse, or an output that shows rule names or fix edits), so a warm run
over a cached project prints its ``concise`` or ``full`` report from the cache alone.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from o2o_lint import __version__
from o2o_lint.config import (
    ConfigError,
    Settings,
    check_selectors,
    find_project_root,
    load_settings,
    per_file_ignores_option,
    settings_for,
)
from o2o_lint.findings import PARSE_ERROR_CODE, Finding, parse_error
from o2o_lint.gcpolicy import fewer_collections
from o2o_lint.reporting import (
    FORMAT_ALIASES,
    MACHINE_FORMATS,
    OUTPUT_FORMATS,
    SourceCache,
    colour_wanted,
    fixed_report,
    format_concise,
    format_full,
    format_github,
    format_gitlab,
    format_json,
    format_json_lines,
    format_junit,
    format_sarif,
    format_statistics,
    next_steps_report,
    summary,
    terminal_width,
)
from o2o_lint.project import Project
from o2o_lint.runner import MODE_CHECK, MODE_DIFF, MODE_FIX, RunResult, run, run_stdin

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(value: str) -> tuple[str, ...]:
    """Checked against the registry after parsing (one error line, not argparse's usage)."""
    return tuple(code.strip() for code in value.split(",") if code.strip())


def _patterns(value: str) -> tuple[str, ...]:
    return tuple(pattern.strip() for pattern in value.split(",") if pattern.strip())


def _output_format(value: str) -> str:
    value = FORMAT_ALIASES.get(value.lower(), value.lower())
    if value not in OUTPUT_FORMATS:
        raise argparse.ArgumentTypeError(
            f"invalid choice: {value!r} (choose from {', '.join(OUTPUT_FORMATS)}; text is concise)"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="o2o-lint",
        usage="o2o-lint [check] [OPTIONS] [PATH ...]\n       o2o-lint server  (the language server, for editors)",
        description="Find (and fix) the traps of Django one-to-one relations. "
                    "'o2o-lint check [PATH ...]' is the same command, as in ruff (a directory named "
                    "check is then ./check).",
        epilog="Exit status: 0 no findings (or all fixed), 1 findings remain, 2 usage, configuration or internal "
               "error (also a closed output pipe or a full disk). A PATH that does not exist is a usage error; "
               "when no Python file is found, a warning says so and the status is 0.",
    )
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                        help="files or directories to check (default: .); - reads standard input")
    fixing = parser.add_argument_group("fixing and suppressing")
    fixing.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    fixing.add_argument("--fix-only", action="store_true",
                        help="apply fixes to resolve lint violations, but don't report on, or exit non-zero for, "
                             "leftover violations; implies --fix")
    fixing.add_argument("--exit-zero", action="store_true",
                        help="exit with status code 0, even upon detecting lint violations")
    fixing.add_argument("--exit-non-zero-on-fix", action="store_true",
                        help="exit with a non-zero status code if any files were modified via fix, even if no lint "
                             "violations remain")
    fixing.add_argument("--unsafe-fixes", action="store_true", default=None,
                        help="with --fix or --diff, also apply fixes that need a human look")
    fixing.add_argument("--diff", action="store_true", help="print a unified diff of the fixes; write nothing")
    fixing.add_argument("--add-noqa", action="store_true",
                        help="add '# noqa: CODE' comments for every current finding (adopting o2o-lint on an existing code base)")
    selection = parser.add_argument_group("selecting rules and files")
    selection.add_argument("--select", type=_codes, metavar="CODES", help="comma-separated code prefixes to enable (default: OTO)")
    selection.add_argument("--extend-select", type=_codes, metavar="CODES",
                           help="code prefixes to enable on top of --select (and opt-in rules, by their code)")
    selection.add_argument("--ignore", type=_codes, metavar="CODES", help="comma-separated code prefixes to disable")
    selection.add_argument("--exclude", type=_patterns, metavar="PATTERNS", help="comma-separated patterns replacing the default excludes")
    selection.add_argument("--extend-exclude", type=_patterns, metavar="PATTERNS",
                           help="comma-separated patterns to exclude as well")
    selection.add_argument("--per-file-ignores", action="append", metavar="PATTERN:CODES",
                           help="ignore codes in files matching PATTERN, replacing the configuration's per-file-ignores; "
                                "comma-separated or repeated (tests/*:OTO123,OTO124)")
    selection.add_argument("--extend-per-file-ignores", action="append", metavar="PATTERN:CODES",
                           help="like --per-file-ignores, added to the configuration's")
    selection.add_argument("--config", metavar="FILE",
                           help="use this configuration file (pyproject.toml, setup.cfg or a TOML file of o2o-lint "
                                "settings) instead of searching for one")
    selection.add_argument("--isolated", action="store_true", help="ignore all configuration files")
    selection.add_argument("--project-root", metavar="DIR",
                           help="the project the index covers (default: the top of the git work tree, else the "
                                "outermost directory with pyproject.toml, setup.cfg, setup.py or manage.py)")
    selection.add_argument("--no-respect-gitignore", dest="respect_gitignore", action="store_false", default=None,
                           help="also look at files that .gitignore, .git/info/exclude or git's global excludes ignore")
    selection.add_argument("--force-exclude", action="store_true", default=None,
                           help="leave out git-ignored paths even when named explicitly (the excludes always apply)")
    selection.add_argument("--target-version", metavar="X.Y|auto",
                           help="the Django version the project runs on (default: auto, the lowest your "
                                "pyproject.toml, setup.cfg or requirements*.txt allows, else the newest)")
    output = parser.add_argument_group("output")
    output.add_argument("--output-format", "--format", dest="output_format", type=_output_format, metavar="FORMAT",
                        help=f"{', '.join(OUTPUT_FORMATS)} (default: full on a terminal, concise otherwise; "
                             "text is an alias of concise)")
    output.add_argument("-o", "--output-file", metavar="FILE", help="write the report to FILE instead of standard output")
    output.add_argument("--statistics", action="store_true",
                        help="show counts for every rule with at least one violation (and its safe and unsafe fixes), "
                             "instead of the findings")
    output.add_argument("--show-settings", action="store_true",
                        help="print the settings in effect, as TOML for [tool.o2o-lint], and exit")
    output.add_argument("--show-files", action="store_true",
                        help="see the files o2o-lint will be run against with the current settings, and exit")
    output.add_argument("-q", "--quiet", action="store_true", help="print diagnostics, but nothing else")
    output.add_argument("-s", "--silent", action="store_true",
                        help="disable all logging (but still exit with status code 1 upon detecting diagnostics)")
    docs = parser.add_argument_group("rule documentation")
    docs.add_argument("--explain", metavar="CODE", help="print the documentation of a rule (code or name)")
    docs.add_argument("--list-rules", action="store_true", help="list every rule: code, name, fix availability")
    running = parser.add_argument_group("running")
    running.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                         help="worker processes (default: 1; 0 means one per CPU)")
    running.add_argument("--stdin-filename", metavar="PATH", help="the path of the file read from standard input")
    running.add_argument("--no-cache", action="store_true", help="neither read nor write the on-disk cache")
    running.add_argument("--cache-dir", metavar="DIR", help="where to keep the cache (default: <project>/.o2o-lint-cache)")
    running.add_argument("--verbose", action="store_true",
                         help="on an internal error, print the traceback too (or set O2O_LINT_TRACEBACK=1)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _settings(args: argparse.Namespace, start: str) -> tuple[Settings, str | None]:
    selections = {
        option: None if value is None else check_selectors(value, option)
        for option, value in (("--select", args.select), ("--extend-select", args.extend_select), ("--ignore", args.ignore))
    }
    per_file_ignores = None
    if args.per_file_ignores is not None or args.extend_per_file_ignores is not None:
        given = per_file_ignores_option(args.per_file_ignores or [], "--per-file-ignores")
        extra = per_file_ignores_option(args.extend_per_file_ignores or [], "--extend-per-file-ignores")
        if args.per_file_ignores is None:
            given = load_settings(start, config_file=args.config, isolated=args.isolated)[0].per_file_ignores
        per_file_ignores = given + extra
    return settings_for(
        start,
        target_version=args.target_version,
        config_file=args.config,
        isolated=args.isolated,
        per_file_ignores=per_file_ignores,
        select=selections["--select"],
        extend_select=selections["--extend-select"],
        ignore=selections["--ignore"],
        exclude=args.exclude,
        extend_exclude=args.extend_exclude,
        unsafe_fixes=args.unsafe_fixes,
        cache_dir=args.cache_dir,
        use_cache=False if args.no_cache else None,
        root=os.path.abspath(args.project_root) if args.project_root else None,
        respect_gitignore=args.respect_gitignore,
        force_exclude=args.force_exclude,
    )


def _toml(value: Any) -> str:
    """A TOML value: strings (JSON's escapes are TOML's), booleans, arrays, inline tables."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml(key)} = {_toml(item)}" for key, item in value.items()) + " }" if value else "{}"
    return "[" + ", ".join(_toml(item) for item in value) + "]"


def _show_settings(settings: Settings, config_path: str | None) -> str:
    """The settings in effect as TOML that can be pasted back into ``[tool.o2o-lint]``;
    what is not a configuration key, or not set, is a comment."""
    lines = [
        "# o2o-lint settings in effect, as TOML for [tool.o2o-lint]",
        f"# configuration file: {config_path or '(none: defaults)'}",
    ]
    for name in ("select", "extend_select", "ignore", "exclude", "extend_exclude", "per_file_ignores",
                 "target_version", "foreign_key_classes", "model_base_classes", "unsafe_fixes", "cache_dir", "root",
                 "respect_gitignore", "force_exclude"):
        key = name.replace("_", "-")
        value: Any = getattr(settings, name)
        comment = ""
        if name == "per_file_ignores":
            value = {pattern: list(codes) for pattern, codes in value}
        elif name == "target_version":
            value = f"{value[0]}.{value[1]}"
            note = settings.extra.get("target_version_note")
            if note:
                comment = f"  # {note}"
        if value is None:
            default = "<project>/.o2o-lint-cache" if name == "cache_dir" else "found from the paths"
            lines.append(f"# {key} = (not set: {default})")
            continue
        lines.append(f"{key} = {_toml(value)}{comment}")
    if not settings.use_cache:
        lines.append("# the cache is off (--no-cache; not a configuration key)")
    return "\n".join(lines) + "\n"


def _show_files(paths: list[str], settings: Settings, config_path: str | None) -> int:
    """The files a check of *paths* would report on, one a line, as findings name them."""
    from o2o_lint.discovery import DiscoveryProblem, git_ignored, iter_python_files

    roots = sorted({find_project_root(path, settings.root) for path in paths})
    exclude_base = os.path.dirname(config_path) if config_path else roots[0]
    ignored: frozenset[str] = frozenset()
    if settings.respect_gitignore:
        ignored = ignored.union(*(git_ignored(root) for root in roots))
    status = EXIT_CLEAN
    for item in iter_python_files(paths, settings.all_excludes, exclude_base, ignored=ignored,
                                  force_exclude=settings.force_exclude):
        if isinstance(item, DiscoveryProblem):
            sys.stderr.write(f"o2o-lint: warning: {item.path}: {item.message}\n")
        else:
            sys.stdout.write(item + "\n")
    return status


# -- reporting ---------------------------------------------------------------------------------------


def _noqa_rows(findings: Sequence[Finding], project: Project) -> dict[Finding, int]:
    """Where a ``# noqa`` for each finding goes: from the findings cache, else from a
    tokenization of its file (then kept in the cache, written with the fix edits by
    :meth:`o2o_lint.edits.FixEdits.compute`: a warm report tokenizes nothing)."""
    from o2o_lint.noqa import SourceLines as NoqaLines
    from o2o_lint.noqa import noqa_line
    from o2o_lint.result_cache import finding_key
    from o2o_lint.sourcefile import SourceError, read_source

    rows: dict[Finding, int] = {}
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    result_cache = project.result_cache
    for path, wanted in by_path.items():
        cacheable = result_cache is not None and not project.differs_from_disk(path)
        known = result_cache.cached_noqa_rows(path) if cacheable and result_cache is not None else {}
        missing = [finding for finding in wanted if finding_key(finding) not in known]
        rows.update((finding, known[finding_key(finding)]) for finding in wanted if finding_key(finding) in known)
        if not missing:
            continue
        text = project.texts.get(path)
        if text is None:
            try:
                text = read_source(path)[1].text
            except SourceError:
                continue
        lines = NoqaLines(text)
        computed = {finding: noqa_line(lines, finding.line) for finding in missing}
        rows.update(computed)
        if cacheable and result_cache is not None:
            result_cache.store_noqa_rows(path, {finding_key(finding): row for finding, row in computed.items()})
    return rows


def _report(findings: list[Finding], fmt: str, out: TextIO, project: Project) -> str:
    if fmt == "concise":
        return format_concise(findings)
    if fmt == "full":
        return format_full(findings, SourceCache(project.texts), colour=colour_wanted(out),
                           unsafe_enabled=project.settings.unsafe_fixes, width=terminal_width(out))
    if fmt == "github":
        return format_github(findings)
    if fmt == "gitlab":
        return format_gitlab(findings)
    if fmt == "junit":
        return format_junit(findings)
    from o2o_lint.edits import FixEdits

    rows = _noqa_rows(findings, project) if fmt in ("json", "json-lines") else {}
    edits = FixEdits(project).compute(findings)  # saves the findings cache: the rows too
    if fmt == "json":
        return format_json(findings, edits, rows)
    if fmt == "json-lines":
        return format_json_lines(findings, edits, rows)
    return format_sarif(findings, edits)


def _exit_status(args: argparse.Namespace, remain: bool, fixed: int) -> int:
    """ruff's order: --exit-zero wins, then --exit-non-zero-on-fix (something was fixed),
    then --fix-only (leftovers do not count), then whether findings remain."""
    if args.exit_zero:
        return EXIT_CLEAN
    if args.exit_non_zero_on_fix and fixed:
        return EXIT_FINDINGS
    if args.fix_only:
        return EXIT_CLEAN
    return EXIT_FINDINGS if remain else EXIT_CLEAN


def _next_steps() -> dict[str, str]:
    """Each rule's ``after_fix``: what is left to do once one of its fixes is written."""
    from o2o_lint.rules import all_screens

    return {code: rule.after_fix for code, rule in all_screens().items() if rule.after_fix}


def _fixed_line(fixed: int) -> str:
    return f"Fixed {fixed} finding{'' if fixed == 1 else 's'}."


class _Nowhere:
    """Where ``--quiet``/``--silent`` send what they leave out."""

    def write(self, text: str) -> int:
        return len(text)


def _emit(result: RunResult, args: argparse.Namespace, mode: str, fmt: str, out: TextIO, project: Project) -> int:
    findings = result.findings
    settings = project.settings
    machine = fmt in MACHINE_FORMATS
    side: Any = sys.stderr if machine or mode == MODE_DIFF else out  # where the human-readable extras go
    if args.quiet or args.silent:
        side = _Nowhere()
    if args.silent and out is sys.stdout:
        out = _Nowhere()  # type: ignore[assignment]  # an -o FILE asked for is still written
    shown = [] if args.fix_only else findings  # --fix-only: the leftovers are not reported
    if mode == MODE_DIFF:
        for file_result in result.files:
            out.write(file_result.diff)
    elif args.statistics:
        out.write(format_statistics(shown, as_json=fmt == "json"))
    else:
        out.write(_report(shown, fmt, out, project))
    fixed = None
    if mode == MODE_FIX:
        fixed = len(result.fixed)
        side.write(fixed_report(result.fixed, _next_steps()))
    if not result.checked and not findings:
        # nothing was checked: "All clear" would claim what was never looked at
        if not (args.quiet or args.silent):
            paths = ", ".join(args.paths)
            sys.stderr.write(f"o2o-lint: warning: no Python files found under {paths}\n")
        return _exit_status(args, False, fixed or 0)
    line = summary(shown, checked=result.checked, fixed=fixed, unsafe_enabled=settings.unsafe_fixes)
    if args.fix_only and fixed is not None:
        line = _fixed_line(fixed)  # nothing about what is left
    if mode == MODE_DIFF:
        pending = sum(1 for r in result.files if r.diff)
        line = f"{pending} file(s) would be changed by --fix. " + line
    side.write(line + "\n")
    if mode == MODE_DIFF:
        return EXIT_CLEAN if args.exit_zero else EXIT_FINDINGS if any(r.diff for r in result.files) else EXIT_CLEAN
    return _exit_status(args, bool(findings), fixed or 0)


def _add_noqa(result: RunResult, project: Project, out: TextIO) -> int:
    """Write ``# noqa: CODE`` for every finding; standard input is written back to stdout.
    A template is left alone: no place in it is provably harmless for a comment (inside
    ``{% blocktrans %}`` Django raises, inside a Jinja2 ``{# #}`` its ``#}`` ends the
    comment early, and anywhere a space is rendered), so the user adds it by hand."""
    from o2o_lint.discovery import is_template_path
    from o2o_lint.noqa import add_noqa
    from o2o_lint.runner import write_atomically
    from o2o_lint.sourcefile import SourceError, read_source

    by_path: dict[str, list[Finding]] = {}
    problems: list[Finding] = []
    for finding in result.findings:
        if finding.code == PARSE_ERROR_CODE:
            problems.append(finding)  # cannot be suppressed: the file did not parse
            continue
        by_path.setdefault(finding.path, []).append(finding)
    added = files = 0
    skipped: list[str] = []
    for path, findings in by_path.items():
        if is_template_path(path):
            codes = ", ".join(sorted({finding.code for finding in findings}))
            skipped.append(f"{path}: not edited (a comment would change what it renders); "
                           f"add {{# noqa: {codes} #}} by hand where harmless")
            continue
        if path in project.texts:
            outcome = add_noqa(project.texts[path], findings)
            project.set_text(path, outcome.text)
        else:
            try:
                data, source = read_source(path)
            except SourceError as exc:
                problems.append(parse_error(path, str(exc)))
                continue
            outcome = add_noqa(source.text, findings)
            if outcome.text != source.text:
                problem = write_atomically(path, source.encode(outcome.text), data)
                if problem:
                    problems.append(parse_error(path, f"noqa not added: {problem}"))
                    continue
        skipped.extend(f"skipped {path}:{line}: {why}; add the comment by hand" for line, why in outcome.skipped)
        if outcome.added:
            added += outcome.added
            files += 1
    for path, text in project.texts.items():
        out.write(text)
    for problem in problems:
        sys.stderr.write(problem.as_text() + "\n")
    for line in skipped:
        sys.stderr.write(f"{line}\n")
    sys.stderr.write(f"Added {added} noqa code{'' if added == 1 else 's'} in {files} file{'' if files == 1 else 's'}.\n")
    return EXIT_FINDINGS if problems or skipped else EXIT_CLEAN


def _open_output(path: str | None) -> TextIO:
    if path is None:
        return sys.stdout
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    return open(path, "w", encoding="utf-8", newline="")


#: errno values of a write that cannot succeed however o2o-lint is fixed: one line, exit 2
_WRITE_FAILURES = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EIO") if hasattr(errno, name)
)


def _stdout_to_devnull() -> None:
    """After a failed write to standard output, keep the interpreter's flush at exit quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _error_line(text: str) -> None:
    try:
        sys.stderr.write(f"o2o-lint: {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; every outcome is an exit status: 0 clean, 1 findings, 2 usage,
    configuration or internal error (also a closed pipe, silently, and a full disk)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        status = _command(arguments)
        if not sys.stdout.closed:  # the language server closes it when the editor says exit
            sys.stdout.flush()  # a closed pipe or a full disk shows up here, not at exit
        return status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (``o2o-lint | head -1``): nothing left to say to anyone
        _stdout_to_devnull()
        return EXIT_ERROR
    except OSError as exc:
        if exc.errno not in _WRITE_FAILURES:
            return _internal_error(exc, arguments)
        _stdout_to_devnull()
        where = f"{exc.filename}: " if exc.filename else ""
        _error_line(f"error: cannot write: {where}{exc.strerror or exc}")
        return EXIT_ERROR
    except Exception as exc:  # the promise: exit 2 and one line, the traceback only when asked
        return _internal_error(exc, arguments)


def _internal_error(exc: BaseException, arguments: list[str]) -> int:
    if "--verbose" in arguments or os.environ.get("O2O_LINT_TRACEBACK", "") not in ("", "0"):
        import traceback

        try:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        except (OSError, ValueError):
            pass
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    _error_line(f"internal error: {detail}; please report it (--verbose or O2O_LINT_TRACEBACK=1 shows the traceback)")
    return EXIT_ERROR


#: What ``o2o-lint server`` imports from the ``lsp`` extra.
LSP_EXTRA_MODULES = ("pygls", "lsprotocol")


def _server(argv: list[str]) -> int:
    """``o2o-lint server``: the language server, for editors (LSP over standard input and output)."""
    parser = argparse.ArgumentParser(
        prog="o2o-lint server",
        description="Run the o2o-lint language server: diagnostics and fixes in the editor, speaking LSP over "
                    "standard input and output. Needs the lsp extra: pip install 'o2o-lint[lsp]'.",
    )
    parser.add_argument("--stdio", action="store_true", help="use standard input and output (the default and only transport)")
    parser.parse_args(argv)
    try:
        from o2o_lint.server import main as serve
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in LSP_EXTRA_MODULES:
            raise
        print("o2o-lint server needs the lsp extra: pip install 'o2o-lint[lsp]'", file=sys.stderr)
        return EXIT_ERROR
    return serve()


def _command(argv: list[str]) -> int:
    if argv[:1] == ["server"]:  # ``o2o-lint server``, as ``ruff server``: a directory named server is ./server
        return _server(argv[1:])
    parser = build_parser()
    if argv[:1] == ["check"]:  # ``o2o-lint check [PATH...]``, ruff's habit: the same command
        argv = argv[1:]
    args = parser.parse_args(argv)
    if args.explain:
        from o2o_lint.explain import explain

        text, error = explain(args.explain)
        if text is None:
            print(f"o2o-lint: error: {error}", file=sys.stderr)
            return EXIT_ERROR
        sys.stdout.write(text)
        return EXIT_CLEAN
    if args.list_rules:
        from o2o_lint.explain import list_rules

        sys.stdout.write(list_rules("json" if args.output_format == "json" else "text"))
        return EXIT_CLEAN
    if args.fix and args.diff:
        parser.error("--fix and --diff cannot be used together")
    if args.fix_only and not args.diff:
        args.fix = True  # --fix-only implies --fix (with --diff: show the fixes, as ruff)
    if args.config and args.isolated:
        parser.error("--config and --isolated cannot be used together")
    if args.add_noqa and (args.fix or args.diff):
        parser.error("--add-noqa cannot be combined with --fix or --diff")
    mode = MODE_FIX if args.fix else MODE_DIFF if args.diff else MODE_CHECK
    reading_stdin = args.paths == ["-"]
    if "-" in args.paths and not reading_stdin:
        parser.error("- (standard input) cannot be combined with other paths")
    env_format = os.environ.get("O2O_LINT_OUTPUT_FORMAT")
    fmt = args.output_format
    if fmt is None and env_format:
        try:
            fmt = _output_format(env_format)
        except argparse.ArgumentTypeError as exc:
            parser.error(f"O2O_LINT_OUTPUT_FORMAT: {exc}")
    if not reading_stdin:
        missing = [path for path in args.paths if not os.path.lexists(path)]
        if missing:
            print(f"o2o-lint: error: {missing[0]}: no such file or directory", file=sys.stderr)
            return EXIT_ERROR
    start = args.stdin_filename or (os.getcwd() if reading_stdin else args.paths[0])
    try:
        settings, config_path = _settings(args, start)
    except ConfigError as exc:
        print(f"o2o-lint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if settings.root is not None and not os.path.isdir(settings.root):
        print(f"o2o-lint: error: project root {settings.root}: not a directory", file=sys.stderr)
        return EXIT_ERROR
    note = settings.extra.get("target_version_note")
    if args.show_settings:
        sys.stdout.write(_show_settings(settings, config_path))
        return EXIT_CLEAN
    if args.show_files:
        if reading_stdin:
            parser.error("--show-files needs paths, not standard input")
        return _show_files(args.paths, settings, config_path)
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    try:
        out = _open_output(args.output_file)
    except OSError as exc:
        print(f"o2o-lint: error: cannot write {args.output_file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    if fmt is None:
        fmt = "full" if out.isatty() else "concise"
    if note and note.startswith("warning:") and not (args.quiet or args.silent):
        # asked for (target-version auto): always; the default: for a human reading full output
        if args.target_version is not None or fmt == "full" or settings.extra.get("target_version_set"):
            print(f"o2o-lint: {note}", file=sys.stderr)
    try:
        with fewer_collections():
            return _main(args, settings, config_path, mode, fmt, out, reading_stdin, jobs)
    finally:
        if out is not sys.stdout:
            out.close()


def _main(args: argparse.Namespace, settings: Settings, config_path: str | None, mode: str, fmt: str, out: TextIO,
          reading_stdin: bool, jobs: int) -> int:
    check_mode = MODE_CHECK if args.add_noqa else mode
    if args.add_noqa:
        # a noqa comment written now for a rule that judges noqa comments would judge itself
        from o2o_lint.rules import all_screens

        reviewers = tuple(code for code, rule in all_screens().items() if rule.reviews_findings)
        settings = settings.with_overrides(ignore=settings.ignore + reviewers)
    if reading_stdin:
        display = args.stdin_filename or "-"
        root = find_project_root(args.stdin_filename or os.getcwd(), settings.root)
        project = Project(settings, [root], root=os.path.dirname(config_path) if config_path else root)
        result, fixed_text = run_stdin(project, sys.stdin.buffer.read(), display, mode=check_mode)
        if args.add_noqa:
            return _add_noqa(result, project, out)
        if mode == MODE_FIX:
            # the fixed buffer on stdout (unchanged when nothing applies), the rest on stderr
            out.write(fixed_text if fixed_text is not None else project.texts.get(display, ""))
            remaining = result.findings
            fixed = len(result.fixed)
            if not (args.fix_only or args.silent):
                sys.stderr.write(format_concise(remaining))
            if not (args.fix_only or args.quiet or args.silent):  # --fix-only on stdin: editors, keep it terse
                sys.stderr.write(next_steps_report(result.fixed, _next_steps()))
            if not (args.quiet or args.silent):
                line = summary(remaining, checked=1, fixed=fixed, unsafe_enabled=settings.unsafe_fixes)
                sys.stderr.write((_fixed_line(fixed) if args.fix_only else line) + "\n")
            return _exit_status(args, bool(remaining), fixed)
        return _emit(result, args, mode, fmt, out, project)
    roots = sorted({find_project_root(path, settings.root) for path in args.paths})
    exclude_base = os.path.dirname(config_path) if config_path else roots[0]
    project = Project(settings, roots, root=exclude_base)
    from o2o_lint.progress import progress_for

    progress = progress_for(sys.stderr)
    try:
        result = run(project, args.paths, mode=check_mode, jobs=jobs, exclude_base=exclude_base, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    if args.add_noqa:
        return _add_noqa(result, project, out)
    return _emit(result, args, mode, fmt, out, project)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
