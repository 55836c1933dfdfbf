"""What Django makes of the indexed models, per model: relations, lookups, managers, keys.

:mod:`o2o_lint.index.model` finds the models and the fields declared on them; this
module answers the questions Django's model metaclass and ``Options`` answer at
start-up, from the index alone (nothing is read from disk here): the forward relations
an instance has (inherited fields and multi-table parent links included), the names a
``filter()`` accepts, the related managers, the reverse one-to-one accessors, the
primary key, the default manager. One :class:`DjangoModels` per index
(:attr:`o2o_lint.index.model.ProjectIndex.django`), computed lazily and cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from o2o_lint.django_api import GENERIC_FOREIGN_KEYS, MODEL_BASES
from o2o_lint.index.model import RelationKind

if TYPE_CHECKING:
    from o2o_lint.index.model import ModelInfo, ProjectIndex


SINGLE_VALUED = (RelationKind.FOREIGN_KEY, RelationKind.ONE_TO_ONE)


@dataclass(frozen=True)
class Relation:
    name: str  # field or query name on the model
    kind: RelationKind  # FOREIGN_KEY, ONE_TO_ONE, MANY_TO_MANY, or REVERSE (lookups only)
    model: ModelInfo  # the model the name belongs to
    target: ModelInfo | None


class ManagerName(NamedTuple):
    """The default manager's attribute name (:meth:`DjangoModels.manager_name`)."""

    name: str
    certain: bool  # False: a custom manager may replace it


@dataclass(frozen=True)
class Manager:
    accessor: str
    kind: RelationKind  # REVERSE_FOREIGN_KEY or MANY_TO_MANY
    related: ModelInfo | None  # the model the manager's rows belong to
    field: str  # the ForeignKey's name on the related model (reverse_fk)
    owner: ModelInfo | None = None  # the model the accessor is on


@dataclass(frozen=True)
class MetaModelClass:
    """A project class deriving from a class that builds instances of ``Meta.model`` (a
    ``ModelForm``, a model factory): the model, and the methods its project classes define."""

    qualname: str
    name: str
    model: ModelInfo
    methods: frozenset[str]
    attributes: frozenset[str]  # names its project classes assign in their bodies


