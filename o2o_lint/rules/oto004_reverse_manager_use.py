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
from o2o_lint.django_api import MANAGER_METHODS, PREFETCH_CALLS
from o2o_lint.index.model import ReverseRelation
from o2o_lint.rules.base import FileContext, Invalid, LintRule, Valid

_MODELS = (
    "from django.db import models\n\n"
    "class Company(models.Model):\n    pass\n\n"
    "class Invoice(models.Model):\n"
    "    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n\n"
    "class Membership(models.Model):\n"
    "    company = models.ForeignKey(Company, models.CASCADE, unique=True, related_name='memberships')\n"
)


class ReverseManagerUse(LintRule):
    code = "OTO004"
    name = "reverse-manager-of-unique-foreign-key"
    summary = "Use of a reverse manager that becomes a single object once OTO001 is fixed"
    findings_outlive_relation_change = True  # a use the conversion breaks stays broken
    fixable = "never"

    VALID = [
        Valid("def total(company):\n    return company.invoice.amount\n", files={"billing/models.py": _MODELS}),
        # `.items()` of a dict is not the `items` relation: only manager-style reads count.
        Valid("def names(data):\n    return data.memberships\n", files={"billing/models.py": _MODELS}),
        # Lookups use the query name, which the conversion keeps.
        Valid("def find(Company):\n    return Company.objects.filter(invoice__amount=3)\n",
              files={"billing/models.py": _MODELS}),
    ]
    INVALID = [
        Invalid(
            "def count(company):\n    return company.invoice_set.count()\n",
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice_set` is the reverse manager of Invoice.company"],
        ),
        Invalid(
            "def members(company):\n    return list(company.memberships.all())\n",
            files={"billing/models.py": _MODELS},
            expected_messages=["`memberships`"],
        ),
        Invalid(
            "def load(Company):\n    return Company.objects.prefetch_related('invoice_set__lines')\n",
            files={"billing/models.py": _MODELS},
            expected_messages=["'invoice_set'"],
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
