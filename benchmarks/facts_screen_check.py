#!/usr/bin/env python3
"""Proof that OTO002's per-function facts screen drops no record: byte-identical facts.

    python benchmarks/facts_screen_check.py                 # the benchmark and real-code corpora
    python benchmarks/facts_screen_check.py path/to/code    # any directories

Run it with the interpreter o2o-lint is installed in (the project's ``.venv/bin/python``).
For every ``.py`` file under the given directories (default: ``benchmarks/corpus/``, the
Django package and the real-code check's projects, once each), it decodes and parses the file
as the facts pass does and compares OTO002's facts (``function_writes``) with the screen and
without it, as ``marshal`` stores them. It prints the files compared, the functions walked
each way and every file whose facts differ; exit status 1 when one differs, 2 when there was
nothing to compare.
"""

from __future__ import annotations

import argparse
import marshal
import os
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

from o2o_lint.rules.oto002_stale_reverse_cache import facts as oto002_facts  # noqa: E402
from o2o_lint.sourcefile import SourceError, decode_source  # noqa: E402
from o2o_lint.syntax import parse_module  # noqa: E402


def default_roots() -> list[Path]:
    """Django's package and every real-code project (each file once: no scaling copies)."""
    roots = [CORPUS / "django-5.2.19" / "django"]
    realcode = CORPUS / "realcode"
    if realcode.is_dir():
        roots += sorted(p for p in realcode.iterdir() if p.is_dir() and p.name != "downloads")
    return [root for root in roots if root.is_dir()]


def python_files(roots: list[Path]) -> Iterator[Path]:
    seen: set[str] = set()
    for root in roots:
        for directory, _, names in os.walk(root, followlinks=True):
            for name in sorted(names):
                if name.endswith(".py"):
                    path = os.path.realpath(os.path.join(directory, name))
                    if path not in seen:
                        seen.add(path)
                        yield Path(path)


class _Counting:
    """Counts the walks of :class:`_FunctionWalker` (its ``block`` at a body's top)."""

    def __init__(self) -> None:
        self.walks = 0
        self._block = oto002_facts._FunctionWalker.block

    def __enter__(self) -> _Counting:
        block = self._block

        def counted(walker: oto002_facts._FunctionWalker, statements: list, prefix: list) -> None:
            if not prefix:
                self.walks += 1
            block(walker, statements, prefix)

        oto002_facts._FunctionWalker.block = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        oto002_facts._FunctionWalker.block = self._block  # type: ignore[method-assign]


def compare(roots: list[Path]) -> int:
    files = differing = records = 0
    walks = {True: 0, False: 0}
    for path in python_files(roots):
        try:
            text = decode_source(path.read_bytes()).text
            tree = parse_module(text, filename=str(path))
        except (OSError, SourceError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        facts = {}
        for screen in (False, True):
            with _Counting() as counting:
                try:
                    facts[screen] = marshal.dumps(oto002_facts.function_writes(tree, text, screen=screen))
                except RecursionError:
                    facts[screen] = b"RecursionError"
            walks[screen] += counting.walks
        files += 1
        records += len(oto002_facts.function_writes(tree, text)) if facts[True] != b"RecursionError" else 0
        if facts[True] != facts[False]:
            differing += 1
            print(f"DIFFERENT: {path}")
    print(f"{files} files compared, {records} records; functions walked: {walks[False]} without the screen, "
          f"{walks[True]} with it; {differing} files whose facts differ")
    if not files:
        return 2
    return 1 if differing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="*", type=Path, help="directories (default: benchmarks/corpus)")
    args = parser.parse_args(argv)
    roots = args.roots or default_roots()
    if not roots:
        print("no corpus: run benchmarks/bench.py and benchmarks/realcode.py first (or symlink benchmarks/corpus)")
        return 2
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    return compare(roots)


if __name__ == "__main__":
    sys.exit(main())
