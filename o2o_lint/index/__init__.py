"""The project-wide model index: Django's app registry, rebuilt statically.

Two stages keep it cheap and cacheable: :mod:`.facts` extracts plain, serialisable
facts from one file with the stdlib ``ast`` (about ten times cheaper than a LibCST
parse, and cached on disk by content hash), and :mod:`.model` resolves the facts of
the whole project into models, relation fields and reverse accessors.
"""

from __future__ import annotations

from o2o_lint.index.model import ModelInfo, ProjectIndex, RelationField, ReverseRelation

__all__ = ["ModelInfo", "ProjectIndex", "RelationField", "ReverseRelation"]
