"""Resolve per-file facts into the project's models, relation fields and reverse accessors.

This mirrors what Django's app registry computes at start-up, from source alone:
model classes (direct and indirect subclasses of ``django.db.models.Model``, across
modules, through abstract bases and multi-table inheritance), their relation fields
with targets resolved (class, ``"Model"``, ``"app.Model"``, ``"self"``,
``settings.AUTH_USER_MODEL``, swapper's ``get_model_name()``), and the reverse accessors
each relation installs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, TypeVar

from o2o_lint.django_api import DJANGO_FIELD_MODULES, DJANGO_MODELS, FIELD_KINDS, MODEL_BASES, RELATION_KEYWORDS
from o2o_lint.index.facts import Facts

if TYPE_CHECKING:
    from o2o_lint.index.django import DjangoModels

View = TypeVar("View")

#: Resolution chases re-exports; a cycle of re-exports must not hang the run.
MAX_RESOLVE_DEPTH = 20


class RelationKind(str, Enum):
    """What a relation name is on a model; equal to the strings the facts and messages use."""

    FOREIGN_KEY = "fk"
    ONE_TO_ONE = "o2o"
    MANY_TO_MANY = "m2m"
    #: a reverse query name (``Place.objects.filter(restaurant=r)``): lookups only
    REVERSE = "reverse"
    #: the manager a ForeignKey installs on its target (``place.waiter_set``)
    REVERSE_FOREIGN_KEY = "reverse_fk"

    __str__ = str.__str__
    __format__ = str.__format__


class FieldKind(NamedTuple):
    """What a field constructor declares (:meth:`ProjectIndex.field_kind`)."""

    kind: RelationKind  # FOREIGN_KEY, ONE_TO_ONE or MANY_TO_MANY
    django_field: bool  # the real django class, not a subclass (the project's or a configured one)
    #: False for a project subclass whose own code may change what Django makes of its
    #: arguments (it overrides ``__init__``, ``check``...): its keywords say nothing sure
    certain: bool = True


#: Methods of a ForeignKey subclass that may change what its keywords mean (force or drop
#: ``unique``, pass other arguments on), whether Django warns, or its reverse accessor.
_UNSURE_FIELD_METHODS = frozenset({"__init__", "__new__", "check", "_check_unique", "contribute_to_related_class"})

#: :meth:`ProjectIndex.constant`'s answer for a name that is no known constant.
UNKNOWN = object()


@dataclass(frozen=True)
class RelationField:
    """A ForeignKey, OneToOneField or ManyToManyField as declared in a class body."""

    name: str
    kind: RelationKind  # FOREIGN_KEY, ONE_TO_ONE or MANY_TO_MANY
    path: str
    line: int
    col: int
    target: dict[str, str]
    related_name: str | None
    related_query_name: str | None
    unique: bool
    primary_key: bool
    parent_link: bool
    django_field: bool  # the real django class, not a configured subclass

    @property
    def attname(self) -> str:
        return f"{self.name}_id"

    @property
    def is_unique_foreign_key(self) -> bool:
        """A real django ForeignKey with ``unique=True`` (or ``primary_key=True``, which
        implies it): a OneToOneField in disguise, Django's fields.W342."""
        return self.kind == RelationKind.FOREIGN_KEY and self.django_field and (self.unique or self.primary_key)


