"""OTO001: ``ForeignKey(unique=True)`` is a ``OneToOneField`` in disguise.

Django warns at start-up (``fields.W342``) for a ForeignKey whose ``unique`` is true,
which ``primary_key=True`` implies. Converting it is more than a rename: the reverse
accessor turns from a manager (``company.invoice_set``) into a single object
(``company.invoice``), the third positional argument changes meaning
(``related_name`` on ForeignKey, ``to_field`` on OneToOneField), and
``makemigrations`` emits an ``AlterField``. The fix is therefore safe only when the
project index shows no use of the old reverse accessor (see OTO004), and only when
every file of the project could be read and parsed (a use in a file that could not be
is unknown).
"""

from __future__ import annotations

import os
from typing import NamedTuple

import libcst as cst

from o2o_lint.cstutil import dotted, is_true, keyword_arg, remove_arg
from o2o_lint.findings import Fix
from o2o_lint.django_api import DJANGO_FIELD_MODULES, FOREIGN_KEY_POSITIONALS
from o2o_lint.index.model import RelationField, RelationKind, ReverseRelation
from o2o_lint.rules.base import FileContext, Invalid, Valid
from o2o_lint.rules.oto001_foreign_key_unique.screen import ForeignKeyUniqueScreen
from o2o_lint.rules.oto004_reverse_manager_use.screen import ReverseManagerUses
from o2o_lint.rules.visitor import LintRule


class DeclaredUnique(NamedTuple):
    """How a ForeignKey call is made unique, for the message."""

    spelled: str  # "unique=True", "unique=ONE_PER_COMPANY", "**UNIQUE"
    why: str  # what makes a name true ("`ONE_PER_COMPANY` is True; "), or ""


