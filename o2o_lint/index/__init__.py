"""The project-wide model index: Django's app registry, rebuilt statically.

Two stages keep it cheap and cacheable: :mod:`.facts` extracts plain, serialisable
facts from one file with the stdlib ``ast`` (about ten times cheaper than a LibCST
parse, and cached on disk by content hash), and :mod:`.model` resolves the facts of
the whole project into models, relation fields and reverse accessors
(:class:`~o2o_lint.index.model.ProjectIndex`). :mod:`.build` ties them to the cache.
"""
