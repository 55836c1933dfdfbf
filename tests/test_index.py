"""The project-wide model index, built from source alone."""

from __future__ import annotations

import textwrap
from pathlib import Path

from o2o_lint.config import Settings
from o2o_lint.index.build import build_index
from tests.helpers import write_project


def index_of(tmp_path: Path, files: dict[str, str], **settings: object):
    write_project(tmp_path, files)
    return build_index([str(tmp_path)], Settings(use_cache=False).with_overrides(**settings))


def reverse(index) -> set[tuple[str, str, str, str]]:
    return {(r.owner, r.accessor, r.related_model, r.kind) for r in index.reverse_relations}


def test_models_across_modules_and_abstract_bases(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "core/base.py": """
            from django.db import models

            class TimeStamped(models.Model):
                class Meta:
                    abstract = True
        """,
        "core/models.py": "from core.base import TimeStamped as Base\n\nclass Place(Base):\n    pass\n",
        "shop/models.py": """
            from core.models import Place

            class Restaurant(Place):
                pass

            class NotAModel:
                pass
        """,
    })
    keys = {m.key for m in index.models.values() if not m.external}
    assert keys == {"core.TimeStamped", "core.Place", "shop.Restaurant"}
    assert index.models_by_key["core.TimeStamped"].abstract
    # Multi-table inheritance installs place.restaurant, a one-to-one accessor.
    assert ("core.Place", "restaurant", "shop.Restaurant", "o2o") in reverse(index)


def test_same_class_name_in_two_apps_stays_apart(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "a/models.py": "from django.db import models\n\nclass Place(models.Model):\n    pass\n",
        "b/models.py": """
            from django.db import models

            class Place(models.Model):
                pass

            class Review(models.Model):
                place = models.OneToOneField("Place", models.CASCADE)
                other = models.ForeignKey("a.Place", models.CASCADE)
        """,
    })
    assert {"a.Place", "b.Place"} <= set(index.models_by_key)
    relations = reverse(index)
    assert ("b.Place", "review", "b.Review", "o2o") in relations
    assert ("a.Place", "review_set", "b.Review", "fk") in relations


def test_field_import_styles(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "app/models.py": """
            import django.db.models
            from django.db import models
            from django.db.models import ForeignKey as FK, OneToOneField

            class Target(models.Model):
                pass

            class A(models.Model):
                one = FK(Target, models.CASCADE, related_name="a_one")
                two = OneToOneField(Target, models.CASCADE, related_name="a_two")
                three = django.db.models.ManyToManyField(Target, related_name="a_three")
                four = models.ForeignKey("self", models.CASCADE, null=True)
        """,
    })
    relations = reverse(index)
    assert ("app.Target", "a_one", "app.A", "fk") in relations
    assert ("app.Target", "a_two", "app.A", "o2o") in relations
    assert ("app.Target", "a_three", "app.A", "m2m") in relations
    assert ("app.A", "a_set", "app.A", "fk") in relations


def test_related_name_placeholders_hidden_and_query_names(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "app/models.py": """
            from django.db import models

            class Owner(models.Model):
                pass

            class Base(models.Model):
                owner = models.OneToOneField(Owner, models.CASCADE, related_name="%(app_label)s_%(class)s")
                hidden = models.ForeignKey(Owner, models.CASCADE, related_name="hs+")

                class Meta:
                    abstract = True

            class Profile(Base):
                pass

            class Card(Base):
                pass

            class Badge(models.Model):
                owner = models.OneToOneField(Owner, models.CASCADE, related_name="acc", related_query_name="q")
        """,
    })
    accessors = {r.accessor: r for r in index.reverse_relations if r.owner == "app.Owner"}
    assert set(accessors) == {"app_profile", "app_card", "acc"}
    assert accessors["acc"].query_name == "q"
    assert accessors["app_profile"].query_name == "app_profile"


def test_auth_user_model_setting_and_string_targets(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "proj/settings.py": 'AUTH_USER_MODEL = "accounts.User"\n',
        "accounts/models.py": """
            from django.contrib.auth.models import AbstractUser

            class User(AbstractUser):
                pass
        """,
        "profiles/models.py": """
            from django.conf import settings
            from django.db import models

            class Profile(models.Model):
                user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE)
        """,
    })
    assert ("accounts.User", "profile", "profiles.Profile", "o2o") in reverse(index)


def test_default_user_model_when_not_configured(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "profiles/models.py": """
            from django.conf import settings
            from django.db import models

            class Profile(models.Model):
                user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
        """,
    })
    assert ("auth.User", "profile", "profiles.Profile", "o2o") in reverse(index)


