"""OTO004: a use of the reverse manager that converting OTO001's field would break.

Converting ``Invoice.company = ForeignKey(Company, unique=True)`` to a
``OneToOneField`` changes ``company.invoice_set`` (a ``RelatedManager``) into
``company.invoice`` (the object itself, or ``RelatedObjectDoesNotExist``). With a
``related_name`` the name stays but the kind changes: ``company.addresses.all()``
raises ``AttributeError``, and in a template ``{% for a in c.addresses.all %}``
silently renders nothing. Every such use, in any module of the project, is reported
where it stands so it can be rewritten together with the field.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from functools import cached_property

import libcst as cst

from o2o_lint.astutil import dotted_name
from o2o_lint.cstutil import dotted
from o2o_lint.django_api import MANAGER_METHODS, PREFETCH_CALLS
from o2o_lint.index.model import ProjectIndex, ReverseRelation
from o2o_lint.rules.base import FileContext, Invalid, LintRule, Valid
from o2o_lint.syntax import parse_module


def manager_uses(tree: ast.AST) -> set[str]:
    """Names *tree* reads as related managers: ``x.invoice_set``, ``x.items.all()``."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if node.attr.endswith("_set"):
                found.add(node.attr)
            if node.attr in MANAGER_METHODS and isinstance(node.value, ast.Attribute):
                found.add(node.value.attr)
        elif isinstance(node, ast.Call):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else dotted_name(node.func)
            if callee in PREFETCH_CALLS:
                for argument in node.args:
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        found.add(argument.value.split("__", 1)[0])
    return found