class DjangoModels:
    """Django's view of every indexed model, computed lazily and cached for the index."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.concrete = [m for m in index.models.values() if not m.abstract]
        #: class names of the concrete models (``django.db.models.Model`` itself excluded)
        self.names = frozenset(m.name for m in self.concrete if m.qualname not in MODEL_BASES)
        self.concrete_keys = {m.key for m in self.concrete if m.qualname not in MODEL_BASES}
        self._forward: dict[str, dict[str, Relation]] = {}
        self._lookups: dict[str, dict[str, Relation]] = {}
        self._managers: dict[str, dict[str, Manager]] = {}
        self._by_field: dict[str, list[Relation]] | None = None
        self._by_name: dict[str, list[ModelInfo]] = {}
        for model in self.concrete:
            self._by_name.setdefault(model.name, []).append(model)
        self._pks: dict[str, tuple[frozenset[str], bool]] = {}
        self._ancestors: dict[str, list[ModelInfo]] = {}
        self._reverse_o2o: dict[str, dict[str, Relation]] = {}
        self._saves_itself: dict[tuple[str, str], bool] = {}
        self._meta_model_classes: dict[frozenset[str], dict[str, MetaModelClass]] = {}
        self._classes: dict[str, tuple[dict, list[str], ModelInfo | None]] | None = None
        self._generic_keys: dict[str, frozenset[str]] = {}

    def models_named(self, name: str) -> list[ModelInfo]:
        """Concrete models whose class is called *name*."""
        return self._by_name.get(name, [])

    def parents(self, model: ModelInfo) -> list[ModelInfo]:
        # ``django.db.models.Model`` itself is indexed as a model when Django's own tree is linted
        return [p for p in self.index.model_parents(model) if p.qualname not in MODEL_BASES]

    def ancestors(self, model: ModelInfo) -> list[ModelInfo]:
        """*model* and every model it inherits from, nearest first."""
        cached = self._ancestors.get(model.qualname)
        if cached is not None:
            return cached
        seen: dict[str, ModelInfo] = {}
        queue = [model]
        while queue:
            current = queue.pop(0)
            if current.qualname in seen:
                continue
            seen[current.qualname] = current
            queue.extend(self.parents(current))
        result = self._ancestors[model.qualname] = list(seen.values())
        return result

    def forward(self, model: ModelInfo) -> dict[str, Relation]:
        """Forward relation fields by name, inherited ones and MTI parent links included."""
        cached = self._forward.get(model.qualname)
        if cached is not None:
            return cached
        result: dict[str, Relation] = {}
        self._forward[model.qualname] = result  # a cycle of bases ends here
        explicit_links: set[str] = set()
        for declared in self.index._inherited_fields(model):
            target = self.index.resolve_target(model, declared.target)
            result[declared.name] = Relation(declared.name, declared.kind, model, target)
            if declared.parent_link and target is not None:
                explicit_links.add(target.qualname)
        for parent in self.parents(model):
            if parent.abstract:
                continue
            for name, relation in self.forward(parent).items():
                result.setdefault(name, relation)
            if parent.qualname not in explicit_links and not model.proxy:
                link = f"{parent.model_name}_ptr"
                result.setdefault(link, Relation(link, RelationKind.ONE_TO_ONE, model, parent))
        return result

    def single_valued(self, model: ModelInfo) -> dict[str, Relation]:
        """Forward ForeignKeys and one-to-one fields by name."""
        return {name: r for name, r in self.forward(model).items() if r.kind in SINGLE_VALUED}

    def lookups(self, model: ModelInfo) -> dict[str, Relation]:
        """Names usable in ``filter()``: forward fields and reverse query names."""
        cached = self._lookups.get(model.qualname)
        if cached is not None:
            return cached
        result = dict(self.forward(model))
        for ancestor in self.ancestors(model):
            for reverse in self.index.reverse_by_owner.get(ancestor.key, ()):
                target = self.index.models_by_key.get(reverse.related_model)
                result.setdefault(reverse.query_name, Relation(reverse.query_name, RelationKind.REVERSE, model, target))
        self._lookups[model.qualname] = result
        return result

    def managers(self, model: ModelInfo) -> dict[str, Manager]:
        """Related managers an instance of *model* has: reverse ForeignKeys and many-to-many."""
        cached = self._managers.get(model.qualname)
        if cached is not None:
            return cached
        result: dict[str, Manager] = {}
        for name, relation in self.forward(model).items():
            if relation.kind == RelationKind.MANY_TO_MANY:
                result[name] = Manager(name, RelationKind.MANY_TO_MANY, relation.target, name, model)
        for ancestor in self.ancestors(model):
            for reverse in self.index.reverse_by_owner.get(ancestor.key, ()):
                if reverse.kind == RelationKind.ONE_TO_ONE and reverse.owner in self.concrete_keys:
                    continue
                related = self.index.models_by_key.get(reverse.related_model)
                kind = RelationKind.MANY_TO_MANY if reverse.kind == RelationKind.MANY_TO_MANY else RelationKind.REVERSE_FOREIGN_KEY
                result.setdefault(reverse.accessor, Manager(reverse.accessor, kind, related, reverse.field_name, model))
        self._managers[model.qualname] = result
        return result

    def reverse_one_to_one(self, model: ModelInfo) -> dict[str, Relation]:
        """Reverse one-to-one accessors of *model*: ``place.restaurant = r`` sets ``r.place``."""
        cached = self._reverse_o2o.get(model.qualname)
        if cached is not None:
            return cached
        result: dict[str, Relation] = {}
        self._reverse_o2o[model.qualname] = result
        for ancestor in self.ancestors(model):
            for reverse in self.index.reverse_by_owner.get(ancestor.key, ()):
                if reverse.kind == RelationKind.ONE_TO_ONE and reverse.owner in self.concrete_keys:
                    related = self.index.models_by_key.get(reverse.related_model)
                    if related is not None:
                        result.setdefault(reverse.accessor, Relation(reverse.field_name, RelationKind.ONE_TO_ONE, related, model))
        return result

    def related_model(self, model: ModelInfo, name: str) -> ModelInfo | None:
        """The model an instance of *model* reaches through its relation *name* (a forward
        field, a related manager, a reverse one-to-one accessor): a lookup path's next step."""
        forward = self.forward(model).get(name)
        if forward is not None:
            return forward.target
        manager = self.managers(model).get(name)
        if manager is not None:
            return manager.related
        reverse = self.reverse_one_to_one(model).get(name)
        return reverse.model if reverse is not None else None

    def managers_named(self, accessor: str, item: ModelInfo | None) -> list[Manager]:
        """Managers called *accessor* on any model whose rows are *item* (or a parent of it)."""
        if item is None:
            return []
        accepted = {m.qualname for m in self.ancestors(item)}
        found: list[Manager] = []
        for model in self.concrete:
            manager = self.managers(model).get(accessor)
            if manager is not None and manager.related is not None and manager.related.qualname in accepted:
                found.append(manager)
        return found

    def relations_named(self, name: str, target: ModelInfo | None) -> list[Relation]:
        """Single-valued relations called *name* on any model whose target is *target* (or a parent)."""
        if self._by_field is None:
            by_field: dict[str, list[Relation]] = {}
            for model in self.concrete:
                for relation in self.single_valued(model).values():
                    by_field.setdefault(relation.name, []).append(relation)
            self._by_field = by_field
        candidates = self._by_field.get(name, [])
        if target is None:
            return candidates
        accepted = {m.qualname for m in self.ancestors(target)}
        return [r for r in candidates if r.target is not None and r.target.qualname in accepted]

    def primary_key(self, model: ModelInfo) -> tuple[frozenset[str], bool]:
        """Keyword names that set the primary key, and whether it gets a value at construction.

        ``Person(id=1)`` has a pk: Django does not treat it as unsaved. A pk field with a
        ``default`` (``UUIDField(primary_key=True, default=uuid.uuid4)``) is set as soon as
        the instance is built, so Django never raises the unsaved-object errors for it.
        """
        cached = self._pks.get(model.qualname)
        if cached is not None:
            return cached
        names = {"pk", "id"}
        preset = False
        ancestors = self.ancestors(model)
        for relation in self.forward(model).values():
            if relation.kind in SINGLE_VALUED:
                declared = next((f for a in ancestors for f in a.fields if f.name == relation.name), None)
                if declared is not None and declared.primary_key:
                    names.add(relation.name)
        for ancestor in ancestors:
            for name, has_default in ancestor.primary_keys:
                names.add(name)
                preset = preset or has_default
        result = self._pks[model.qualname] = (frozenset(names), preset)
        return result

    def pk_attname(self, model: ModelInfo) -> str:
        """The attribute holding the primary key (``id``, ``place_id``, ``place_ptr_id``, ``code``)."""
        for ancestor in self.ancestors(model):
            for declared in ancestor.fields:
                if declared.primary_key and declared.kind in SINGLE_VALUED:
                    return f"{declared.name}_id"
            if ancestor.primary_keys:
                return ancestor.primary_keys[0][0]
        for parent in self.parents(model):
            if not parent.abstract:
                link = next((f for f in model.fields if f.parent_link), None)
                return f"{link.name}_id" if link is not None else f"{parent.model_name}_ptr_id"
        return "id"

    def generic_foreign_keys(self, model: ModelInfo) -> frozenset[str]:
        """The ``GenericForeignKey`` attributes of *model*, inherited ones included."""
        found = self._generic_keys.get(model.qualname)
        if found is None:
            found = self._generic_keys[model.qualname] = frozenset(
                name
                for ancestor in self.ancestors(model)
                for name, callee in ancestor.generic_key_calls
                if self.index.resolve(ancestor.qualname.rpartition(".")[0], callee) in GENERIC_FOREIGN_KEYS
            )
        return found

    def saves_relation_itself(self, model: ModelInfo | None, field_name: str) -> bool:
        """A ``save()`` override in the model's hierarchy that saves this relation first."""
        if model is None:
            return False
        key = (model.qualname, field_name)
        cached = self._saves_itself.get(key)
        if cached is not None:
            return cached
        found = any(field_name in ancestor.saved_in_body for ancestor in self.ancestors(model))
        self._saves_itself[key] = found
        return found

    def manager_name(self, model: ModelInfo) -> ManagerName:
        """The default manager's attribute name, and whether that is certain."""
        ancestors = self.ancestors(model)
        if any("objects" in ancestor.attributes for ancestor in ancestors):
            return ManagerName("objects", True)
        if any(ancestor.module_has_custom_managers for ancestor in ancestors):
            return ManagerName("objects", False)  # a custom manager may replace `objects`
        return ManagerName("objects", True)

    def meta_model_classes(self, bases: frozenset[str]) -> dict[str, MetaModelClass]:
        """Project classes deriving from one of *bases* (qualified names outside the project,
        such as ``django.forms.ModelForm``) whose ``Meta.model`` names an indexed concrete model:
        qualified name -> class. ``Meta`` is inherited as Python inherits it: a class without
        its own ``Meta``, or whose ``Meta`` derives from another, takes its base's model."""
        found = self._meta_model_classes.get(bases)
        if found is not None:
            return found
        classes = self._project_classes()
        resolved: dict[str, MetaModelClass | None] = {}

        def resolve(qualname: str, depth: int = 0) -> MetaModelClass | None:
            if qualname in resolved:
                return resolved[qualname]
            resolved[qualname] = None  # cycles and depth: nothing
            class_facts, parents, model = classes[qualname]
            if depth > 20:
                return None
            result: MetaModelClass | None = None
            meta = class_facts.get("meta") or {}
            derived = any(p in bases for p in parents)
            inherited: MetaModelClass | None = None
            for parent in parents:
                if parent in classes:
                    inherited = resolve(parent, depth + 1)
                    if inherited is not None:
                        break
            if inherited is not None:
                derived = True
                if model is None and "model" not in meta and (not class_facts.get("meta") or meta.get("bases")):
                    model = inherited.model
            if derived and model is not None and not model.abstract:
                methods = frozenset(class_facts["methods"])
                attributes = frozenset(class_facts["attributes"])
                if inherited is not None:
                    methods |= inherited.methods
                    attributes |= inherited.attributes
                result = MetaModelClass(qualname, class_facts["name"], model, methods, attributes)
            resolved[qualname] = result
            return result

        found = {}
        for qualname in classes:
            result = resolve(qualname)
            if result is not None:
                found[qualname] = result
        self._meta_model_classes[bases] = found
        return found

    def _project_classes(self) -> dict[str, tuple[dict, list[str], ModelInfo | None]]:
        """Every class of the project, by qualified name: its facts, its bases' qualified
        names and the model its own ``Meta.model`` names; built once for every set of bases
        :meth:`meta_model_classes` is asked about."""
        if self._classes is None:
            index = self.index
            self._classes = {}
            for facts in index.modules.values():
                module = facts["module"]
                for class_facts in facts["classes"]:
                    meta = class_facts.get("meta") or {}
                    self._classes[f"{module}.{class_facts['name']}"] = (
                        class_facts,
                        [index.resolve(module, base) or base for base in class_facts["bases"]],
                        self._meta_model(module, meta.get("model")) if "model" in meta else None,
                    )
        return self._classes

    def model_named_by(self, module: str, value: object) -> ModelInfo | None:
        """The model a ``Meta.model``-like value names in *module*: a class name or "app_label.Model"."""
        return self._meta_model(module, value)

    def _meta_model(self, module: str, value: object) -> ModelInfo | None:
        if not isinstance(value, str):
            return None
        if value.count(".") == 1 and value in self.index.models_by_key:
            return self.index.models_by_key[value]  # "app_label.Model"
        qualified = self.index.resolve(module, value)
        return self.index.models.get(qualified) if qualified is not None else None