def test_explicit_parent_link_replaces_the_implicit_one(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "app/models.py": """
            from django.db import models

            class Place(models.Model):
                pass

            class Restaurant(Place):
                place = models.OneToOneField(Place, models.CASCADE, parent_link=True, related_name="dining")
        """,
    })
    accessors = {r.accessor for r in index.reverse_relations if r.owner == "app.Place"}
    assert accessors == {"dining"}


def test_reexports_through_package_init(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "app/models/__init__.py": "from .place import Place\nfrom .restaurant import *\n",
        "app/models/place.py": "from django.db import models\n\nclass Place(models.Model):\n    pass\n",
        "app/models/restaurant.py": """
            from django.db import models
            from app.models import Place

            class Restaurant(models.Model):
                place = models.OneToOneField(Place, models.CASCADE)
        """,
    })
    assert ("app.Place", "restaurant", "app.Restaurant", "o2o") in reverse(index)


def test_configured_foreign_key_subclass_and_model_base(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "app/models.py": """
            from django.db import models
            from app.fields import FlexibleForeignKey
            from app.base import Model

            class Team(Model):
                pass

            class Member(Model):
                team = FlexibleForeignKey(Team, unique=True)
        """,
        "app/fields.py": "class FlexibleForeignKey:\n    pass\n",
        "app/base.py": "class Model:\n    pass\n",
    }, foreign_key_classes=("app.fields.FlexibleForeignKey",), model_base_classes=("app.base.Model",))
    assert ("app.Team", "member_set", "app.Member", "fk") in reverse(index)


def test_migrations_and_broken_files_are_skipped(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "app/models.py": "from django.db import models\n\nclass Place(models.Model):\n    pass\n",
        "app/broken.py": "class (:\n",
        "app/migrations/0001_initial.py": "from django.db import migrations\n\nclass Migration(migrations.Migration):\n    pass\n",
    })
    assert {m.key for m in index.models.values() if not m.external} == {"app.Place"}


def test_index_never_imports_project_code(tmp_path: Path) -> None:
    marker = tmp_path / "imported.marker"
    index_of(tmp_path, {
        "app/models.py": f"open({str(marker)!r}, 'w').write('x')\nfrom django.db import models\n\nclass A(models.Model):\n    pass\n",
        "app/__init__.py": f"open({str(marker)!r}, 'w').write('x')\n",
    })
    assert not marker.exists()


def test_cache_reuses_facts_and_sees_changes(tmp_path: Path) -> None:
    files = {"app/models.py": "from django.db import models\n\nclass A(models.Model):\n    pass\n"}
    write_project(tmp_path, files)
    settings = Settings(cache_dir=str(tmp_path / "cache"))
    first = build_index([str(tmp_path)], settings)
    assert list((tmp_path / "cache").iterdir())
    second = build_index([str(tmp_path)], settings)
    assert first.facts_by_path == second.facts_by_path
    (tmp_path / "app/models.py").write_text("from django.db import models\n\nclass B(models.Model):\n    pass\n")
    third = build_index([str(tmp_path)], settings)
    assert {m.key for m in third.models.values() if not m.external} == {"app.B"}


def test_module_constants_are_read_from_source_and_followed_through_imports(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "shop/constants/__init__.py": "from .flags import ONE, UNIQUE\n",
        "shop/constants/flags.py": 'ONE = True\nUNIQUE = {"unique": True, "related_name": "address"}\nTWICE = True\nTWICE = True\n',
        "shop/other.py": 'MUTATED = {"unique": True}\n\ndef f():\n    MUTATED.update(unique=False)\n'
                         "FLAG = True\n\ndef g():\n    global FLAG\n    FLAG = False\n",
        "shop/models.py": """
            from django.db import models
            from shop import constants
            from shop.constants import UNIQUE

            class Company(models.Model):
                pass

            class Address(models.Model):
                company = models.ForeignKey(Company, models.CASCADE, **UNIQUE)
                owner = models.ForeignKey(Company, models.CASCADE, unique=constants.ONE, related_name="+")
        """,
    })
    from o2o_lint.index.model import UNKNOWN

    assert index.constant("shop.models", "constants.ONE") is True
    assert index.constant("shop.models", "UNIQUE") == {"unique": True, "related_name": "address"}
    assert index.constant("shop.constants.flags", "TWICE") is UNKNOWN  # bound twice
    assert index.constant("shop.other", "MUTATED") is UNKNOWN  # changed after it is built
    assert index.constant("shop.other", "FLAG") is UNKNOWN  # rebound through `global`
    assert index.constant("shop.models", "models.CASCADE") is UNKNOWN  # outside the project
    address = index.models["shop.models.Address"]
    company, owner = address.fields
    assert company.unique and company.related_name == "address"  # the dict's entries count
    assert owner.unique and owner.is_unique_foreign_key
    assert ("shop.Company", "address", "shop.Address", "fk") in reverse(index)