class ForeignKeyUnique(ForeignKeyUniqueScreen, LintRule):
    VALID = [
        Valid(
            """
            from django.db import models

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE)
            """,
            id="plain-foreign-key",
        ),
        Valid(
            """
            from django.db import models

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE, unique=False)
            """,
            id="unique-false",
        ),
        Valid(
            """
            from django.db import models

            class Address(models.Model):
                company = models.OneToOneField('Company', models.CASCADE, unique=True)
            """,
            id="one-to-one-field",
        ),
        # Another class that happens to be called ForeignKey.
        Valid(
            """
            from myorm import ForeignKey

            class Address:
                company = ForeignKey('Company', unique=True)
            """,
            id="foreign-key-of-another-library",
        ),
        # Uniqueness declared elsewhere does not trigger fields.W342.
        Valid(
            """
            from django.db import models

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE)

                class Meta:
                    unique_together = [('company',)]
            """,
            id="unique-together",
        ),
        # A noqa comment suppresses the finding, as under flake8.
        Valid(
            """
            from django.db import models

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE, unique=True)  # noqa: OTO001
            """,
            id="noqa-comment",
        ),
        # A field built inside a function (here to test deconstruct()) is no model field:
        # Django never checks it, and converting it would change what the test tests.
        Valid(
            """
            from django.db import models

            def test_foreign_key_unique():
                field = models.ForeignKey("auth.Permission", models.CASCADE, unique=True)
                return field.deconstruct()
            """,
            id="field-outside-a-class-body",
        ),
        # A constant that is False, or bound twice (which value holds is not for a static
        # index to say), or not a literal: never taken as True.
        Valid(
            """
            from django.db import models

            ONE_PER_COMPANY = False
            SHARED = True
            if models.__name__:
                SHARED = False

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE, unique=ONE_PER_COMPANY)
                owner = models.ForeignKey('Company', models.CASCADE, unique=SHARED)
            """,
            id="constant-false-or-rebound",
        ),
        Valid(
            """
            from django.conf import settings
            from django.db import models
            from thirdparty.flags import UNIQUE_ADDRESS

            ONE_PER_COMPANY = getattr(settings, "ONE_ADDRESS_PER_COMPANY", True)

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE, unique=ONE_PER_COMPANY)
                owner = models.ForeignKey('Company', models.CASCADE, unique=UNIQUE_ADDRESS)
            """,
            id="constant-not-a-literal",
        ),
        # A dict changed after it is built is no constant.
        Valid(
            """
            from django.db import models

            UNIQUE = {"unique": True}
            UNIQUE["unique"] = False

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE, **UNIQUE)
                owner = models.ForeignKey('Company', models.CASCADE, **{"related_name": "owned"})
            """,
            id="dict-mutated-or-without-unique",
        ),
        # A subclass overriding __init__ may force unique=False (Django then does not warn):
        # what it makes of its keywords is unknown.
        Valid(
            """
            from django.db import models
            from app.fields import PlainForeignKey

            class Address(models.Model):
                company = PlainForeignKey('Company', models.CASCADE, unique=True)
            """,
            files={
                "app/fields.py": """
                    from django.db import models

                    class PlainForeignKey(models.ForeignKey):
                        def __init__(self, *args, **kwargs):
                            kwargs["unique"] = False
                            super().__init__(*args, **kwargs)
                    """,
            },
            id="subclass-overriding-init",
        ),
    ]
    INVALID = [
        Invalid(
            """
            from django.db import models

            class Company(models.Model):
                pass

            class Address(models.Model):
                company = models.ForeignKey(Company, on_delete=models.CASCADE, unique=True)
            """,
            expected_fix="""
            from django.db import models

            class Company(models.Model):
                pass

            class Address(models.Model):
                company = models.OneToOneField(Company, on_delete=models.CASCADE)
            """,
            expected_messages=["ForeignKey(unique=True)"],
            id="unique-true",
            range=(7, 14, 7, 79),
        ),
        # primary_key=True makes the field unique too; it is kept.
        Invalid(
            """
            from django.db import models

            class Profile(models.Model):
                user = models.ForeignKey('auth.User', models.CASCADE, primary_key=True)
            """,
            expected_fix="""
            from django.db import models

            class Profile(models.Model):
                user = models.OneToOneField('auth.User', models.CASCADE, primary_key=True)
            """,
            expected_messages=["ForeignKey(primary_key=True)"],
            id="primary-key",
            range=(4, 11, 4, 75),
        ),
        # Imported by name and aliased: import fixed up, positional related_name made a keyword.
        Invalid(
            """
            from django.db.models import CASCADE, Model
            from django.db.models import ForeignKey as FK

            class Company(Model):
                pass

            class Address(Model):
                company = FK(
                    'Company',
                    CASCADE,
                    'address',  # the accessor
                    unique=True,  # one address per company
                )
            """,
            expected_fix="""
            from django.db.models import OneToOneField, CASCADE, Model

            class Company(Model):
                pass

            class Address(Model):
                company = OneToOneField(
                    'Company',
                    CASCADE,
                    related_name='address',  # the accessor
                    # one address per company
                )
            """,
            id="aliased-import-positional-related-name",
            range=(8, 14, 13, 5),
        ),
        # The full dotted path works too.
        Invalid(
            """
            import django.db.models

            class Company(django.db.models.Model):
                pass

            class Address(django.db.models.Model):
                company = django.db.models.ForeignKey('Company', django.db.models.CASCADE, unique=True)
            """,
            expected_fix="""
            import django.db.models

            class Company(django.db.models.Model):
                pass

            class Address(django.db.models.Model):
                company = django.db.models.OneToOneField('Company', django.db.models.CASCADE)
            """,
            id="full-dotted-path",
            range=(7, 14, 7, 91),
        ),
        # The reverse manager is used elsewhere: the fix would break it, so it is unsafe.
        Invalid(
            """
            from django.db import models

            class Company(models.Model):
                def count_invoices(self):
                    return self.invoice_set.count()

            class Invoice(models.Model):
                company = models.ForeignKey(Company, models.CASCADE, unique=True)
            """,
            expected_fix="""
            from django.db import models

            class Company(models.Model):
                def count_invoices(self):
                    return self.invoice_set.count()

            class Invoice(models.Model):
                company = models.OneToOneField(Company, models.CASCADE)
            """,
            expected_messages=["ForeignKey(unique=True)"],
            unsafe=True,
            id="reverse-manager-used-fix-unsafe",
            range=(8, 14, 8, 69),
        ),
        # A target outside the project (a third-party app): the accessor's name comes from
        # this model (`profile_set`), and no file uses it, so the fix is safe.
        Invalid(
            """
            from django.db import models

            class Profile(models.Model):
                account = models.ForeignKey("allauth.SocialAccount", models.CASCADE, unique=True)
            """,
            expected_fix="""
            from django.db import models

            class Profile(models.Model):
                account = models.OneToOneField("allauth.SocialAccount", models.CASCADE)
            """,
            id="target-outside-the-project",
            range=(4, 14, 4, 85),
        ),
        Invalid(
            """
            from django.db import models

            class Profile(models.Model):
                account = models.ForeignKey("allauth.SocialAccount", models.CASCADE, unique=True)

            def profiles(account):
                return account.profile_set.all()
            """,
            expected_fix="""
            from django.db import models

            class Profile(models.Model):
                account = models.OneToOneField("allauth.SocialAccount", models.CASCADE)

            def profiles(account):
                return account.profile_set.all()
            """,
            expected_messages=["the fix is unsafe: the reverse accessor `profile_set` is used"],
            unsafe=True,
            id="target-outside-the-project-accessor-used",
            range=(4, 14, 4, 85),
        ),
        # The user model is Django's: its uses are searched the same way.
        Invalid(
            """
            from django.conf import settings
            from django.db import models

            class Profile(models.Model):
                user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, unique=True)
            """,
            expected_fix="""
            from django.conf import settings
            from django.db import models

            class Profile(models.Model):
                user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE)
            """,
            id="user-model-target",
            range=(5, 11, 5, 83),
        ),
        # A file of the project that no Python parses is not indexed: a use of the reverse
        # manager may hide there, so the conversion is unsafe, and the message says why.
        Invalid(
            """
            from django.db import models

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE, unique=True)
            """,
            files={"app/services.py": "def first_address(company):\n    return company.address_set.get()\n\ndef half(:\n"},
            expected_fix="""
            from django.db import models

            class Address(models.Model):
                company = models.OneToOneField('Company', models.CASCADE)
            """,
            expected_messages=[
                "the fix is unsafe: 1 file(s) of the project could not be read or parsed (",
            ],
            unsafe=True,
            id="unparsed-file-fix-unsafe",
            range=(4, 14, 4, 71),
        ),
        # A module-level constant bound to True is as good as the literal: the fix drops it
        # (and its import, when nothing else uses it).
        Invalid(
            """
            from django.db import models

            ONE_PER_COMPANY = True

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE, unique=ONE_PER_COMPANY)
            """,
            expected_fix="""
            from django.db import models

            ONE_PER_COMPANY = True

            class Address(models.Model):
                company = models.OneToOneField('Company', models.CASCADE)
            """,
            expected_messages=["ForeignKey(unique=ONE_PER_COMPANY) is a OneToOneField in disguise (`ONE_PER_COMPANY` is True"],
            id="constant-true",
            range=(6, 14, 6, 82),
        ),
        Invalid(
            """
            from django.db import models
            from app.constants import ONE_PER_COMPANY

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE, unique=ONE_PER_COMPANY)
            """,
            files={"app/constants.py": "ONE_PER_COMPANY = True\n"},
            expected_fix="""
            from django.db import models

            class Address(models.Model):
                company = models.OneToOneField('Company', models.CASCADE)
            """,
            id="constant-imported",
            range=(5, 14, 5, 82),
        ),
        # A relative import of the constant goes too once nothing else uses it.
        Invalid(
            """
            from django.db import models
            from .constants import ONE_PER_COMPANY, OTHER

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE, unique=ONE_PER_COMPANY)
                other = OTHER
            """,
            files={"app/constants.py": "ONE_PER_COMPANY = True\nOTHER = 1\n"},
            expected_fix="""
            from django.db import models
            from .constants import OTHER

            class Address(models.Model):
                company = models.OneToOneField('Company', models.CASCADE)
                other = OTHER
            """,
            id="constant-relative-import",
            range=(5, 14, 5, 82),
        ),
        # Re-exported by a package and read as an attribute: primary_key= keeps its constant.
        Invalid(
            """
            from django.db import models
            from app import constants

            class Profile(models.Model):
                user = models.ForeignKey('auth.User', models.CASCADE, primary_key=constants.AS_KEY)
            """,
            files={
                "app/constants/__init__.py": "from .keys import AS_KEY\n",
                "app/constants/keys.py": "AS_KEY: bool = True\n",
            },
            expected_fix="""
            from django.db import models
            from app import constants

            class Profile(models.Model):
                user = models.OneToOneField('auth.User', models.CASCADE, primary_key=constants.AS_KEY)
            """,
            expected_messages=["ForeignKey(primary_key=constants.AS_KEY)"],
            id="primary-key-constant-reexported",
            range=(5, 11, 5, 87),
        ),
        # The index knows the field is unique: a use of its reverse manager makes the fix unsafe.
        Invalid(
            """
            from django.db import models
            from app.constants import ONE_PER_COMPANY

            class Company(models.Model):
                def first_address(self):
                    return self.address_set.first()

            class Address(models.Model):
                company = models.ForeignKey(Company, models.CASCADE, unique=ONE_PER_COMPANY)
            """,
            files={"app/constants.py": "ONE_PER_COMPANY = True\n"},
            expected_fix="""
            from django.db import models

            class Company(models.Model):
                def first_address(self):
                    return self.address_set.first()

            class Address(models.Model):
                company = models.OneToOneField(Company, models.CASCADE)
            """,
            expected_messages=["the fix is unsafe: the reverse accessor `address_set` is used"],
            unsafe=True,
            id="constant-true-manager-used",
            range=(9, 14, 9, 80),
        ),
        # `**` keywords: reported, but the fix does not edit a dict (it may serve other calls).
        Invalid(
            """
            from django.db import models
            from app.constants import UNIQUE

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE, **UNIQUE)
            """,
            files={"app/constants.py": 'UNIQUE = {"unique": True, "related_name": "address"}\n'},
            expected_messages=[
                'ForeignKey(**UNIQUE) is a OneToOneField in disguise (`UNIQUE` holds "unique": True; '
                "Django's fields.W342); use OneToOneField; no automatic fix: the call passes `**` keywords",
            ],
            id="dict-constant-spread",
            range=(5, 14, 5, 68),
        ),
        Invalid(
            """
            from django.db import models

            class Address(models.Model):
                company = models.ForeignKey('Company', models.CASCADE, **{"unique": True})
            """,
            expected_messages=['ForeignKey(**{"unique": True}) is a OneToOneField in disguise'],
            id="dict-literal-spread",
            range=(4, 14, 4, 78),
        ),
        # The project's own ForeignKey subclasses, and theirs, in any module: Django warns for
        # them too. No fix: there is no OneToOneField counterpart to switch to.
        Invalid(
            """
            from django.db import models
            from app.tenancy import AuditedForeignKey

            class Address(models.Model):
                company = AuditedForeignKey('Company', models.CASCADE, unique=True)
            """,
            files={
                "app/fields.py": """
                    from django.db.models import ForeignKey as FK

                    class TenantForeignKey(FK):
                        tenant_field = "tenant"
                    """,
                "app/tenancy.py": """
                    from app import fields

                    class AuditedForeignKey(fields.TenantForeignKey):
                        def deconstruct(self):
                            return super().deconstruct()
                    """,
            },
            expected_messages=[
                "use OneToOneField; no automatic fix: AuditedForeignKey is a ForeignKey subclass with no "
                "OneToOneField counterpart",
            ],
            id="project-foreign-key-subclass",
            range=(5, 14, 5, 71),
        ),
        Invalid(
            """
            import django.db.models as m

            class Address(m.Model):
                company = m.ForeignKey('Company', m.CASCADE, unique=True)
            """,
            expected_fix="""
            import django.db.models as m

            class Address(m.Model):
                company = m.OneToOneField('Company', m.CASCADE)
            """,
            id="module-alias",
            range=(4, 14, 4, 61),
        ),
        # A target named by swapper's get_model_name() is resolved (its setting's value, else
        # its default): the uses of the reverse accessor are searched, none here, so the fix is safe.
        Invalid(
            """
            import swapper
            from django.db import models

            class Member(models.Model):
                pass

            class Locker(models.Model):
                member = models.ForeignKey(swapper.get_model_name("app", "Member"), models.CASCADE, unique=True)
            """,
            expected_fix="""
            import swapper
            from django.db import models

            class Member(models.Model):
                pass

            class Locker(models.Model):
                member = models.OneToOneField(swapper.get_model_name("app", "Member"), models.CASCADE)
            """,
            id="swapper-target",
            range=(8, 13, 8, 100),
        ),
    ]

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        #: the enclosing class bodies and functions, innermost last (a function is None)
        self.class_names: list[str | None] = []
        #: calls assigned to a name directly in a class body: the fields (name, class)
        self.field_names: dict[cst.Call, tuple[str, str]] = {}

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.class_names.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_names.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.class_names.append(None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.class_names.pop()

    def _declare(self, value: cst.BaseExpression | None, target: cst.BaseExpression) -> None:
        owner = self.class_names[-1] if self.class_names else None
        if owner is not None and isinstance(value, cst.Call) and isinstance(target, cst.Name):
            self.field_names[value] = (target.value, owner)

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1:
            self._declare(node.value, node.targets[0].target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._declare(node.value, node.target)

    def visit_Call(self, node: cst.Call) -> None:
        callee = dotted(node.func)
        if callee is None or node not in self.field_names:
            return  # only a field declared in a class body is a model field (W342)
        kind = self.context.index.field_kind(self.context.module_name, callee)
        if kind is None or kind.kind != RelationKind.FOREIGN_KEY or not kind.certain:
            return  # a subclass overriding __init__ (or check) may force or drop unique: unsure
        declared = self._declared_unique(node)
        if declared is None:
            return
        relations = self._reverse_relations(node)
        message = f"ForeignKey({declared.spelled}) is a OneToOneField in disguise ({declared.why}Django's fields.W342); use OneToOneField"
        fix = None
        if not kind.django_field:
            # a ForeignKey subclass (the project's or a configured one) has no OneToOneField twin to switch to
            message += f"; no automatic fix: {callee.rpartition('.')[2]} is a ForeignKey subclass with no OneToOneField counterpart"
        elif any(arg.star for arg in node.args):
            message += (
                "; no automatic fix: the call passes `**` keywords, which the fix does not edit "
                "(OneToOneField accepts the same keywords and ignores `unique`: switch by hand)"
            )
        else:
            reason = self._unsafe_reason(relations)
            fix = self._fix(node, callee, safe=reason is None)
            if reason is not None:
                message += f"; the fix is unsafe: {reason}"
        self.report(node, message, fix)

    def _true_constant(self, value: cst.BaseExpression) -> str | None:
        """The name of a module-level constant bound to True (``ONE_PER_COMPANY``), as the
        index reads it in this module or the one it is imported from."""
        name = dotted(value)
        if name is None or name in ("True", "False", "None"):
            return None
        return name if self.context.index.constant(self.context.module_name, name) is True else None

    def _spread_entries(self, value: cst.BaseExpression) -> dict[str, object]:
        """The known literal entries of a ``**`` argument: a dict display or a dict constant."""
        if isinstance(value, cst.Dict):
            entries: dict[str, object] = {}
            for element in value.elements:
                if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                    key = element.key.evaluated_value
                    if isinstance(key, str):
                        entries[key] = True if is_true(element.value) else None
            return entries
        name = dotted(value)
        found = self.context.index.constant(self.context.module_name, name) if name else None
        return found if isinstance(found, dict) else {}

    def _declared_unique(self, node: cst.Call) -> DeclaredUnique | None:
        """How the call makes the field unique (literal, constant or ``**`` dict), else None."""
        for keyword in ("unique", "primary_key"):
            arg = keyword_arg(node, keyword)
            if arg is None:
                continue
            if is_true(arg.value):
                return DeclaredUnique(f"{keyword}=True", "")
            constant = self._true_constant(arg.value)
            if constant is not None:
                return DeclaredUnique(f"{keyword}={constant}", f"`{constant}` is True; ")
        for arg in node.args:
            if arg.star != "**":
                continue
            entries = self._spread_entries(arg.value)
            keyword = next((k for k in ("unique", "primary_key") if entries.get(k) is True), None)
            if keyword is None:
                continue
            if isinstance(arg.value, cst.Dict):
                return DeclaredUnique(f'**{{"{keyword}": True}}', "")
            name = dotted(arg.value)
            return DeclaredUnique(f"**{name}", f'`{name}` holds "{keyword}": True; ')
        return None

    def _field(self, node: cst.Call) -> RelationField | None:
        if node not in self.field_names:
            return None
        field_name, class_name = self.field_names[node]
        model = self.context.index.model_for_class(self.context.abspath, class_name)
        if model is None:
            return None
        return next((f for f in model.fields if f.name == field_name), None)

    def _reverse_relations(self, node: cst.Call) -> list[ReverseRelation] | None:
        """The reverse accessors this field installs, or None when the index cannot tell."""
        field = self._field(node)
        if field is None:
            return None
        if field.related_name is not None and field.related_name.endswith("+"):
            return []
        # several for a field declared on an abstract base; a target outside the project
        # still has the accessor its name comes from this model
        view = self.context.index.view(ReverseManagerUses)
        relations = [r for found in view.relations.values() for r in found if r.field is field]
        return relations or None

    def _unsafe_reason(self, relations: list[ReverseRelation] | None) -> str | None:
        if relations is None:
            return "the index cannot resolve this field's model or target, so uses of its reverse accessor are unknown"
        index = self.context.index
        for relation in relations:
            users = index.view(ReverseManagerUses).files_using(relation)
            if users:
                return f"the reverse accessor `{relation.accessor}` is used as a manager in {len(users)} file(s), see OTO004"
            new_accessor = relation.one_to_one_accessor
            if new_accessor == relation.accessor:
                continue
            owner = index.models_by_key.get(relation.owner)
            if owner is not None and (new_accessor in owner.attributes or new_accessor in owner.methods):
                return f"the new accessor `{new_accessor}` would replace an attribute of {owner.name}"
        unreadable = index.unreadable_files
        if unreadable and relations:
            # what cannot be read is not indexed: a use of the old accessor there is unknown
            first = self._shown_path(unreadable[0])
            others = f" and {len(unreadable) - 1} more" if len(unreadable) > 1 else ""
            return (
                f"{len(unreadable)} file(s) of the project could not be read or parsed ({first}{others}), "
                "so uses of the reverse accessor there are unknown"
            )
        unresolved = index.unresolved_template_settings
        if unresolved and relations:
            # a template in a directory TEMPLATES names but the index cannot locate is not read
            first = self._shown_path(unresolved[0])
            others = f" and {len(unresolved) - 1} more" if len(unresolved) > 1 else ""
            return (
                f"the template directories of {first}{others} cannot be read statically, "
                "so uses of the reverse accessor in templates there are unknown"
            )
        return None

    def _unused_import(self, name: str) -> tuple[tuple[str, str, str | None], ...]:
        """The import of *name*'s head, to drop if the fix leaves it unused (a relative one
        too: the fix names the module's package, see :attr:`Fix.package`)."""
        head = name.partition(".")[0]
        imported = self.context.facts["imports"].get(head)
        if imported is None:
            return ()
        module, _, obj = imported.rpartition(".")
        return ((module, obj, head if head != obj else None),) if module else ()

    def _shown_path(self, path: str) -> str:
        """*path* relative to the working directory when it lies below it, else to the
        reported file's directory (a message must not depend on where the run started)."""
        relative = os.path.relpath(path)
        if relative.startswith(os.pardir):
            relative = os.path.relpath(path, os.path.dirname(self.context.abspath))
        return relative

    def _fix(self, node: cst.Call, callee: str, *, safe: bool) -> Fix | None:
        if any(arg.star for arg in node.args):
            return None
        add_imports: tuple[tuple[str, str], ...] = ()
        remove_imports: tuple[tuple[str, str, str | None], ...] = ()
        if isinstance(node.func, cst.Attribute):
            new_func: cst.BaseExpression = node.func.with_changes(attr=cst.Name("OneToOneField"))
        else:
            qualified = self.context.resolve(callee) or ""
            source_module = qualified.rpartition(".")[0]
            if source_module not in DJANGO_FIELD_MODULES:
                return None
            imports = self.context.facts["imports"]
            local = next(
                (name for name, target in imports.items()
                 if target in (f"{m}.OneToOneField" for m in DJANGO_FIELD_MODULES)),
                None,
            )
            if local is None:
                if "OneToOneField" in imports:
                    return None  # the name is taken by something else
                local = "OneToOneField"
                add_imports = ((source_module, "OneToOneField"),)
            new_func = cst.Name(local)
            remove_imports = ((source_module, "ForeignKey", callee if callee != "ForeignKey" else None),)
        args = list(node.args)
        positional = [i for i, arg in enumerate(args) if arg.keyword is None]
        for position, index in enumerate(positional):
            if position < 2:
                continue
            if position - 2 >= len(FOREIGN_KEY_POSITIONALS):
                return None
            args[index] = args[index].with_changes(
                keyword=cst.Name(FOREIGN_KEY_POSITIONALS[position - 2]),
                equal=cst.AssignEqual(
                    whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
                ),
            )
        unique_index = next(
            (i for i, arg in enumerate(args) if arg.keyword is not None and arg.keyword.value == "unique"), None
        )
        if unique_index is not None:
            value = args[unique_index].value
            constant = self._true_constant(value)
            # OneToOneField forces unique=True: a literal goes, and a constant that is True;
            # anything else is left as it is (harmless, and not ours to judge)
            if isinstance(value, cst.Name) and value.value in ("True", "False") or constant is not None:
                args = remove_arg(args, unique_index)
            if constant is not None:
                remove_imports += self._unused_import(constant)
        return Fix(
            description="Use OneToOneField instead of ForeignKey(unique=True)",
            safe=safe,
            replacements={node: node.with_changes(func=new_func, args=args)},
            add_imports=add_imports,
            remove_imports=remove_imports,
            span=self.span_of(node),
            package=self._package(),
        )

    def _package(self) -> str | None:
        """The package of the module being fixed, for its relative imports."""
        module = self.context.module_name
        if self.context.facts.get("is_package"):
            return module or None
        return module.rpartition(".")[0] or None
