"""Django's API vocabulary, in one place: the names the index and the rules recognise.

Only the standard library may be imported here (no LibCST): the ``ast`` facts pass that
runs in pool workers imports this module. Each set says what Django does with the names;
rule-specific heuristics (logger names, test helpers) stay in their rule.
"""

from __future__ import annotations

from collections.abc import Iterable

# -- models and fields ---------------------------------------------------------------

#: ``django.db.models.Model`` under the names it is imported by: every model's root base.
MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})

#: Models that ship with Django: qualified name -> (app label, abstract).
DJANGO_MODELS = {
    "django.contrib.auth.models.AbstractUser": ("auth", True),
    "django.contrib.auth.models.AbstractBaseUser": ("auth", True),
    "django.contrib.auth.base_user.AbstractBaseUser": ("auth", True),
    "django.contrib.auth.models.PermissionsMixin": ("auth", True),
    "django.contrib.auth.models.User": ("auth", False),
    "django.contrib.auth.models.Group": ("auth", False),
    "django.contrib.auth.models.Permission": ("auth", False),
    "django.contrib.contenttypes.models.ContentType": ("contenttypes", False),
    "django.contrib.sites.models.Site": ("sites", False),
    "django.contrib.flatpages.models.FlatPage": ("flatpages", False),
    "django.contrib.sessions.models.Session": ("sessions", False),
    "django.contrib.sessions.base_session.AbstractBaseSession": ("sessions", True),
}

#: Class attributes every model class has besides its fields and managers.
MODEL_CLASS_ATTRIBUTES = frozenset({"DoesNotExist", "MultipleObjectsReturned", "_meta"})

#: Django's relation field classes -> the kind of relation they declare.
FIELD_KINDS = {
    "ForeignKey": "fk",
    "OneToOneField": "o2o",
    "ManyToManyField": "m2m",
}
#: The modules Django's relation field classes are imported from.
DJANGO_FIELD_MODULES = ("django.db.models", "django.db.models.fields.related")

#: Relation field keyword arguments that shape the reverse side (or make a ForeignKey unique).
RELATION_KEYWORDS = ("related_name", "related_query_name", "unique", "primary_key", "parent_link")
#: ``ForeignKey.__init__``'s positional parameters after ``to`` and ``on_delete``, in order.
FOREIGN_KEY_POSITIONALS = (
    "related_name",
    "related_query_name",
    "limit_choices_to",
    "parent_link",
    "to_field",
    "db_constraint",
)

# -- async twins ---------------------------------------------------------------------

#: Django's async methods (``aget``, ``asave``, ``aadd``...) -> the sync method they wrap,
#: on models, querysets/managers and related managers. The only list of async names.
ASYNC_TWINS = {
    f"a{name}": name for name in (
        "save", "delete", "refresh_from_db", "create", "get_or_create", "update_or_create",
        "bulk_create", "bulk_update", "get", "update", "add", "set", "remove", "clear", "count",
        "exists", "first", "last", "aggregate", "in_bulk", "iterator", "latest", "earliest",
        "contains", "explain",
    )
}


def with_async(names: Iterable[str]) -> frozenset[str]:
    """*names* and their async twins: ``{"get"}`` -> ``{"get", "aget"}``."""
    names = frozenset(names)
    return names | {twin for twin, name in ASYNC_TWINS.items() if name in names}


# -- instance and manager writes -------------------------------------------------------

SAVES = with_async({"save"})
DELETES = with_async({"delete"})  # Model.delete() and QuerySet.delete()
UPDATES = with_async({"update"})  # QuerySet.update()
REFRESHES = with_async({"refresh_from_db"})
#: Manager/queryset methods that insert a row and return the object (``create``) ...
RETURNS_OBJECT = with_async({"create"})
#: ... or an ``(obj, created)`` pair.
RETURNS_PAIR = with_async({"get_or_create", "update_or_create"})
#: Keyword arguments of ``get_or_create``/``update_or_create`` that are not lookups.
NOT_LOOKUP_KEYS = frozenset({"defaults", "create_defaults"})

# -- queryset methods (sync names; add async twins with :func:`with_async`) --------------

