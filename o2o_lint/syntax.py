"""One parse for every Python o2o-lint reads, whatever interpreter it runs on.

Facts, screens and the depth guard work on the stdlib ``ast``, which only knows the
syntax of the running interpreter: on Python 3.11 a file using PEP 695 generics or a
PEP 701 f-string, on 3.12 and 3.13 one using PEP 758 ``except A, B:``, would not parse.
:func:`parse_module` is ``ast.parse`` for every file the running interpreter accepts (no
extra work, LibCST not imported); only when it rejects a file does
:mod:`o2o_lint.syntax_compat` ask LibCST's parser (Python 3.0 to 3.14) and, when that
accepts it, rewrite the newer constructs into older ones with the same line and column
positions for ``ast``. A file no supported Python accepts raises :class:`SyntaxError`.
"""

from __future__ import annotations

import ast


def parse_module(text: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse(text)``, for the syntax of any Python from 3.8 to 3.14.

    Raises :class:`SyntaxError` (the file is invalid in every supported version),
    ``ValueError`` (NUL bytes), ``RecursionError`` or ``MemoryError`` as ``ast.parse`` does.
    """
    try:
        return ast.parse(text, filename=filename)
    except SyntaxError as error:
        rejected = error
    from o2o_lint.syntax_compat import parse_newer_syntax  # LibCST: only for such a file

    return parse_newer_syntax(text, filename, rejected)
