"""OTO001 before LibCST: what the rule is, and its screen (a file must declare a
unique call to a name that may be a ForeignKey; :mod:`.facts` finds those calls)."""

from __future__ import annotations

from o2o_lint.index.facts import rule_facts
from o2o_lint.rules.base import FileContext, Fixability, Rule


class ForeignKeyUniqueScreen(Rule):
    code = "OTO001"
    name = "foreign-key-unique"
    summary = "ForeignKey(unique=True) should be a OneToOneField"
    fixable = Fixability.SOMETIMES
    fix_changes_relations = True  # the converted field turns a reverse manager into an object
    after_fix = (
        "a ForeignKey turned into a OneToOneField needs a migration: run `python manage.py makemigrations` "
        "(one AlterField per field). Applied as generated it is not free: PostgreSQL drops and re-adds the "
        "foreign key constraint (a validation scan of the table, under locks), SQLite rebuilds the table. "
        "The columns and constraints are already the same, so wrap the AlterField in "
        "migrations.SeparateDatabaseAndState(state_operations=[...]) to change only Django's state "
        "at no database cost (`o2o-lint --explain OTO001` shows it)."
    )

    @classmethod
    def screen(cls, context: FileContext) -> bool:
        # Callee names are local names (an alias like FK, an attribute like models.ForeignKey);
        # any call that may declare a unique field is worth a look unless no name can be a ForeignKey.
        calls = rule_facts(context.facts, "OTO001")
        if not calls:
            return False
        imports = context.facts["imports"]
        index = context.index
        names = {"ForeignKey", *index.foreign_key_subclass_names}
        names.update(name.rpartition(".")[2] for name in context.settings.foreign_key_classes)
        return any(
            name in names or imports.get(name, "").endswith("ForeignKey")
            or imports.get(name) in index.foreign_key_subclasses
            for name in calls
        )
