"""What analysis produces: findings, each with an optional fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Union

if TYPE_CHECKING:  # LibCST costs ~0.1 s to import; a warm cached run never needs it
    import libcst as cst

Replacement = Union["cst.CSTNode", "cst.FlattenSentinel", "cst.RemovalSentinel"]


class LineEdit(NamedTuple):
    """Replace columns ``start:end`` (0-based) of one physical line (1-based)."""

    line: int
    start: int
    end: int
    content: str


@dataclass(frozen=True)
class Fix:
    """A LibCST transformation: replace original nodes, then fix up imports.

    *safe* fixes keep the behaviour of working code; *unsafe* ones need a human look
    and are applied only with ``--unsafe-fixes``.
    """

    description: str
    safe: bool
    replacements: dict[cst.CSTNode, Replacement] = field(default_factory=dict, compare=False)
    add_imports: tuple[tuple[str, str], ...] = ()
    remove_imports: tuple[tuple[str, str, str | None], ...] = ()  # (module, name, alias)
    #: The package of the module fixed (``app`` for ``app/models.py``): relative imports
    #: resolve against it, so an import to remove may be written ``from .constants import X``.
    package: str | None = None
    #: ((line, column), (line, column)) of the source the fix rewrites, to keep fixes apart.
    span: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0))
    #: Edits of the text itself, for what LibCST's tree does not model as nodes (a comment's
    #: codes): applied on their own, in a round where no tree fix is left to apply.
    text_edits: tuple[LineEdit, ...] = ()

    @property
    def edits_text(self) -> bool:
        return bool(self.text_edits) and not (self.replacements or self.add_imports or self.remove_imports)

    def overlaps(self, other: Fix) -> bool:
        return not (self.span[1] <= other.span[0] or other.span[1] <= self.span[0])


@dataclass(frozen=True)
class Finding:
    path: str
    line: int  # 1-based
    column: int  # 0-based, as flake8 and LibCST count
    code: str
    message: str
    fix: Fix | None = None
    end_line: int = 0
    end_column: int = 0

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def as_text(self) -> str:
        return f"{self.path}:{self.line}:{self.column + 1}: {self.code} {self.message}"


PARSE_ERROR_CODE = "OTO000"


def parse_error(path: str, message: str, line: int = 1, column: int = 0) -> Finding:
    return Finding(path, max(line, 1), max(column, 0), PARSE_ERROR_CODE, message)
