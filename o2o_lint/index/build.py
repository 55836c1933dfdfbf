"""Build the :class:`ProjectIndex` for a set of project roots, reusing cached facts.

Each file's facts are keyed by its content hash; a stat signature (mtime, size)
lets a warm run skip even reading unchanged files.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable

from o2o_lint.cache import Cache, content_hash
from o2o_lint.config import Settings
from o2o_lint.discovery import iter_python_files
from o2o_lint.index.facts import FACTS_VERSION, Facts, facts_for_tree
from o2o_lint.index.model import ProjectIndex
from o2o_lint.sourcefile import SourceError, decode_source, MAX_FILE_BYTES

INDEX_CACHE_NAME = "index"


def _stat_signature(path: str) -> list[int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_mtime_ns, stat.st_size]


def facts_for_bytes(data: bytes, path: str, root: str) -> Facts | None:
    """Facts for one file, or None when it cannot be decoded or parsed."""
    try:
        text = decode_source(data).text
        tree = ast.parse(text, filename=path)
    except (SourceError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    try:
        return facts_for_tree(tree, path, root)
    except RecursionError:
        return None


def collect_facts(root: str, settings: Settings, cache: Cache) -> dict[str, Facts]:
    """Facts of every Python file under *root*, from the cache where content is unchanged."""
    cache_name = f"{INDEX_CACHE_NAME}-{content_hash(root.encode())[:12]}"
    cached = cache.load(cache_name) or {}
    if cached.get("version") != FACTS_VERSION or cached.get("root") != root:
        cached = {"version": FACTS_VERSION, "root": root, "files": {}}
    old_files: dict[str, list] = cached["files"]
    new_files: dict[str, list] = {}
    facts_by_path: dict[str, Facts] = {}
    changed = False
    for path in iter_python_files([root], settings.all_excludes, root):
        if not isinstance(path, str):
            continue
        absolute = os.path.abspath(path)
        signature = _stat_signature(absolute)
        entry = old_files.get(absolute)
        if entry is not None and signature is not None and entry[0] == signature:
            new_files[absolute] = entry
            if entry[2] is not None:
                facts_by_path[absolute] = entry[2]
            continue
        try:
            with open(absolute, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError:
            continue
        digest = content_hash(data)
        if entry is not None and entry[1] == digest:
            facts = entry[2]
        else:
            facts = facts_for_bytes(data, absolute, root) if len(data) <= MAX_FILE_BYTES else None
        changed = True
        new_files[absolute] = [signature, digest, facts]
        if facts is not None:
            facts_by_path[absolute] = facts
    if changed or len(new_files) != len(old_files):
        cache.store(cache_name, {"version": FACTS_VERSION, "root": root, "files": new_files})
    return facts_by_path


def build_index(roots: Iterable[str], settings: Settings) -> ProjectIndex:
    facts_by_path: dict[str, Facts] = {}
    for root in sorted(set(os.path.abspath(r) for r in roots)):
        cache = Cache.for_root(root, settings.cache_dir, settings.use_cache)
        facts_by_path.update(collect_facts(root, settings, cache))
    return ProjectIndex(
        facts_by_path,
        foreign_key_classes=settings.foreign_key_classes,
        model_base_classes=settings.model_base_classes,
    )