class ReverseManagerUses:
    """The project view (``index.view(ReverseManagerUses)``): the reverse managers of
    unique ForeignKeys, which converting the field to a OneToOneField turns into single
    objects, and the files that use them as managers.

    Everything is computed on first use: a project without a unique ForeignKey never
    reads a file for it. Files are read through :meth:`ProjectIndex.source_text`, so the
    text being analysed (standard input, an editor buffer, a fix pass) counts for its
    path; that one file's uses are never cached.
    """

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._uses_by_path: dict[str, frozenset[str]] = {}

    @cached_property
    def relations(self) -> dict[str, list[ReverseRelation]]:
        """Reverse managers of unique ForeignKeys (Django's fields.W342), by accessor."""
        found: dict[str, list[ReverseRelation]] = defaultdict(list)
        for relation in self.index.reverse_relations:
            if relation.field is not None and relation.field.is_unique_foreign_key:
                found[relation.accessor].append(relation)
        return found

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """Matches the text of a file that may use a unique ForeignKey's reverse manager."""
        names = sorted(self.relations)
        # "invoice_set__lines" (a prefetch lookup) counts: `__` may follow the name
        return re.compile(r"\b(?:%s)(?:\b|__)" % "|".join(map(re.escape, names))) if names else None

    def files_using(self, name: str) -> list[str]:
        """The files that read the reverse accessor *name* as a manager."""
        if name not in self.relations:
            return []
        return [path for path in sorted(self.index.facts_by_path) if name in self._uses(path)]

    def _uses(self, path: str) -> frozenset[str]:
        """The unique ForeignKeys' reverse managers *path* reads as managers: a text search
        first, confirmed on the file's ``ast``."""
        overlaid = self.index.overlaid is not None and self.index.overlaid[0] == path
        found = None if overlaid else self._uses_by_path.get(path)
        if found is None:
            found = self._search(self.index.source_text(path))
            if not overlaid:
                self._uses_by_path[path] = found
        return found

    def _search(self, text: str | None) -> frozenset[str]:
        pattern = self.pattern
        if text is None or pattern is None or pattern.search(text) is None:
            return frozenset()
        try:
            used = manager_uses(parse_module(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return frozenset()
        return frozenset(used & set(self.relations))


#: The models every case's snippet sees, as ``billing/models.py`` of its project.
_MODELS = """
from django.db import models

class Company(models.Model):
    pass

class Invoice(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True)

class Membership(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True, related_name='memberships')
"""


class ReverseManagerUse(LintRule):
    code = "OTO004"
    name = "reverse-manager-of-unique-foreign-key"
    summary = "Use of a reverse manager that becomes a single object once OTO001 is fixed"
    findings_outlive_relation_change = True  # a use the conversion breaks stays broken
    fixable = "never"

    VALID = [
        Valid(
            """
            def total(company):
                return company.invoice.amount
            """,
            files={"billing/models.py": _MODELS},
            id="one-to-one-accessor",
        ),
        # `.items()` of a dict is not the `items` relation: only manager-style reads count.
        Valid(
            """
            def names(data):
                return data.memberships
            """,
            files={"billing/models.py": _MODELS},
            id="related-name-read-without-manager",
        ),
        # Lookups use the query name, which the conversion keeps.
        Valid(
            """
            def find(Company):
                return Company.objects.filter(invoice__amount=3)
            """,
            files={"billing/models.py": _MODELS},
            id="lookup-by-query-name",
        ),
    ]
    INVALID = [
        Invalid(
            """
            def count(company):
                return company.invoice_set.count()
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice_set` is the reverse manager of Invoice.company"],
            id="default-reverse-manager",
            range=(2, 11, 2, 30),
        ),
        Invalid(
            """
            def members(company):
                return list(company.memberships.all())
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`memberships`"],
            id="related-name-manager-method",
            range=(2, 16, 2, 35),
        ),
        Invalid(
            """
            def load(Company):
                return Company.objects.prefetch_related('invoice_set__lines')
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["'invoice_set'"],
            id="prefetch-related-lookup",
            range=(2, 44, 2, 64),
        ),
    ]

    @classmethod
    def screen(cls, context: FileContext) -> bool:
        pattern = context.index.view(ReverseManagerUses).pattern
        return pattern is not None and pattern.search(context.text) is not None

    def visit_Attribute(self, node: cst.Attribute) -> None:
        relations = self.context.index.view(ReverseManagerUses).relations
        name = node.attr.value
        if name.endswith("_set") and name in relations:
            self._report_use(node, name, relations[name])
        elif name in MANAGER_METHODS and isinstance(node.value, cst.Attribute):
            inner = node.value.attr.value
            if not inner.endswith("_set") and inner in relations:
                self._report_use(node.value, inner, relations[inner])

    def visit_Call(self, node: cst.Call) -> None:
        callee = dotted(node.func)
        if callee is None and isinstance(node.func, cst.Attribute):
            callee = node.func.attr.value
        if callee is None or callee.rpartition(".")[2] not in PREFETCH_CALLS:
            return
        relations = self.context.index.view(ReverseManagerUses).relations
        for arg in node.args:
            if arg.keyword is None and isinstance(arg.value, cst.SimpleString):
                lookup = arg.value.evaluated_value
                if isinstance(lookup, str):
                    name = lookup.split("__", 1)[0]
                    if name in relations:
                        self._report_use(arg.value, repr(name), relations[name], quoted=True)

    def _report_use(self, node: cst.CSTNode, name: str, relations: list[ReverseRelation], *, quoted: bool = False) -> None:
        relation = relations[0]
        shown = name if quoted else f"`{name}`"
        declared = f"{relation.related_model_name}.{relation.field_name}"
        if relation.one_to_one_accessor != relation.accessor:
            becomes = f"it becomes `{relation.one_to_one_accessor}`, a single object"
        else:
            becomes = "it returns a single object"
        also = f" (and {len(relations) - 1} more)" if len(relations) > 1 else ""
        self.report(
            node,
            f"{shown} is the reverse manager of {declared}{also}, a ForeignKey(unique=True); "
            f"once converted to OneToOneField (OTO001) {becomes}, not a manager",
        )
