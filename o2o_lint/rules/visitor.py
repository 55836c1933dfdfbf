"""A rule's LibCST visitor: the part of a rule that needs LibCST.

A rule package's ``rule.py`` holds one :class:`LintRule` subclass of the rule's
:class:`~o2o_lint.rules.base.Rule` (its ``screen.py``): one class, so the rule's
metadata, screens and visitor are one thing to the tests, the docs and the codemods,
while the engine imports this module, and LibCST, only for a file some rule's screens
let through.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst
from libcst.metadata import CodeRange

from o2o_lint.findings import Finding, Fix
from o2o_lint.rules.base import FileContext, Rule


class LintRule(Rule, cst.BatchableCSTVisitor):
    #: Positions are resolved lazily (see :meth:`position`): most files that pass a screen
    #: hold no finding, and position metadata costs a full code generation of the file.
    METADATA_DEPENDENCIES: ClassVar[tuple] = ()

    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context
        self.findings: list[Finding] = []

    @classmethod
    def visitor(cls) -> type[LintRule]:
        return cls

    def position(self, node: cst.CSTNode) -> CodeRange:
        return self.context.positions()[node]

    def report(self, node: cst.CSTNode, message: str, fix: Fix | None = None) -> None:
        where = self.position(node)
        self.findings.append(
            Finding(
                path=self.context.path,
                line=where.start.line,
                column=where.start.column,
                code=self.code,
                message=message,
                fix=fix,
                end_line=where.end.line,
                end_column=where.end.column,
            )
        )

    def span_of(self, *nodes: cst.CSTNode) -> tuple[tuple[int, int], tuple[int, int]]:
        ranges = [self.position(node) for node in nodes]
        start = min((r.start.line, r.start.column) for r in ranges)
        end = max((r.end.line, r.end.column) for r in ranges)
        return (start, end)
