"""``o2o-lint`` / ``python -m o2o_lint``: the command-line front end (and pre-commit's)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from o2o_lint import __version__
from o2o_lint.config import ConfigError, Settings, find_project_root, load_settings, parse_version
from o2o_lint.reporting import format_json, format_statistics, format_text, summary
from o2o_lint.runner import MODE_CHECK, MODE_DIFF, MODE_FIX, RunResult, run, run_stdin

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(value: str) -> tuple[str, ...]:
    return tuple(code.strip().upper() for code in value.split(",") if code.strip())


def _patterns(value: str) -> tuple[str, ...]:
    return tuple(pattern.strip() for pattern in value.split(",") if pattern.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="o2o-lint",
        description="Find (and fix) the traps of Django one-to-one relations.",
    )
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                        help="files or directories to check (default: .); - reads standard input")
    parser.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    parser.add_argument("--unsafe-fixes", action="store_true", default=None,
                        help="with --fix or --diff, also apply fixes that need a human look")
    parser.add_argument("--diff", action="store_true", help="print a unified diff of the fixes; write nothing")
    parser.add_argument("--select", type=_codes, help="comma-separated code prefixes to enable (default: OTO)")
    parser.add_argument("--ignore", type=_codes, help="comma-separated code prefixes to disable")
    parser.add_argument("--exclude", type=_patterns, help="comma-separated patterns replacing the default excludes")
    parser.add_argument("--extend-exclude", type=_patterns, help="comma-separated patterns to exclude as well")
    parser.add_argument("--format", dest="output_format", choices=("text", "json"), default="text",
                        help="output format (default: text)")
    parser.add_argument("--target-version", metavar="X.Y", help="the Django version the project runs on (default: newest)")
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                        help="worker processes (default: 1; 0 means one per CPU)")
    parser.add_argument("--statistics", action="store_true", help="print a count of findings per code")
    parser.add_argument("--stdin-filename", metavar="PATH", help="the path of the file read from standard input")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the on-disk cache")
    parser.add_argument("--cache-dir", metavar="DIR", help="where to keep the cache (default: <project>/.o2o-lint-cache)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _settings(args: argparse.Namespace, start: str) -> tuple[Settings, str | None]:
    settings, config_path = load_settings(start)
    overrides = {
        "select": args.select,
        "ignore": args.ignore,
        "exclude": args.exclude,
        "extend_exclude": args.extend_exclude,
        "target_version": parse_version(args.target_version) if args.target_version else None,
        "unsafe_fixes": args.unsafe_fixes,
        "cache_dir": args.cache_dir,
        "use_cache": False if args.no_cache else None,
    }
    return settings.with_overrides(**overrides), config_path


def _emit(result: RunResult, args: argparse.Namespace, settings: Settings, mode: str) -> int:
    findings = result.findings
    out = sys.stdout
    if mode == MODE_DIFF:
        for file_result in result.files:
            out.write(file_result.diff)
    elif args.output_format == "json":
        out.write(format_json(findings))
    else:
        out.write(format_text(findings))
    if args.statistics:
        out.write(format_statistics(findings))
    fixed = len(result.fixed) if mode == MODE_FIX else None
    line = summary(findings, checked=result.checked, fixed=fixed, unsafe_enabled=settings.unsafe_fixes)
    if mode == MODE_DIFF:
        pending = sum(1 for r in result.files if r.diff)
        line = f"{pending} file(s) would be changed by --fix. " + line
    print(line, file=sys.stderr if args.output_format == "json" or mode == MODE_DIFF else sys.stdout)
    if mode == MODE_DIFF:
        return EXIT_FINDINGS if any(r.diff for r in result.files) else EXIT_CLEAN
    return EXIT_FINDINGS if findings else EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.fix and args.diff:
        parser.error("--fix and --diff cannot be used together")
    mode = MODE_FIX if args.fix else MODE_DIFF if args.diff else MODE_CHECK
    reading_stdin = args.paths == ["-"]
    if "-" in args.paths and not reading_stdin:
        parser.error("- (standard input) cannot be combined with other paths")
    start = args.stdin_filename or (os.getcwd() if reading_stdin else args.paths[0])
    try:
        settings, config_path = _settings(args, start)
    except ConfigError as exc:
        print(f"o2o-lint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    try:
        if reading_stdin:
            display = args.stdin_filename or "-"
            root = find_project_root(args.stdin_filename or os.getcwd())
            result, fixed_text = run_stdin(sys.stdin.buffer.read(), display, settings, roots=[root], mode=mode)
            if mode == MODE_FIX:
                sys.stdout.write(fixed_text if fixed_text is not None else "")
                return EXIT_FINDINGS if result.findings else EXIT_CLEAN
            return _emit(result, args, settings, mode)
        roots = sorted({find_project_root(path) for path in args.paths})
        exclude_base = os.path.dirname(config_path) if config_path else roots[0]
        result = run(args.paths, settings, roots=roots, mode=mode, jobs=jobs, exclude_base=exclude_base)
    except KeyboardInterrupt:
        return 130
    return _emit(result, args, settings, mode)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
