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

from o2o_lint.django_api import MANAGER_METHODS
from o2o_lint.index.model import ReverseRelation
from o2o_lint.index.name_reads import ATTRIBUTE
from o2o_lint.rules.base import FileContext, Invalid, Valid
from o2o_lint.rules.oto004_reverse_manager_use.screen import (
    ReverseManagerUseScreen, ReverseManagerUses, _blamed_names, _message,
)
from o2o_lint.rules.visitor import LintRule


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

#: Two apps with an ``article_set`` each: a plain ForeignKey's and a unique one's.
_TWO_ARTICLE_SETS = {
    "news/models.py": """
        from django.db import models

        class Reporter(models.Model):
            pass

        class Article(models.Model):
            reporter = models.ForeignKey(Reporter, models.CASCADE)
        """,
    "gis/models.py": """
        from django.db import models

        class Writer(models.Model):
            pass

        class Column(models.Model):
            writer = models.ForeignKey(Writer, models.CASCADE, unique=True, related_name="article_set")
        """,
}


class ReverseManagerUse(ReverseManagerUseScreen, LintRule):
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
        # Query names in lookups, values, annotations, orderings and select_related: the
        # conversion keeps them (verified on Django 4.2, 5.2 and 6.1).
        Valid(
            """
            from django.db.models import Count, F
            from billing.models import Company

            def report():
                companies = Company.objects.filter(invoice__id=1).exclude(memberships__id=2)
                companies = companies.annotate(n=Count("invoice"), m=F("memberships__id")).order_by("invoice__id")
                return companies.select_related("invoice", "memberships").values("invoice", "memberships__id")
            """,
            files={"billing/models.py": _MODELS},
            id="query-names-everywhere",
        ),
        # A related_name stays the accessor's name: `prefetch_related("memberships")` and
        # `Prefetch("memberships")` keep working on the one-to-one (verified 4.2-6.1).
        Valid(
            """
            from django.db.models import Prefetch
            from billing.models import Company

            def load():
                return Company.objects.prefetch_related("memberships", Prefetch("memberships", to_attr="m"))
            """,
            files={"billing/models.py": _MODELS},
            id="prefetch-of-an-unchanged-name",
        ),
        # `hasattr(company, "memberships")` without a manager method: it asks whether the
        # attribute exists, which it does before and after.
        Valid(
            """
            def members(company):
                return hasattr(company, "memberships") and getattr(company, "memberships", None)
            """,
            files={"billing/models.py": _MODELS},
            id="getattr-related-name-without-manager",
        ),
        Valid(
            """
            from news.models import Reporter

            def count(reporter: Reporter):
                return getattr(reporter, "article_set").count()
            """,
            files=_TWO_ARTICLE_SETS,
            id="getattr-on-another-model",
        ),
        # `reporter` leads from an Article to a Reporter: the `article_set` is the plain one.
        Valid(
            """
            from news.models import Article

            def load():
                return Article.objects.prefetch_related("reporter__article_set")
            """,
            files=_TWO_ARTICLE_SETS,
            id="nested-prefetch-on-another-model",
        ),
        # A serializer of Reporter lists Reporter's own `article_set`; a ModelForm is no serializer;
        # a source read without a manager method or `many=True` is not a manager use.
        Valid(
            """
            from django import forms
            from rest_framework import serializers
            from news.models import Reporter

            class ReporterSerializer(serializers.ModelSerializer):
                column = serializers.PrimaryKeyRelatedField(source="article_set", read_only=True)

                class Meta:
                    model = Reporter
                    fields = ["id", "article_set"]

            class ReporterForm(forms.ModelForm):
                class Meta:
                    model = Reporter
                    fields = ["article_set"]
            """,
            files=_TWO_ARTICLE_SETS,
            id="serializer-of-another-model",
        ),
        # The receiver is a Reporter: its `article_set` is the plain ForeignKey's, not Column.writer's.
        Valid(
            """
            from news.models import Reporter

            def count():
                reporter = Reporter.objects.get(pk=1)
                return reporter.article_set.count()
            """,
            files=_TWO_ARTICLE_SETS,
            id="receiver-is-another-model",
        ),
        Valid(
            """
            from news.models import Reporter

            def load():
                return Reporter.objects.prefetch_related("article_set")
            """,
            files=_TWO_ARTICLE_SETS,
            id="prefetch-on-another-model",
        ),
        # In a template, a variable's model is unknown: Reporter's plain `article_set` may be
        # the one read; the one-to-one accessor, comments and verbatim text break nothing.
        Valid(
            """
            {% for a in reporter.article_set.all %}{{ a }}{% endfor %}
            {% comment %}{{ company.invoice_set.all }}{% endcomment %}{{ company.invoice.pk }}
            {% verbatim %}{{ company.invoice_set.count }}{% endverbatim %}
            """,
            files={**_TWO_ARTICLE_SETS, "billing/models.py": _MODELS},
            path="news/templates/news/reporter.html",
            id="template-uses-that-work",
        ),
        # Unknown receiver, and another relation gives an `article_set` too: it may be that one.
        Valid(
            """
            def count(obj):
                return obj.article_set.count()
            """,
            files=_TWO_ARTICLE_SETS,
            id="unknown-receiver-shared-name",
        ),
    ]
    INVALID = [
        # A template: after the conversion these render nothing, silently.
        Invalid(
            """
            {% for i in company.invoice_set.all %}{{ i.pk }}{% endfor %}
            <p>{{ company.memberships.count|default:"0" }}</p>
            """,
            files={"billing/models.py": _MODELS},
            path="billing/templates/billing/company.html",
            expected_messages=["`invoice_set` is the reverse manager of Invoice.company",
                               "`memberships` is the reverse manager of Membership.company"],
            id="template",
            range=(1, 20, 1, 31),
        ),
        Invalid(
            """
            {%- for i in company.invoice_set.all() -%}{{ i.pk }}{%- endfor %}
            """,
            files={"billing/models.py": _MODELS},
            path="billing/jinja2/billing/company.html",
            expected_messages=["the Jinja2 template then raises UndefinedError"],
            id="jinja2-template",
            range=(1, 21, 1, 32),
        ),
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
        Invalid(
            """
            from gis.models import Writer

            def count():
                writer = Writer.objects.filter(pk=1).first()
                return writer.article_set.count()
            """,
            files=_TWO_ARTICLE_SETS,
            expected_messages=["`article_set` is the reverse manager of Column.writer"],
            id="receiver-is-the-target",
            range=(5, 11, 5, 29),
        ),
        Invalid(
            """
            from gis.models import Column, Writer

            def columns(column: Column):
                for writer in Writer.objects.all():
                    writer.article_set.all()
                return column.writer.article_set.exists()
            """,
            files=_TWO_ARTICLE_SETS,
            expected_messages=["`article_set`", "`article_set`"],
            id="loop-variable-and-forward-relation",
            range=(5, 8, 5, 26),
        ),
        Invalid(
            """
            from billing.models import Company

            def load():
                return Company.objects.filter(pk=1).prefetch_related("invoice_set")
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["'invoice_set'"],
            id="prefetch-on-the-target",
            range=(4, 57, 4, 70),
        ),
        # `getattr`/`hasattr` with a literal: after the conversion `getattr` raises
        # AttributeError and `hasattr` is False, silently.
        Invalid(
            """
            from billing.models import Company

            def count(company: Company):
                if hasattr(company, "invoice_set"):
                    return getattr(company, "invoice_set").count()
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["'invoice_set' is the reverse manager of Invoice.company",
                               "'invoice_set' is the reverse manager of Invoice.company"],
            id="hasattr-and-getattr-literal",
            range=(4, 24, 4, 37),
        ),
        Invalid(
            """
            def members(company):
                return getattr(company, "memberships").all()
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["'memberships' is the reverse manager of Membership.company"],
            id="getattr-literal-then-manager-method",
            range=(2, 28, 2, 41),
        ),
        # Each segment of a lookup is resolved from the queryset's model: `company` is
        # Membership's ForeignKey to Company, whose `invoice_set` the conversion renames.
        Invalid(
            """
            from billing.models import Membership

            def load():
                return Membership.objects.prefetch_related("company__invoice_set")
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["'invoice_set'"],
            id="nested-prefetch-lookup",
            range=(4, 47, 4, 69),
        ),
        Invalid(
            """
            from django.db.models import Prefetch
            from billing.models import Company, Invoice

            def load():
                return Company.objects.prefetch_related(Prefetch("invoice_set", queryset=Invoice.objects.all()))
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["'invoice_set'"],
            id="prefetch-object",
            range=(5, 53, 5, 66),
        ),
        # Django REST framework: after the conversion a read-only field whose source is
        # gone silently drops its key from the response, and `Meta.fields` changes (a
        # `_set` name: ImproperlyConfigured; a related_name: a list becomes one pk).
        Invalid(
            """
            from rest_framework import serializers
            from billing.models import Company

            class CompanySerializer(serializers.ModelSerializer):
                invoices = serializers.PrimaryKeyRelatedField(source="invoice_set", many=True, read_only=True)
                invoice_count = serializers.IntegerField(source="invoice_set.count", read_only=True)

                class Meta:
                    model = Company
                    fields = ["id", "invoices", "invoice_count", "memberships"]
            """,
            files={"billing/models.py": _MODELS},
            expected_messages=["'invoice_set'", "'invoice_set'", "'memberships' is the reverse manager of Membership.company"],
            id="serializer-source-and-fields",
            range=(5, 57, 5, 70),
        ),
        # A relation whose target swapper's get_model_name() names.
        Invalid(
            """
            def first_locker(member):
                return member.locker_set.first()
            """,
            files={"club/models.py": (
                "import swapper\nfrom django.db import models\n\n\nclass Member(models.Model):\n    pass\n\n\n"
                "class Locker(models.Model):\n"
                "    member = models.ForeignKey(swapper.get_model_name('club', 'Member'), models.CASCADE, unique=True)\n"
            )},
            expected_messages=["`locker_set` is the reverse manager of Locker.member"],
            id="swapper-target",
            range=(2, 11, 2, 28),
        ),
    ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        relations = self.context.index.view(ReverseManagerUses).relations
        name = node.attr.value
        if name.endswith("_set") and name in relations:
            self._check_use(node, name)
        elif name in MANAGER_METHODS and isinstance(node.value, cst.Attribute):
            inner = node.value.attr.value
            if not inner.endswith("_set") and inner in relations:
                self._check_use(node.value, inner)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        """A name spelled in a string: a lookup, ``getattr``, a serializer's source or fields."""
        if self._string_names is None:
            view = self.context.index.view(ReverseManagerUses)
            self._string_names = frozenset(use.name for use in view.uses(self.context.abspath))
        if not self._string_names:
            return
        value = node.evaluated_value
        if not isinstance(value, str):
            return
        for name in sorted(self._string_names & {value, *value.split("__"), value.partition(".")[0]}):
            self._check_use(node, name, quoted=True)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._string_names: frozenset[str] | None = None
        self._reported_names = _blamed_names(context)

    def _check_use(self, node: cst.CSTNode, name: str, *, quoted: bool = False) -> None:
        """Report *node* when the view's use ending where it ends belongs to a unique ForeignKey."""
        view = self.context.index.view(ReverseManagerUses)
        if name not in self._reported_names:
            return  # positions cost a code generation of the whole file
        end = self.position(node).end
        use = next((u for u in view.uses(self.context.abspath) if u.name == name and u.end == (end.line, end.column)), None)
        relations = view.reported(use) if use is not None else []
        if relations:
            self._report_use(node, repr(name) if quoted else name, relations, quoted=quoted, place=use.place)

    def _report_use(self, node: cst.CSTNode, name: str, relations: list[ReverseRelation], *, quoted: bool = False,
                    place: str = ATTRIBUTE) -> None:
        self.report(node, _message(name if quoted else f"`{name}`", relations, place))
