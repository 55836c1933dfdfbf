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

import libcst as cst

from o2o_lint.cstutil import dotted
from o2o_lint.index.facts import MANAGER_METHODS, PREFETCH_CALLS
from o2o_lint.index.model import ReverseRelation
from o2o_lint.rules.base import FileContext, Invalid, LintRule, Valid

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
        pattern = context.index.manager_use_pattern
        return pattern is not None and pattern.search(context.text) is not None

    def visit_Attribute(self, node: cst.Attribute) -> None:
        relations = self.context.index.unique_foreign_key_relations
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
        relations = self.context.index.unique_foreign_key_relations
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