def test_foreign_key_subclasses_are_found_across_modules(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "core/fields.py": """
            from django.db.models import ForeignKey as FK

            class TenantForeignKey(FK):
                pass

            class Mixin:
                def __init__(self, *args, **kwargs):
                    super().__init__(*args, **kwargs)

            class Mixed(Mixin, FK):
                pass

            class Forcing(FK):
                def __init__(self, *args, **kwargs):
                    kwargs["unique"] = False
                    super().__init__(*args, **kwargs)
        """,
        "shop/fields.py": "from core import fields\nfrom thirdparty import Base\n\n"
                          "class Audited(fields.TenantForeignKey):\n    pass\n\n"
                          "class Opaque(Base, fields.TenantForeignKey):\n    pass\n\n"
                          "class BelowForcing(fields.Forcing):\n    pass\n",
        "shop/models.py": """
            from django.db import models
            from shop.fields import Audited, BelowForcing

            class Company(models.Model):
                pass

            class Address(models.Model):
                company = Audited(Company, models.CASCADE, unique=True)
                other = BelowForcing(Company, models.CASCADE, unique=True)
        """,
    })
    found = {name: kind.certain for name, kind in index.foreign_key_subclasses.items()}
    assert found == {
        "core.fields.TenantForeignKey": True,
        "core.fields.Mixed": False,  # a mixin's __init__ comes first
        "core.fields.Forcing": False,
        "shop.fields.Audited": True,
        "shop.fields.Opaque": False,  # a base the index cannot see
        "shop.fields.BelowForcing": False,
    }
    kind = index.field_kind("shop.models", "Audited")
    assert kind is not None and kind.kind == "fk" and not kind.django_field and kind.certain
    [company] = index.models["shop.models.Address"].fields  # the unsure field is not indexed
    assert company.name == "company" and company.unique and not company.is_unique_foreign_key
    assert ("shop.Company", "address_set", "shop.Address", "fk") in reverse(index)


def test_a_configured_foreign_key_class_is_taken_at_the_users_word(tmp_path: Path) -> None:
    files = {
        "core/fields.py": "from django.db import models\n\nclass Forcing(models.ForeignKey):\n"
                          "    def __init__(self, *args, **kwargs):\n        super().__init__(*args, **kwargs)\n",
        "shop/models.py": "from django.db import models\nfrom core.fields import Forcing\n\n"
                          "class Address(models.Model):\n    company = Forcing('Company', models.CASCADE, unique=True)\n",
    }
    assert not index_of(tmp_path / "a", files).field_kind("shop.models", "Forcing").certain
    configured = index_of(tmp_path / "b", files, foreign_key_classes=("core.fields.Forcing",))
    assert configured.field_kind("shop.models", "Forcing").certain
    assert [f.name for f in configured.models["shop.models.Address"].fields] == ["company"]


# -- swapper (django-swappable-models): targets named by get_model_name() ------------------

_SWAPPER_CORE = """
    import swapper
    from django.db import models

    class Member(models.Model):
        class Meta:
            swappable = swapper.swappable_setting("core", "Member")

    class Card(models.Model):
        member = models.OneToOneField(swapper.get_model_name("core", "Member"), models.CASCADE, related_name="card")
        holder = models.ForeignKey(swapper.get_model_name(app_label="core", model="Member"), models.CASCADE)
"""
_SWAPPER_ALT = """
    from django.db import models

    class Member(models.Model):
        pass
"""


def test_swapper_target_defaults_to_the_model_it_names(tmp_path: Path) -> None:
    index = index_of(tmp_path, {"core/models.py": _SWAPPER_CORE, "alt/models.py": _SWAPPER_ALT})
    assert ("core.Member", "card", "core.Card", "o2o") in reverse(index)
    assert ("core.Member", "card_set", "core.Card", "fk") in reverse(index)
    assert index.swappable_setting("core", "Member") == "CORE_MEMBER_MODEL"