@dataclass
class ModelInfo:
    qualname: str
    name: str
    app_label: str
    path: str | None
    line: int
    abstract: bool
    proxy: bool
    base_qualnames: list[str]
    fields: list[RelationField] = field(default_factory=list)
    attributes: set[str] = field(default_factory=set)
    methods: set[str] = field(default_factory=set)
    default_related_name: str | None = None
    external: bool = False
    #: class-body fields with a literal ``primary_key=True``: (name, has ``default=``), in order
    primary_keys: list[tuple[str, bool]] = field(default_factory=list)
    #: names ``n`` the class body saves (``self.n.save()``), when the class overrides ``save``
    saved_in_body: frozenset[str] = frozenset()
    #: ``content_object = GenericForeignKey(...)``: (attribute, callee as written), resolved by
    #: :meth:`o2o_lint.index.django.DjangoModels.generic_foreign_keys`
    generic_key_calls: tuple[tuple[str, str], ...] = ()
    #: the model's module defines or builds custom managers: ``objects`` may be replaced
    module_has_custom_managers: bool = False
    #: ``Meta.swappable`` as the facts hold it (a setting's name, swapper's call, None)
    swappable: Any = None

    @property
    def key(self) -> str:
        return f"{self.app_label}.{self.name}"

    @property
    def model_name(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class ReverseRelation:
    """The accessor a relation field installs on its target model."""

    owner: str  # model key of the target ("companies.Company")
    accessor: str
    query_name: str
    related_model: str  # model key of the model declaring the field
    related_model_name: str  # class name, for messages and fixes
    field_name: str
    kind: RelationKind  # FOREIGN_KEY, ONE_TO_ONE or MANY_TO_MANY of the field
    field: RelationField | None  # None for the implicit multi-table parent link
    one_to_one_accessor: str  # the accessor's name were the field a OneToOneField

    @property
    def is_one_to_one(self) -> bool:
        return self.kind == RelationKind.ONE_TO_ONE

    @property
    def attname(self) -> str:
        return f"{self.field_name}_id"


def _interpolate(value: str | None, model: ModelInfo) -> str | None:
    if value is None or "%(" not in value:
        return value
    try:
        return value % {
            "class": model.name.lower(),
            "model_name": model.model_name,
            "app_label": model.app_label.lower(),
        }
    except (KeyError, ValueError, TypeError):
        return value


class ProjectIndex:
    """Everything the rules know about the project's models, built once per run."""

    def __init__(self, facts_by_path: dict[str, Facts], *, foreign_key_classes: Iterable[str] = (),
                 model_base_classes: Iterable[str] = (), unreadable_files: Iterable[str] = (),
                 template_paths: Iterable[str] = ()) -> None:
        self.facts_by_path = facts_by_path
        #: The project's template files (absolute paths, sorted; :mod:`o2o_lint.index.templates`).
        self.template_paths: tuple[str, ...] = tuple(sorted(template_paths))
        self._unreadable_files = tuple(sorted(unreadable_files))
        self.modules: dict[str, Facts] = {}
        self.path_by_module: dict[str, str] = {}
        for path, facts in sorted(facts_by_path.items()):
            self.modules.setdefault(facts["module"], facts)
            self.path_by_module.setdefault(facts["module"], path)
        self.foreign_key_classes = tuple(foreign_key_classes)
        self.model_base_classes = frozenset(model_base_classes)
        self.settings: dict[str, str] = {}
        ambiguous: set[str] = set()
        for facts in facts_by_path.values():
            for name, value in facts.get("settings", {}).items():
                if name != "AUTH_USER_MODEL" and self.settings.get(name, value) != value:
                    ambiguous.add(name)  # two modules disagree (settings variants): unknown
                self.settings[name] = value
        for name in ambiguous:
            del self.settings[name]
        #: settings two modules assign differently: their value is unknown
        self.ambiguous_settings = frozenset(ambiguous)
        self._swapper_prefixes, self._unknown_swapper_prefixes = self._collect_swapper_prefixes()
        self.models: dict[str, ModelInfo] = {}  # qualname -> model
        self.models_by_key: dict[str, ModelInfo] = {}
        self.reverse_relations: list[ReverseRelation] = []
        self.reverse_by_accessor: dict[str, list[ReverseRelation]] = defaultdict(list)
        self.reverse_by_owner: dict[str, list[ReverseRelation]] = defaultdict(list)
        #: While text that differs from disk is analysed: its path and its own facts.
        self.overlaid: tuple[str, Facts] | None = None
        self._overlaid_text: str | None = None
        self._views: dict[Callable[[ProjectIndex], Any], Any] = {}
        #: ForeignKey subclasses defined in the project, by qualified name (see field_kind)
        self.foreign_key_subclasses: dict[str, FieldKind] = {}
        #: Per view, the files whose text was read (:meth:`source_text`) while it was in use.
        self._texts_read: dict[Callable[[ProjectIndex], Any], set[str]] = {}
        #: The views used since the innermost :meth:`reading_texts` scope began.
        self._views_in_use: set[Callable[[ProjectIndex], Any]] = set()
        self._find_models()
        self._collect_reverse_relations()

    @property
    def unreadable_files(self) -> tuple[str, ...]:
        """Files under the project roots that could not be read, decoded or parsed (absolute
        paths, sorted): nothing in them is indexed, so a project-wide "no use anywhere" is
        only as good as this is empty. The overlaid file, being read now, is not one."""
        if self.overlaid is None:
            return self._unreadable_files
        return tuple(path for path in self._unreadable_files if path != self.overlaid[0])

    @property
    def unresolved_template_settings(self) -> tuple[str, ...]:
        """Settings modules whose ``TEMPLATES`` (or its ``DIRS``) could not be read
        statically (absolute paths, sorted): the template directories they name are
        unknown, so the project's templates are only all known when this is empty."""
        return tuple(sorted(path for path, facts in self.facts_by_path.items()
                            if facts.get("template_dirs_resolved") is False))

    def view(self, factory: Callable[[ProjectIndex], View]) -> View:
        """A rule's project-wide view (``factory(index)``), built on first use and kept for
        the life of this index: what a rule derives from every file's facts."""
        found = self._views.get(factory)
        if found is None:
            found = self._views[factory] = factory(self)
        self._views_in_use.add(factory)
        return found

    @contextmanager
    def reading_texts(self) -> Iterator[set[str]]:
        """The files whose text what runs inside may depend on, beyond their facts.

        A view may read other files' text (:meth:`source_text`) and keep what it derives
        for the life of the index, so a read is charged to every view in use at the time,
        and the scope answers (in the set it yields, filled on exit) every file read by the
        views it used, whenever they read it: the findings cache keys a file's findings on
        those files' contents. Charging a read to every view in use over-counts, never
        under-counts."""
        outer, self._views_in_use = self._views_in_use, set()
        read: set[str] = set()
        try:
            yield read
        finally:
            used = self._views_in_use
            for factory in used:
                read.update(self._texts_read.get(factory, ()))
            self._views_in_use = outer | used

    @contextmanager
    def overlay(self, path: str, facts: Facts, text: str | None = None) -> Iterator[None]:
        """Resolve names with *facts* for *path* while analysing text that differs from disk
        (standard input, an editor buffer, a fix pass). Views that cache per-file results
        consult :attr:`overlaid` for the one file whose facts are not the saved ones."""
        module = facts["module"]
        saved = self.facts_by_path.get(path), self.modules.get(module), self.overlaid, self._overlaid_text
        self.facts_by_path[path] = facts
        self.modules[module] = facts
        self.overlaid, self._overlaid_text = (path, facts), text
        try:
            yield
        finally:
            self.overlaid, self._overlaid_text = saved[2], saved[3]
            for table, key, old in ((self.facts_by_path, path, saved[0]), (self.modules, module, saved[1])):
                if old is None:
                    table.pop(key, None)
                else:
                    table[key] = old

    def source_text(self, path: str) -> str | None:
        """The text of an indexed file: the overlaid one while it is analysed, else the
        file on disk (None when it cannot be read or decoded)."""
        if self.overlaid is not None and self.overlaid[0] == path and self._overlaid_text is not None:
            return self._overlaid_text
        for factory in self._views_in_use:
            self._texts_read.setdefault(factory, set()).add(path)
        from o2o_lint.sourcefile import SourceError, read_source

        try:
            return read_source(path)[1].text
        except SourceError:
            return None

    # -- name resolution -------------------------------------------------------------

    def resolve(self, module: str, dotted: str, _depth: int = 0) -> str | None:
        """The qualified name *dotted* refers to inside *module* (import aliases followed)."""
        facts = self.modules.get(module)
        head, _, rest = dotted.partition(".")
        qualified: str | None = None
        if facts is not None:
            imported = facts["imports"].get(head)
            if imported is not None:
                qualified = imported
            elif any(c["name"] == head for c in facts["classes"]):
                qualified = f"{module}.{head}"
            else:
                for star in facts["star_imports"]:
                    if star.startswith("django.") or self._module_defines(star, head):
                        qualified = f"{star}.{head}"
                        break
        if qualified is None:
            return None
        full = f"{qualified}.{rest}" if rest else qualified
        return self.canonical(full, _depth)

    def _module_defines(self, module: str, name: str) -> bool:
        facts = self.modules.get(module)
        return facts is not None and (
            name in facts["imports"] or any(c["name"] == name for c in facts["classes"])
        )

    def canonical(self, qualified: str, _depth: int = 0) -> str:
        """Follow re-exports (``from .base import Place`` in ``models/__init__.py``)."""
        if _depth > MAX_RESOLVE_DEPTH:
            return qualified
        module, _, name = qualified.rpartition(".")
        facts = self.modules.get(module)
        if facts is None or not name:
            return qualified
        if any(c["name"] == name for c in facts["classes"]):
            return qualified
        resolved = self.resolve(module, name, _depth + 1)
        return resolved if resolved and resolved != qualified else qualified

    def constant(self, module: str, dotted: str, _depth: int = 0) -> Any:
        """The literal a module-level constant holds (``ONE_PER_COMPANY`` -> True,
        ``UNIQUE`` -> ``{"unique": True}``), followed through imports and re-exports
        (``consts.UNIQUE``, ``from .consts import UNIQUE``), read from the facts alone;
        :data:`UNKNOWN` when *dotted* is no constant the index knows."""
        facts = self.modules.get(module)
        if facts is None or _depth > MAX_RESOLVE_DEPTH:
            return UNKNOWN
        head, _, rest = dotted.partition(".")
        constants = facts.get("constants", {})
        if not rest and head in constants:
            return constants[head]
        imported = facts["imports"].get(head)
        if imported is None:
            return UNKNOWN
        owner, _, name = (f"{imported}.{rest}" if rest else imported).rpartition(".")
        return self.constant(owner, name, _depth + 1) if owner else UNKNOWN

    def keyword_values(self, module: str, field_facts: Facts) -> dict[str, Any]:
        """A relation field's keywords that are known (``RELATION_KEYWORDS``): literals,
        constants given by name, and the entries of ``**`` dicts that are constants."""
        values = {key: value for key, value in field_facts.items() if key in RELATION_KEYWORDS}
        for key, reference in field_facts.get("references", {}).items():
            value = self.constant(module, reference)
            values[key] = None if value is UNKNOWN or isinstance(value, dict) else value
        for reference in field_facts.get("spreads", ()):
            spread = self.constant(module, reference) if reference else UNKNOWN
            if isinstance(spread, dict):
                for key, value in spread.items():
                    if key in RELATION_KEYWORDS:
                        values.setdefault(key, value)
        return values

    @cached_property
    def foreign_key_subclass_names(self) -> frozenset[str]:
        """The class names of the project's ForeignKey subclasses (a screen's vocabulary)."""
        return frozenset(qualname.rpartition(".")[2] for qualname in self.foreign_key_subclasses)

    def field_kind(self, module: str, callee: str) -> FieldKind | None:
        """What a relation field constructor name declares, else None: Django's field
        classes, the configured ``foreign-key-classes`` (the user's word first), then the
        project's ForeignKey subclasses (``class TenantForeignKey(ForeignKey)``, in any
        module, and theirs)."""
        qualified = self.resolve(module, callee)
        if qualified is not None:
            prefix, _, short = qualified.rpartition(".")
            if short in FIELD_KINDS and prefix in DJANGO_FIELD_MODULES:
                return FieldKind(RelationKind(FIELD_KINDS[short]), True)
        for configured in self.foreign_key_classes:  # the user's word first
            if qualified == configured or (("." not in configured) and callee.rpartition(".")[2] == configured):
                return FieldKind(RelationKind.FOREIGN_KEY, False)
        return self.foreign_key_subclasses.get(qualified) if qualified is not None else None

    # -- models ----------------------------------------------------------------------

    def _find_models(self) -> None:
        classes: dict[str, tuple[str, Facts, Facts]] = {}
        for path, facts in self.facts_by_path.items():
            if facts.get("looks_like_migration"):
                continue
            for class_facts in facts["classes"]:
                classes[f"{facts['module']}.{class_facts['name']}"] = (path, facts, class_facts)
        base_qualnames = {
            qualname: [self.resolve(facts["module"], base) or base for base in class_facts["bases"]]
            for qualname, (_, facts, class_facts) in classes.items()
        }
        self._find_foreign_key_subclasses(classes, base_qualnames)
        known_models = set(MODEL_BASES) | set(DJANGO_MODELS) | set(self.model_base_classes)
        changed = True
        while changed:  # fixed point: models through other models, in any order
            changed = False
            for qualname, bases in base_qualnames.items():
                if qualname not in known_models and any(b in known_models for b in bases):
                    known_models.add(qualname)
                    changed = True
        for qualname, django_info in DJANGO_MODELS.items():
            app_label, abstract = django_info
            name = qualname.rpartition(".")[2]
            self._add_model(ModelInfo(qualname, name, app_label, None, 0, abstract, False, [], external=True))
        for qualname, (path, facts, class_facts) in classes.items():
            if qualname not in known_models or qualname in MODEL_BASES:
                continue  # linting Django itself: its own Model class is the base, not a model
            meta = class_facts["meta"] or {}
            app_label = meta.get("app_label") or app_label_for(facts["module"])
            model = ModelInfo(
                qualname=qualname,
                name=class_facts["name"],
                app_label=app_label if isinstance(app_label, str) else app_label_for(facts["module"]),
                path=path,
                line=class_facts["line"],
                abstract=meta.get("abstract") is True,
                proxy=meta.get("proxy") is True,
                base_qualnames=base_qualnames[qualname],
                attributes=set(class_facts["attributes"]),
                methods=set(class_facts["methods"]),
                default_related_name=meta.get("default_related_name") if isinstance(meta.get("default_related_name"), str) else None,
                primary_keys=[(name, has_default) for name, has_default in class_facts.get("primary_keys", ())],
                saved_in_body=frozenset(class_facts.get("saves", ())),
                generic_key_calls=tuple((name, callee) for name, callee in class_facts.get("generic_keys", ())),
                module_has_custom_managers=bool(facts.get("custom_managers")),
                swappable=meta.get("swappable"),
            )
            for field_facts in class_facts["fields"]:
                kind = self.field_kind(facts["module"], field_facts["callee"])
                if kind is None or not kind.certain:
                    continue
                keywords = self.keyword_values(facts["module"], field_facts)
                related_name = keywords.get("related_name")
                if related_name is None and kind.kind == RelationKind.FOREIGN_KEY:
                    related_name = field_facts.get("related_name_positional")
                model.fields.append(
                    RelationField(
                        name=field_facts["name"],
                        kind=kind.kind,
                        path=path,
                        line=field_facts["line"],
                        col=field_facts["col"],
                        target=self._declared_target(facts, field_facts["target"]),
                        related_name=related_name if isinstance(related_name, str) else None,
                        related_query_name=keywords.get("related_query_name")
                        if isinstance(keywords.get("related_query_name"), str) else None,
                        unique=keywords.get("unique") is True or kind.kind == RelationKind.ONE_TO_ONE,
                        primary_key=keywords.get("primary_key") is True,
                        parent_link=keywords.get("parent_link") is True,
                        django_field=kind.django_field,
                    )
                )
            self._add_model(model)

    def _find_foreign_key_subclasses(self, classes: dict[str, tuple[str, Facts, Facts]],
                                     base_qualnames: dict[str, list[str]]) -> None:
        """Classes of the project deriving from Django's ForeignKey, directly or through each
        other, across modules (a fixed point). One is uncertain when it, or a class it
        derives from, overrides a method that may change what its keywords mean, or derives
        from a class the index cannot see (a mixin from elsewhere may do so)."""
        def is_django_foreign_key(qualname: str) -> bool:
            prefix, _, short = qualname.rpartition(".")
            return short == "ForeignKey" and prefix in DJANGO_FIELD_MODULES

        found = self.foreign_key_subclasses
        changed = True
        while changed:
            changed = False
            for qualname, bases in base_qualnames.items():
                if qualname in found or qualname.rpartition(".")[0] in DJANGO_FIELD_MODULES:
                    continue
                if not any(is_django_foreign_key(b) or b in found for b in bases):
                    continue
                methods = set(classes[qualname][2]["methods"])
                certain = not (methods & _UNSURE_FIELD_METHODS) and all(
                    found[b].certain if b in found else
                    is_django_foreign_key(b) or self._plain_class(b, classes, base_qualnames, set())
                    for b in bases
                )
                found[qualname] = FieldKind(RelationKind.FOREIGN_KEY, False, certain)
                changed = True

    def _plain_class(self, qualname: str, classes: dict[str, tuple[str, Facts, Facts]],
                     base_qualnames: dict[str, list[str]], seen: set[str]) -> bool:
        """A class of the project that overrides none of a field's telling methods, nor do
        its bases (``object`` is plain; a class the index cannot see is not)."""
        if qualname in ("object", "builtins.object"):
            return True
        if qualname in seen or qualname not in classes:
            return False
        seen.add(qualname)
        return not (set(classes[qualname][2]["methods"]) & _UNSURE_FIELD_METHODS) and all(
            self._plain_class(b, classes, base_qualnames, seen) for b in base_qualnames[qualname])

    def _add_model(self, model: ModelInfo) -> None:
        self.models[model.qualname] = model
        self.models_by_key.setdefault(model.key, model)

    def model_parents(self, model: ModelInfo) -> Iterator[ModelInfo]:
        for base in model.base_qualnames:
            parent = self.models.get(base)
            if parent is not None:
                yield parent

    def _inherited_fields(self, model: ModelInfo, seen: set[str] | None = None) -> list[RelationField]:
        """Fields declared on the model and on its abstract ancestors."""
        seen = seen if seen is not None else set()
        if model.qualname in seen:
            return []
        seen.add(model.qualname)
        fields = list(model.fields)
        names = {f.name for f in fields}
        for parent in self.model_parents(model):
            if parent.abstract:
                for inherited in self._inherited_fields(parent, seen):
                    if inherited.name not in names:
                        fields.append(inherited)
                        names.add(inherited.name)
        return fields

    def _default_related_name(self, model: ModelInfo) -> str | None:
        if model.default_related_name:
            return model.default_related_name
        for parent in self.model_parents(model):
            if parent.abstract:
                inherited = self._default_related_name(parent)
                if inherited:
                    return inherited
        return None

    def resolve_target(self, model: ModelInfo, target: dict[str, str]) -> ModelInfo | None:
        kind, value = target["kind"], target["value"]
        if kind == "setting":
            default = target.get("default", "auth.User" if value == "AUTH_USER_MODEL" else None)
            found_value = self.settings.get(value, default)
            if found_value is None:
                return None
            value, kind = found_value, "string"
        if kind == "swapper":
            found_value = self.swapper_label(target.get("module", ""), target["callee"], value)
            if found_value is None:
                return None
            value, kind = found_value, "string"
        if kind == "string":
            if value == "self":
                return model
            if "." in value:
                app_label, _, name = value.rpartition(".")
                found = self.models_by_key.get(f"{app_label}.{name}")
                if found is None:
                    found = next((m for m in self.models.values()
                                  if m.app_label.lower() == app_label.lower() and m.name.lower() == name.lower()), None)
                return found
            found = self.models_by_key.get(f"{model.app_label}.{value}")
            if found is not None:
                return found
            candidates = [m for m in self.models.values() if m.name == value and not m.external]
            return candidates[0] if len(candidates) == 1 else None
        module = model.qualname.rpartition(".")[0]
        qualified = self.resolve(module, value)
        return self.models.get(qualified) if qualified else None

    # -- swapper (django-swappable-models) -------------------------------------------

    def _collect_swapper_prefixes(self) -> tuple[dict[str, str], set[str] | None]:
        """``swapper.set_app_prefix(app_label, prefix)`` across the project: the prefix per
        app label, and the app labels whose prefix is unknown (an argument no literal,
        two calls disagreeing), None when every app's is (an unknown app label)."""
        prefixes: dict[str, str] = {}
        unknown: set[str] | None = set()
        for facts in self.facts_by_path.values():
            for callee, app_label, prefix in facts.get("swapper_prefixes", ()):
                if self.resolve(facts["module"], callee) != "swapper.set_app_prefix":
                    continue
                if app_label is None:
                    unknown = None
                elif unknown is not None and (prefix is None or prefixes.get(app_label, prefix) != prefix):
                    unknown.add(app_label)
                elif prefix is not None:
                    prefixes[app_label] = prefix
        return prefixes, unknown

    def swappable_setting(self, app_label: str, model_name: str) -> str | None:
        """The setting swapper's ``swappable_setting(app_label, model_name)`` names
        (``<PREFIX>_<MODEL>_MODEL``, the prefix ``set_app_prefix`` gives the app, else its
        label), None when the prefix is unknown."""
        unknown = self._unknown_swapper_prefixes
        if unknown is None or app_label in unknown:
            return None
        prefix = self._swapper_prefixes.get(app_label, app_label)
        return f"{prefix.upper()}_{model_name.upper()}_MODEL"

    def swapped_label(self, app_label: str, model_name: str) -> str | None:
        """The label swapper's ``get_model_name(app_label, model_name)`` answers: the
        value of its setting when one settings module assigns it, else
        ``"app_label.model_name"``; None when the setting's name or value is unknown."""
        setting = self.swappable_setting(app_label, model_name)
        if setting is None or setting in self.ambiguous_settings:
            return None
        return self.settings.get(setting, f"{app_label}.{model_name}")

    def swapper_label(self, module: str, callee: str, default_label: str,
                      function: str = "swapper.get_model_name") -> str | None:
        """What ``callee("app_label", "Model")`` written in *module* names, when *callee*
        is swapper's *function* (through the module's imports); None otherwise."""
        if self.resolve(module, callee) != function:
            return None
        app_label, _, model_name = default_label.rpartition(".")
        return self.swapped_label(app_label, model_name)

    def model_for_label(self, label: str) -> ModelInfo | None:
        """The model an ``"app_label.Model"`` label names (as Django's registry looks it up:
        the model name case-insensitively)."""
        app_label, _, name = label.rpartition(".")
        found = self.models_by_key.get(f"{app_label}.{name}")
        if found is None:
            found = next((m for m in self.models.values()
                          if m.app_label.lower() == app_label.lower() and m.name.lower() == name.lower()), None)
        return found

    def swapped_out(self, model: ModelInfo) -> bool:
        """*model* declares ``Meta.swappable`` and its setting names another model: Django
        does not install it (no reverse accessors from its fields, nor a parent link).
        An unknown setting counts as not swapped, as when it is not assigned."""
        swappable = model.swappable
        if isinstance(swappable, list):
            module = model.qualname.rpartition(".")[0]
            callee, app_label, model_name = swappable
            if self.resolve(module, callee) != "swapper.swappable_setting":
                return False
            swappable = self.swappable_setting(app_label, model_name)
        if not isinstance(swappable, str) or swappable in self.ambiguous_settings:
            return False
        value = self.settings.get(swappable)
        return value is not None and value.lower() != f"{model.app_label}.{model.name}".lower()

    def _declared_target(self, facts: Facts, target: dict[str, str]) -> dict[str, str]:
        """A field's target with what resolving it needs from the declaring module: for
        swapper's ``get_model_name()`` (also through a module-level name bound to it) that
        module, whose imports say whether the callee is swapper's."""
        if target["kind"] == "name":
            call = facts.get("swapper_names", {}).get(target["value"])
            if call is None:
                return target
            target = {"kind": "swapper", "value": f"{call[1]}.{call[2]}", "callee": call[0]}
        if target["kind"] == "swapper":
            return {**target, "module": facts["module"]}
        return target

    def _collect_reverse_relations(self) -> None:
        for model in list(self.models.values()):
            if model.abstract or model.external or self.swapped_out(model):
                continue
            explicit_parent_links: set[str] = set()
            for relation in self._inherited_fields(model):
                target = self.resolve_target(model, relation.target)
                if target is None:
                    continue
                if relation.parent_link:
                    explicit_parent_links.add(target.qualname)
                if relation.kind == RelationKind.MANY_TO_MANY and target is model and relation.related_name is None:
                    continue  # symmetrical: no reverse accessor
                names = self.reverse_names(model, relation)
                if names is None:
                    continue
                accessor, one_to_one_accessor = names
                related_name = _interpolate(relation.related_name, model)
                default_name = _interpolate(self._default_related_name(model), model)
                query_name = (
                    _interpolate(relation.related_query_name, model)
                    or related_name or default_name or model.model_name
                )
                self._add_reverse(ReverseRelation(
                    owner=target.key, accessor=accessor, query_name=query_name,
                    related_model=model.key, related_model_name=model.name,
                    field_name=relation.name, kind=relation.kind, field=relation,
                    one_to_one_accessor=one_to_one_accessor,
                ))
            if model.proxy:
                continue
            for parent in self.model_parents(model):
                if parent.abstract or parent.qualname in explicit_parent_links:
                    continue
                self._add_reverse(ReverseRelation(
                    owner=parent.key, accessor=model.model_name, query_name=model.model_name,
                    related_model=model.key, related_model_name=model.name,
                    field_name=f"{parent.model_name}_ptr", kind=RelationKind.ONE_TO_ONE, field=None,
                    one_to_one_accessor=model.model_name,
                ))

    def reverse_names(self, model: ModelInfo, relation: RelationField) -> tuple[str, str] | None:
        """The reverse accessor *relation* (declared on or inherited by *model*) installs on
        its target, and the one it would install as a OneToOneField; None for ``"...+"``.
        Both depend only on the declaring model, whatever the target."""
        related_name = _interpolate(relation.related_name, model)
        default_name = _interpolate(self._default_related_name(model), model)
        if related_name is not None and related_name.endswith("+"):
            return None
        one_to_one_accessor = related_name or default_name or model.model_name
        if relation.kind == RelationKind.ONE_TO_ONE or related_name or default_name:
            return one_to_one_accessor, one_to_one_accessor
        return f"{model.model_name}_set", one_to_one_accessor

    def _add_reverse(self, relation: ReverseRelation) -> None:
        self.reverse_relations.append(relation)
        self.reverse_by_accessor[relation.accessor].append(relation)
        self.reverse_by_owner[relation.owner].append(relation)

    # -- queries the rules use -----------------------------------------------------------

    @cached_property
    def django(self) -> DjangoModels:
        """Django's view of the models: relations, lookups, managers, primary keys."""
        from o2o_lint.index.django import DjangoModels  # it builds on this module

        return DjangoModels(self)

    def model_for_class(self, path: str, class_name: str) -> ModelInfo | None:
        facts = self.facts_by_path.get(path)
        if facts is None:
            return None
        return self.models.get(f"{facts['module']}.{class_name}")


def app_label_for(module: str) -> str:
    """Django's default app label: the package holding the ``models`` module."""
    parts = module.split(".")
    if "models" in parts[1:]:
        return parts[parts.index("models", 1) - 1]
    if len(parts) > 1:
        return parts[-2]
    return parts[0]
