"""o2o-lint's fixes as LibCST codemod commands, for ``python -m libcst.tool codemod``.

One command per fixable rule, named after the rule (``foreign-key-unique`` gives
``ForeignKeyUniqueCommand``) and also reachable by its code, and ``FixAllCommand`` for
every rule's fix at once::

    python -m libcst.tool codemod -x o2o_lint.codemods.ForeignKeyUniqueCommand --no-format app/

or, with ``modules: ['o2o_lint.codemods']`` in ``.libcst.codemod.yaml``::

    python -m libcst.tool codemod fixes.ForeignKeyUniqueCommand --no-format app/

The commands live in :mod:`o2o_lint.codemods.fixes` (LibCST resolves configured
commands as ``<module>.<submodule>.<Class>``) and are re-exported here.
"""

from o2o_lint.codemods.fixes import *  # noqa: F401,F403
from o2o_lint.codemods.fixes import __all__  # noqa: F401
