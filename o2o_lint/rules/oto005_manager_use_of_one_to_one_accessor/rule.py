"""OTO005: a one-to-one accessor used as a manager, or under its old ``_set`` name.

What a ``ForeignKey(unique=True)`` → ``OneToOneField`` conversion (OTO001) leaves
behind, and what a one-to-one field never supported: the accessor of a one-to-one
relation, forward (``invoice.company``) or reverse (``company.invoice``), is the
related object itself, not a ``RelatedManager``. Verified on Django 4.2 and 5.2
(SQLite; the same descriptors since Django 1.x):

* ``company.invoice.count()`` / ``.all()`` / ``.exists()`` / ``.first()`` / ``.get()``
  / ``.filter()`` / ``.create()`` raise ``AttributeError: 'Invoice' object has no
  attribute 'count'`` (or ``RelatedObjectDoesNotExist``, also an ``AttributeError``,
  when there is no invoice) — unless ``Invoice`` defines a ``count`` of its own;
* ``for i in company.invoice`` raises ``TypeError: 'Invoice' object is not iterable``;
* ``company.invoice_set`` raises ``AttributeError: 'Company' object has no attribute
  'invoice_set'``.

It is reported on every run, in Python code: attributes, and
the names Python spells in strings (``getattr``/``hasattr`` literals, prefetch lookups,
a DRF serializer's ``source=`` and ``Meta.fields``: :mod:`o2o_lint.index.name_reads`);
and in Django templates (:mod:`o2o_lint.index.templates`), where every such use renders
nothing, silently (``{% for a in c.address.all %}``, ``{{ c.address_set.count }}``;
``{% for a in c.address %}`` raises TypeError when there is an address), verified on
Django 4.2, 5.2 and 6.1.
Only where the receiver resolves to a model (:class:`~o2o_lint.index.receivers.ModelTypes`) whose
accessor of that name is a one-to-one relation, and where nothing in the project can
give the name another meaning (a method or attribute of the related model, a manager,
a class the index cannot see into), is a use reported: an unresolved receiver never is
in Python. A template's variables come from views, so there a receiver other than the
user (``user``, ``request.user``) is unknown, and a use is reported only when every model
that gives the name a meaning breaks there the same way.

Fixes, unsafe (they change what the expression returns): ``x.acc.exists()`` of a
reverse accessor becomes ``hasattr(x, "acc")``; ``x.acc.first()`` / ``.last()`` becomes
``getattr(x, "acc", None)`` (``RelatedObjectDoesNotExist`` is an ``AttributeError``).
"""

from __future__ import annotations

import libcst as cst

from o2o_lint.findings import Fix
from o2o_lint.rules.base import FileContext, Invalid, Valid
from o2o_lint.rules.oto005_manager_use_of_one_to_one_accessor.screen import (
    _GUARDED, ManagerUseOfOneToOneAccessorScreen, OneToOneAccessors, Site, _file_sites,
)
from o2o_lint.rules.visitor import LintRule


_MODELS = """
from django.db import models

class Company(models.Model):
    pass

class Invoice(models.Model):
    company = models.OneToOneField(Company, models.CASCADE)

class Counter(models.Model):
    company = models.OneToOneField(Company, models.CASCADE, related_name="counter")

    def count(self):
        return 1

class Article(models.Model):
    company = models.ForeignKey(Company, models.CASCADE)
"""


_GOLD = """
class Gold(models.Model):
    user = models.OneToOneField("auth.User", models.CASCADE, related_name="gold")
"""

_PROFILES = """
class Profile(models.Model):
    company = models.OneToOneField(Company, models.CASCADE, related_name="profile")

class Person(models.Model):
    pass

class PersonProfile(models.Model):
    person = models.ForeignKey(Person, models.CASCADE, related_name="profile")
"""