#: QuerySet methods that take field lookups as keyword arguments (and, given an unsaved
#: instance, raise "Model instances passed to related filters must be saved").
LOOKUP_METHODS = frozenset({"filter", "exclude", "get"})
#: The lookup methods whose rows are the ones matching the lookups (``exclude`` keeps the others).
SELECTING_LOOKUP_METHODS = LOOKUP_METHODS - {"exclude"}
#: QuerySet methods that return one instance of the queryset's model.
RETURNS_INSTANCE = frozenset({"get", "first", "last", "latest", "earliest"})
#: QuerySet methods that return a queryset of the same rows (narrowed by filter/exclude),
#: on which ``update()``/``delete()`` still write those rows.
SAME_ROWS_METHODS = frozenset({
    "all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "only", "defer",
    "using", "select_for_update", "distinct",
})
#: QuerySet methods that return another queryset of the same model.
QUERYSET_METHODS = SAME_ROWS_METHODS | frozenset({
    "annotate", "alias", "none", "reverse", "extra", "complex_filter", "union", "intersection",
    "difference", "values", "values_list", "dates", "datetimes", "get_queryset", "fetch_mode",
})
#: QuerySet methods that run the query and return something other than a queryset.
EVALUATING_METHODS = frozenset({
    "count", "exists", "first", "last", "aggregate", "in_bulk", "iterator", "latest", "earliest",
    "explain", "contains", "get",
})
#: Related-manager methods that write rows; used on an unsaved instance they raise ValueError.
MANAGER_WRITES = frozenset({
    "add", "set", "remove", "clear", "create", "get_or_create", "update_or_create", "bulk_create",
    "update", "delete",
})
#: Related-manager methods that read rows; the same ValueError on an unsaved instance.
MANAGER_READS = frozenset({
    "all", "filter", "exclude", "get", "count", "exists", "first", "last", "aggregate", "annotate",
    "order_by", "values", "values_list", "iterator", "in_bulk", "latest", "earliest", "distinct",
    "select_related", "prefetch_related", "only", "defer", "none", "using",
})
#: Manager and queryset methods that return no queryset: they evaluate the query or write.
TERMINAL_METHODS = EVALUATING_METHODS | MANAGER_WRITES | {"bulk_update"}
#: ``x.<name>.<method>`` with one of these (sync or async) reads ``<name>`` as a related manager.
MANAGER_METHODS = with_async(MANAGER_WRITES | MANAGER_READS)
#: Calls whose string arguments name relations (``prefetch_related("invoice_set")``).
PREFETCH_CALLS = frozenset({"prefetch_related", "Prefetch", "prefetch_related_objects"})

#: Model methods that never save the instance (the rest might: ``page.save_revision()``),
#: ``AbstractBaseUser``'s and ``PermissionsMixin``'s included.
NON_SAVING_METHODS = frozenset({
    "full_clean", "clean", "clean_fields", "validate_unique", "validate_constraints",
    "get_absolute_url", "serializable_value", "get_deferred_fields", "prepare_database_save",
    "get_constraints", "unique_error_message", "date_error_message", "check", "delete",
    "__str__", "__repr__", "__eq__", "__hash__", "set_password", "set_unusable_password",
    "check_password", "has_usable_password", "get_username", "natural_key", "get_full_name",
    "get_short_name", "has_perm", "has_perms", "has_module_perms", "get_all_permissions",
})
#: ``GenericForeignKey`` (contenttypes), under the names it is importable by.
GENERIC_FOREIGN_KEYS = frozenset({
    "django.contrib.contenttypes.fields.GenericForeignKey",
    "django.contrib.contenttypes.generic.GenericForeignKey",
})
#: ModelForm bases: ``Meta.model`` names the model whose instance the form builds.
MODEL_FORM_BASES = frozenset({
    "django.forms.ModelForm", "django.forms.models.ModelForm",
    "django.forms.BaseModelForm", "django.forms.models.BaseModelForm",
})
#: factory_boy's Django factory classes: ``Meta.model`` names the model they build (``XFactory.build()``
#: unsaved, ``create()`` saved).
FACTORY_BASES = frozenset({"factory.django.DjangoModelFactory", "factory.DjangoModelFactory"})
#: ModelForm methods that never save the form's instance (Django's own; a project override may).
MODEL_FORM_NON_SAVING = frozenset({
    "is_valid", "has_changed", "full_clean", "clean", "add_error", "has_error", "non_field_errors",
    "validate_unique", "save_m2m", "is_multipart", "hidden_fields", "visible_fields", "as_p",
    "as_table", "as_ul", "as_div", "render", "get_context", "changed_data", "errors",
})
#: Query expressions: they turn their arguments into SQL and never save them.
QUERY_EXPRESSIONS = frozenset({"Q", "F", "Value", "Exists", "OuterRef", "Subquery", "Count", "Sum"})

# -- exceptions ------------------------------------------------------------------------

#: Handlers that catch a reverse one-to-one accessor's ``RelatedObjectDoesNotExist`` (a
#: ``Model.DoesNotExist``, hence an ``ObjectDoesNotExist``, and an ``AttributeError``).
#: Broader handlers (``Exception``, a bare ``except``) are not taken as a read of the
#: accessor; ``FieldDoesNotExist`` is unrelated.
CATCHES_DOES_NOT_EXIST = frozenset({"DoesNotExist", "ObjectDoesNotExist", "RelatedObjectDoesNotExist", "AttributeError"})
#: Handlers that catch the ``ValueError`` Django raises for an unsaved related instance.
CATCHES_VALUE_ERROR = frozenset({"ValueError", "Exception", "BaseException"})