def test_swapper_target_follows_the_setting_and_the_swapped_model_installs_nothing(tmp_path: Path) -> None:
    """Django (4.2, 5.2, 6.1): the accessor is on the model the setting names; the swapped
    model gets no reverse accessor from the fields of others, nor installs its own."""
    index = index_of(tmp_path, {
        "core/models.py": _SWAPPER_CORE + """
    class Tag(models.Model):
        member = models.OneToOneField(Member, models.CASCADE, related_name="tag")
""",
        "alt/models.py": _SWAPPER_ALT,
        "proj/settings.py": 'CORE_MEMBER_MODEL = "alt.Member"\n',
    })
    found = reverse(index)
    assert ("alt.Member", "card", "core.Card", "o2o") in found
    assert not any(owner == "core.Member" and accessor == "card" for owner, accessor, _, _ in found)
    member = index.models["core.models.Member"]
    assert index.swapped_out(member) and not index.swapped_out(index.models["alt.models.Member"])


def test_swapper_app_prefix_names_the_setting(tmp_path: Path) -> None:
    """``set_app_prefix("core", "shop")``: the setting is SHOP_MEMBER_MODEL, CORE_MEMBER_MODEL means nothing."""
    index = index_of(tmp_path, {
        "core/models.py": 'import swapper\n\nswapper.set_app_prefix("core", "shop")\n' + textwrap.dedent(_SWAPPER_CORE),
        "alt/models.py": _SWAPPER_ALT,
        "proj/settings.py": 'CORE_MEMBER_MODEL = "alt.Member"\n',
    })
    assert index.swappable_setting("core", "Member") == "SHOP_MEMBER_MODEL"
    assert ("core.Member", "card", "core.Card", "o2o") in reverse(index)
    (tmp_path / "proj/settings.py").write_text('SHOP_MEMBER_MODEL = "alt.Member"\n')
    index = build_index([str(tmp_path)], Settings(use_cache=False))
    assert ("alt.Member", "card", "core.Card", "o2o") in reverse(index)


def test_swapper_targets_not_resolved_when_unknown(tmp_path: Path) -> None:
    """An unknown prefix, settings modules that disagree, non-literal arguments, a
    ``get_model_name`` that is not swapper's: not resolved (no accessor at all)."""
    cases = {
        "prefix": ({"core/apps.py": "import swapper\n\nswapper.set_app_prefix('core', PREFIX)\n"}, _SWAPPER_CORE),
        "any-prefix": ({"core/apps.py": "import swapper\n\nswapper.set_app_prefix(LABEL, 'x')\n"}, _SWAPPER_CORE),
        "settings-disagree": ({"proj/settings.py": 'CORE_MEMBER_MODEL = "alt.Member"\n',
                               "proj/settings_dev.py": 'CORE_MEMBER_MODEL = "core.Member"\n'}, _SWAPPER_CORE),
        "not-swapper": ({}, _SWAPPER_CORE.replace("import swapper", "from core import swapper")),
        "not-literal": ({}, _SWAPPER_CORE.replace('get_model_name("core", "Member")', 'get_model_name("core", NAME)')),
    }
    for name, (extra, models) in cases.items():
        index = index_of(tmp_path / name, {"core/models.py": models, "alt/models.py": _SWAPPER_ALT, **extra})
        assert not any(accessor == "card" for _, accessor, _, _ in reverse(index)), name


def test_swapper_target_through_a_module_level_name_and_an_import_alias(tmp_path: Path) -> None:
    index = index_of(tmp_path, {
        "core/models.py": """
            from django.db import models
            from swapper import get_model_name as swapper_get_model_name

            MEMBER_MODEL = swapper_get_model_name("core", "Member")

            class Member(models.Model):
                pass

            class Card(models.Model):
                member = models.OneToOneField(MEMBER_MODEL, models.CASCADE, related_name="card")
        """,
    })
    assert ("core.Member", "card", "core.Card", "o2o") in reverse(index)


def test_swapper_target_declared_on_an_abstract_base_in_another_module(tmp_path: Path) -> None:
    """The callee is resolved in the module that declares the field (openwisp's layout)."""
    index = index_of(tmp_path, {
        "core/base.py": """
            import swapper
            from django.db import models

            class AbstractCard(models.Model):
                member = models.OneToOneField(swapper.get_model_name("core", "Member"), models.CASCADE)

                class Meta:
                    abstract = True
        """,
        "core/models.py": """
            from django.db import models
            from core.base import AbstractCard

            class Member(models.Model):
                pass

            class Card(AbstractCard):
                pass
        """,
    })
    assert ("core.Member", "card", "core.Card", "o2o") in reverse(index)