class ManagerUseOfOneToOneAccessor(ManagerUseOfOneToOneAccessorScreen, LintRule):
    VALID = [
        # In a template, an unknown receiver's `counter.count` may be Counter.count(), and
        # `article_set` is a ForeignKey's manager; commented and verbatim text is not read.
        Valid(
            """
            {{ company.counter.count }} {{ company.article_set.count }} {{ company.invoice.pk }}
            {# {{ company.invoice_set.all }} #}{% verbatim %}{{ company.invoice.all }}{% endverbatim %}
            """,
            files={"billing/models.py": _MODELS},
            path="billing/templates/billing/company.html",
            id="template-uses-that-work",
        ),
        # `profile` is another model's manager too: the unknown receiver may be that one.
        Valid(
            """
            {% for p in person.profile.all %}{{ p }}{% endfor %}
            """,
            files={"billing/models.py": _MODELS + _PROFILES},
            path="billing/templates/billing/person.html",
            id="template-name-with-another-meaning",
        ),
        # `self.a` and `self.b` defined through each other: the receiver is unknown, and the
        # inference stops instead of recursing (a real wagtail view has such a cycle).
        Valid(
            """
            class PageView:
                def setup(self):
                    self.page = self.record.specific
                    self.record = self.page.latest

                def count(self):
                    return self.page.invoice.count()
            """,
            files={"billing/models.py": _MODELS},
            id="self-attribute-cycle",
        ),
        Valid(
            """
            from billing.models import Company

            def total(pk):
                company = Company.objects.get(pk=pk)
                return company.invoice.pk, company.article_set.count()
            """,
            files={"billing/models.py": _MODELS},
            id="accessor-and-real-manager",
        ),
        # Counter defines count(): `company.counter.count()` works.
        Valid(
            """
            from billing.models import Company

            def total(company: Company):
                return company.counter.count()
            """,
            files={"billing/models.py": _MODELS},
            id="related-model-defines-the-method",
        ),
        # An unresolved receiver may be anything with an `invoice` attribute.
        Valid(
            """
            def total(order):
                return order.invoice.count(), order.invoice_set.all()
            """,
            files={"billing/models.py": _MODELS},
            id="unknown-receiver",
        ),
        # The one-to-one names themselves, in strings: all work after a conversion.
        Valid(
            """
            from billing.models import Company

            def load(company: Company, queryset):
                found = hasattr(company, "invoice") and getattr(company, "counter").count()
                return found, Company.objects.prefetch_related("invoice"), queryset.prefetch_related("invoice_set")
            """,
            files={"billing/models.py": _MODELS},
            id="names-in-strings-that-work",
        ),
        # Model.delete() exists: deleting the related object works.
        Valid(
            """
            from billing.models import Company

            def drop(company: Company):
                company.invoice.delete()
            """,
            files={"billing/models.py": _MODELS},
            id="model-delete",
        ),
        # A model answering any attribute (`__getattr__`) may answer `count`.
        Valid(
            """
            from django.db import models

            class Shop(models.Model):
                pass

            class Ledger(models.Model):
                shop = models.OneToOneField(Shop, models.CASCADE)

                def __getattr__(self, name):
                    return lambda: 0

            def entries(shop: Shop):
                return shop.ledger.count()
            """,
            id="related-model-getattr",
        ),
        # A mixin the index cannot see into may define `all()`.
        Valid(
            """
            from django.db import models
            from somewhere import QueryMixin

            class Shop(models.Model):
                pass

            class Ledger(QueryMixin, models.Model):
                shop = models.OneToOneField(Shop, models.CASCADE)

            def entries(shop: Shop):
                return shop.ledger.all()
            """,
            id="unknown-mixin",
        ),
    ]
    INVALID = [
        # Templates render these as nothing, silently (the user model: `request.user`).
        Invalid(
            """
            {% for i in company.invoice_set.all %}{{ i.pk }}{% endfor %}
            <p>{{ company.invoice.count }} {{ request.user.gold.exists }}</p>
            {% for i in company.invoice %}{{ i }}{% endfor %}
            """,
            files={"billing/models.py": _MODELS + _GOLD},
            path="billing/templates/billing/company.html",
            expected_messages=["`invoice_set` does not exist", "no `count()`; the template renders nothing there",
                               "`gold` is a reverse one-to-one accessor (Gold.user)",
                               "iterating it raises TypeError"],
            id="template",
            range=(1, 20, 1, 31),
        ),
        # Jinja2 (a `jinja2` directory): calling a method of what is not there raises UndefinedError.
        Invalid(
            """
            {%- for i in company.invoice_set.all() -%}{{ i.pk }}{%- endfor %}
            {{ company.invoice.count() }}{% raw %}{{ company.invoice.all() }}{% endraw %}
            """,
            files={"billing/models.py": _MODELS},
            path="billing/jinja2/billing/company.html",
            expected_messages=["`invoice_set` does not exist", "the Jinja2 template raises UndefinedError"],
            id="jinja2-template",
            range=(1, 21, 1, 32),
        ),
        Invalid(
            """
            from billing.models import Company

            def total(company: Company):
                return company.invoice.count()
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice` is a reverse one-to-one accessor (Invoice.company), not a manager"],
            id="reverse-accessor-count",
            range=(4, 11, 4, 26),
        ),
        Invalid(
            """
            from billing.models import Company

            def count(pk):
                company = Company.objects.get(pk=pk)
                return company.invoice_set.count()
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice_set` does not exist: Invoice.company is a OneToOneField"],
            id="old-set-name",
            range=(5, 11, 5, 30),
        ),
        Invalid(
            """
            from billing.models import Company

            def has_invoice(company: Company):
                return company.invoice.exists()
            """,
            expected_fix="""
            from billing.models import Company

            def has_invoice(company: Company):
                return hasattr(company, "invoice")
            """,
            unsafe=True,
            files={"billing/models.py": _MODELS},
            expected_messages=["no `exists()`"],
            id="exists-fix",
        ),
        Invalid(
            """
            from billing.models import Invoice

            def first_company(invoice: Invoice):
                company = invoice.company
                return company.invoice_set.first()
            """,
            expected_fix="""
            from billing.models import Invoice

            def first_company(invoice: Invoice):
                company = invoice.company
                return getattr(company, "invoice", None)
            """,
            unsafe=True,
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice_set` does not exist"],
            id="set-first-fix",
        ),
        Invalid(
            """
            from billing.models import Invoice

            def names(invoice: Invoice):
                return [c.pk for c in invoice.company], invoice.company.filter(pk=1)
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`company` is a one-to-one field (Invoice.company): it is a single Company, "
                               "and iterating it raises TypeError",
                               "no `filter()`"],
            id="forward-iteration-and-filter",
            range=(4, 26, 4, 41),
        ),
        Invalid(
            """
            from billing.models import Company

            def invoice_count(company: Company):
                if hasattr(company, "invoice_set"):
                    return getattr(company, "invoice").count()
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice_set` does not exist: Invoice.company is a OneToOneField, whose reverse "
                               "accessor `invoice` is the Invoice itself (or raises Invoice.DoesNotExist); "
                               "`hasattr` is always False, silently",
                               "`invoice` is a reverse one-to-one accessor (Invoice.company), not a manager"],
            id="hasattr-and-getattr-literal",
            range=(4, 24, 4, 37),
        ),
        # `company` leads from an Article to a Company, whose `invoice_set` is gone.
        Invalid(
            """
            from django.db.models import Prefetch
            from billing.models import Article, Company

            def load():
                articles = Article.objects.prefetch_related("company__invoice_set")
                return articles, Company.objects.prefetch_related(Prefetch("invoice_set"))
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["prefetch_related raises AttributeError", "prefetch_related raises AttributeError"],
            id="prefetch-lookups",
            range=(5, 48, 5, 70),
        ),
        Invalid(
            """
            from rest_framework import serializers
            from billing.models import Company

            class CompanySerializer(serializers.ModelSerializer):
                invoices = serializers.IntegerField(source="invoice_set.count", read_only=True)
                invoice_ids = serializers.PrimaryKeyRelatedField(source="invoice", many=True, read_only=True)

                class Meta:
                    model = Company
                    fields = ["id", "invoices", "invoice_ids", "invoice_set"]
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["drops out of the response", "iterating it raises TypeError",
                               "the serializer raises ImproperlyConfigured"],
            id="serializer-source-and-fields",
            range=(5, 47, 5, 66),
        ),
        # Only the statements spanning a line that spells an accessor are searched: a
        # decorator's lines come before its function's `def` line, and belong to it.
        Invalid(
            """
            from billing.models import Company

            def register(company: Company):
                @cached(
                    company.invoice.count(),
                )
                def total():
                    return 0
                return total
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["`invoice` is a reverse one-to-one accessor (Invoice.company), not a manager"],
            id="in-a-decorator",
            range=(5, 8, 5, 23),
        ),
    ]

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._calls: dict[int, cst.Call] = {}

    def _find_sites(self) -> dict[tuple[int, int], Site]:
        return _file_sites(self.context).sites

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (not node.args and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Attribute)
                and func.attr.value in _GUARDED | {"exists"}):
            self._calls[id(func.value)] = node

    def visit_Attribute(self, node: cst.Attribute) -> None:
        pattern = self.context.index.view(OneToOneAccessors).pattern
        if pattern is None or not pattern.fullmatch(node.attr.value):
            return
        end = self.position(node).end
        site = self._find_sites().get((end.line, end.column))
        if site is None or site.name != node.attr.value:
            return
        self.report(node, site.message, self._fix(node, site))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        """An accessor spelled in a string: ``getattr``/``hasattr``, a lookup, a serializer."""
        pattern = self.context.index.view(OneToOneAccessors).pattern
        if pattern is None or pattern.search(node.value) is None:
            return
        sites = self._find_sites()
        if not sites:
            return
        end = self.position(node).end
        site = sites.get((end.line, end.column))
        value = node.evaluated_value
        if site is None or not isinstance(value, str):
            return
        if site.name in {value, *value.split("__"), value.partition(".")[0]}:
            self.report(node, site.message)

    def _fix(self, node: cst.Attribute, site: Site) -> Fix | None:
        call = self._calls.get(id(node))
        if call is None or site.hasattr_name is None or not _file_sites(self.context).fixable:
            return None
        method = call.func.attr.value  # type: ignore[attr-defined]
        name = cst.SimpleString(f'"{site.hasattr_name}"')
        if method == "exists":
            replacement = cst.Call(func=cst.Name("hasattr"), args=[
                cst.Arg(node.value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(name)])
            description = f'Replace with `hasattr(..., "{site.hasattr_name}")`'
        else:
            replacement = cst.Call(func=cst.Name("getattr"), args=[
                cst.Arg(node.value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.Arg(name, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(cst.Name("None"))])
            description = f'Replace with `getattr(..., "{site.hasattr_name}", None)`'
        return Fix(description=description, safe=False, replacements={call: replacement}, span=self.span_of(call))
