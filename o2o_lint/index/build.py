"""Build the :class:`ProjectIndex` for a set of project roots, reusing cached facts.

Each file's facts are keyed by its content hash; a stat signature (mtime, size)
lets a warm run skip even reading unchanged files.
"""

from __future__ import annotations

import ast
import hashlib
import marshal
import os
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable

from o2o_lint.cache import Cache, content_hash, stat_signature
from o2o_lint.config import Settings
from o2o_lint.discovery import ignored_here_or_above, iter_python_files, iter_template_files, start_git_ignored
from o2o_lint.index.facts import DEFERRED, Facts, complete_facts, facts_for_tree, facts_version, remembering_packages

if TYPE_CHECKING:
    from o2o_lint.index.model import ProjectIndex
from o2o_lint.sourcefile import MAX_FILE_BYTES, SourceError, SourceText, decode_source, decode_template, read_bytes
from o2o_lint.syntax import parse_module

INDEX_CACHE_NAME = "index"


def facts_for_bytes(data: bytes, path: str, root: str) -> Facts | None:
    """Facts for one file, or None when it cannot be decoded or parsed."""
    return _source_and_facts(data, path, root)[1]


#: What decoding or parsing a file may raise: it then has no facts.
_UNREADABLE = (SourceError, SyntaxError, ValueError, RecursionError, MemoryError)


def _source_and_tree(data: bytes, path: str) -> tuple[SourceText | None, ast.Module | None]:
    """*data* decoded (None when it cannot be) and parsed (None when it does not parse)."""
    try:
        source = decode_source(data)
    except _UNREADABLE:
        return None, None
    try:
        return source, parse_module(source.text, filename=path)
    except _UNREADABLE:
        return source, None


def _source_and_facts(data: bytes, path: str, root: str,
                      deferring: Collection[str] = ()) -> tuple[SourceText | None, Facts | None]:
    """:func:`facts_for_bytes`, with the decoded text (None when it cannot be decoded); the
    facts of the extractors in *deferring* left out."""
    source, tree = _source_and_tree(data, path)
    if source is None or tree is None:
        return source, None
    try:
        return source, facts_for_tree(tree, path, root, source.text, deferring)
    except RecursionError:
        return source, None


#: A file's text as the scan read it, for the run that analyses it next (see
#: :func:`keeping_sources`): its stat signature and content hash then, and the text.
KeptSource = tuple[list[int], str, SourceText]
#: At most this many characters of text are kept: a cold run on a very large project reads
#: the rest again rather than hold it all.
MAX_KEPT_CHARS = 64 * 2**20
#: While :func:`keeping_sources` runs: the process that keeps (not a forked worker), the
#: texts kept, the characters left to keep.
_KEEPING: list | None = None


@contextmanager
def keeping_sources() -> Iterator[dict[str, KeptSource]]:
    """Files whose facts are parsed within the block, in this process, keep their text in
    the mapping yielded (absolute path -> :data:`KeptSource`): the runner analyses them
    right after, and takes their text instead of reading and hashing every file twice. A
    worker of a process pool keeps nothing."""
    global _KEEPING
    kept: dict[str, KeptSource] = {}
    previous, _KEEPING = _KEEPING, [os.getpid(), kept, MAX_KEPT_CHARS]
    try:
        yield kept
    finally:
        _KEEPING = previous


def _keep(absolute: str, signature: list[int] | None, digest: str, source: SourceText) -> None:
    keeping = _KEEPING
    if keeping is None or signature is None or keeping[0] != os.getpid() or len(source.text) > keeping[2]:
        return
    keeping[1][absolute] = (signature, digest, source)
    keeping[2] -= len(source.text)


def _read_limited(path: str) -> bytes | None:
    """The bytes of the file at *path*; None when it cannot be read or is too large (as
    :func:`scan_file` treats it)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError:
        return None
    return data if len(data) <= MAX_FILE_BYTES else None


def facts_for_file(path: str, root: str) -> Facts | None:
    """Facts for the file at *path* as it is on disk; None when it cannot be read, is too
    large (as :func:`scan_file` treats it) or does not parse."""
    data = _read_limited(path)
    return facts_for_bytes(data, path, root) if data is not None else None


def _facts_digest(facts: Facts | None, content: str = "") -> str:
    """What the findings cache's run fingerprint holds for a file: a digest of its facts, and
    of its *content* (hash) too when some rule's facts were left out (:data:`DEFERRED`): a
    run that extracts them later sees its fingerprint change with every edit they could see."""
    if facts is None:
        return ""
    data = marshal.dumps(facts)
    if DEFERRED in facts:
        data += content.encode()
    return hashlib.blake2b(data, digest_size=12).hexdigest()


Mapper = Callable[..., Iterable[Any]]


def _may_define_models(absolute: str, root: str) -> bool:
    """Is *absolute* where Django looks for an app's models: a ``models.py``, or a module of
    a ``models`` package (below *root*)?"""
    relative = absolute[len(root):] if absolute.startswith(root) else absolute
    return os.path.basename(relative) == "models.py" or f"{os.sep}models{os.sep}" in relative


def _read_signed(absolute: str) -> tuple[list[int], bytes] | None:
    """The stat signature of the file at *absolute* and then its bytes (at most one more than
    :data:`MAX_FILE_BYTES`), through one descriptor; None when it cannot be opened or read."""
    try:
        descriptor = os.open(absolute, os.O_RDONLY)
    except OSError:
        return None
    try:
        status = os.fstat(descriptor)
        limit = MAX_FILE_BYTES + 1
        chunk = os.read(descriptor, min(status.st_size + 1, limit))
        chunks = [chunk]
        size = len(chunk)
        while chunk and size < limit:  # to the end, as a buffered read does: it may have grown
            chunk = os.read(descriptor, limit - size)
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    if len(chunks) > 1 and not chunks[-1]:
        chunks.pop()  # the empty read at the end
    return [status.st_mtime_ns, status.st_size], chunks[0] if len(chunks) == 1 else b"".join(chunks)


#: What :func:`scan_file` is handed: (absolute path, project root, the cached content hash or
#: None, the codes of the extractors to leave out).
ScanItem = tuple[str, str, "str | None", tuple[str, ...]]


def scan_file(item: ScanItem) -> tuple[list[int] | None, str, Facts | None, str | None] | None:
    """Read and parse one changed file (in a worker process under ``--jobs``).

    Returns (signature, content hash, facts, facts digest); the digest is None when the
    content equals the cached version, whose facts still hold.
    """
    absolute, root, cached_hash, deferring = item
    read = _read_signed(absolute)
    if read is None:
        return None
    signature, data = read
    digest = content_hash(data)
    if digest == cached_hash:
        return signature, digest, None, None
    if len(data) > MAX_FILE_BYTES:
        return signature, digest, None, _facts_digest(None)
    source, facts = _source_and_facts(data, absolute, root, deferring)
    if facts is not None:
        _keep(absolute, signature, digest, source)  # type: ignore[arg-type]
    return signature, digest, facts, _facts_digest(facts, digest)


class RootFacts:
    """The facts of one project root: file digests now, the facts themselves on demand.

    Two cache entries: a small one (stat signature, content hash and facts digest per
    file) read on every run, and the facts blob, read only when some file needs
    analysis. A warm run where nothing changed never loads the blob.
    """

    def __init__(self, root: str, settings: Settings, cache: Cache, mapper: Mapper = map) -> None:
        self.root = root
        self.settings = settings
        self.cache = cache
        key = content_hash(root.encode())[:12]
        self.stats_name, self.facts_name = f"{INDEX_CACHE_NAME}-{key}", f"facts-{key}"
        cached = cache.load(self.stats_name) or {}
        version = self.version = facts_version()
        if cached.get("version") != version or cached.get("root") != root:
            cached = {"version": version, "root": root, "files": {}}
        old_files: dict[str, list] = cached["files"]
        self.files: dict[str, list] = {}  # path -> [signature, content hash, facts digest]
        self.fresh: dict[str, Facts | None] = {}  # facts parsed in this run
        self.unopened: list[str] = []  # discovered, but could not be opened
        # What git ignores under the root (respect-gitignore): one git call per root and run,
        # walking the tree while this process walks it too; then the walk is pruned.
        answer = start_git_ignored(root) if settings.respect_gitignore else frozenset
        templates: list[str] = []
        discovered = list(iter_python_files([root], settings.all_excludes, root, templates=templates))
        self.ignored = answer()
        self.discovered = [item for item in discovered if not self.ignored or not ignored_here_or_above(
            item if isinstance(item, str) else item.path, self.ignored)]
        to_scan = self._scan_list(old_files)
        scanned_files = self._scan(to_scan, mapper, old_files)
        #: Directories the settings modules name in TEMPLATES DIRS, by settings file.
        self.template_dirs: dict[str, list] = {
            path: dirs for path, dirs in (cached.get("template_dirs") or {}).items()
            if path in self.files and path not in scanned_files}
        for path in scanned_files:
            dirs = (self.fresh.get(path) or {}).get("template_dirs") if path in self.fresh else (
                (cached.get("template_dirs") or {}).get(path))
            if dirs:
                self.template_dirs[path] = dirs
        known = set(templates)
        for directory in self._settings_directories():
            templates += [t for t in iter_template_files(directory, settings.all_excludes, root, ignored=self.ignored)
                          if t not in known]
            known.update(templates)
        #: Template files (absolute path -> [stat signature, content hash, why unreadable
        #: or ""]): no facts, but
        #: their content hashes key the findings that read them (see the findings cache).
        self.templates = self._template_hashes(
            sorted(t for t in templates if not self.ignored or not ignored_here_or_above(t, self.ignored)),
            cached.get("templates") or {})
        if (self.files != old_files or self.templates != cached.get("templates", {})
                or self.template_dirs != cached.get("template_dirs", {})):
            cache.store(self.stats_name, {"version": version, "root": root, "files": self.files,
                                          "templates": self.templates, "template_dirs": self.template_dirs})
        self._facts: dict[str, Facts] | None = None
        self._unreadable: list[str] = []

    def _scan_list(self, old_files: dict[str, list]) -> list[ScanItem]:
        """The files whose stat changed (to read); the others keep their cached entry."""
        to_scan: list[ScanItem] = []
        for path in self.discovered:
            if not isinstance(path, str):
                continue
            absolute = os.path.abspath(path)
            signature = stat_signature(absolute)
            entry = old_files.get(absolute)
            if entry is not None and signature is not None and entry[0] == signature:
                self.files[absolute] = entry
            else:
                to_scan.append((absolute, self.root, entry[1] if entry is not None else None, ()))
        return to_scan

    def _scan(self, to_scan: list[ScanItem], mapper: Mapper, old_files: dict[str, list]) -> set[str]:
        """Read the changed files (facts of those whose content changed); the paths scanned."""
        scanned_paths: set[str] = set()
        with remembering_packages():  # forked workers inherit it
            if old_files:
                results = mapper(scan_file, to_scan)
            else:
                results = self._scan_models_first(to_scan, mapper)
            scanned_files = list(zip((item[0] for item in to_scan), results))
        for absolute, scanned in scanned_files:
            scanned_paths.add(absolute)
            if scanned is None:
                self.unopened.append(absolute)
                continue
            signature, digest, facts, facts_digest = scanned
            if facts_digest is None:  # same content as cached (e.g. `touch`): facts unchanged
                facts_digest = old_files[absolute][2]
            else:
                self.fresh[absolute] = facts
            self.files[absolute] = [signature, digest, facts_digest]
        return scanned_paths

    def _scan_models_first(self, to_scan: list[ScanItem], mapper: Mapper) -> list:
        """A cold scan: the models files first, with every extractor; then the others without
        the extractors (see :class:`FactsExtractor`'s *needed*) that the index of the models
        files does not need. :meth:`complete` extracts those of the files that left them out
        if the whole project's index needs them after all."""
        from o2o_lint.rules import all_extractors

        deferrable = [extractor for extractor in all_extractors() if extractor.needed is not None]
        first = [position for position, item in enumerate(to_scan) if _may_define_models(item[0], self.root)]
        if not deferrable or not first:
            return mapper(scan_file, to_scan)
        results: list = [None] * len(to_scan)
        for position, scanned in zip(first, mapper(scan_file, [to_scan[position] for position in first])):
            results[position] = scanned
        models_facts = {to_scan[position][0]: results[position][2] for position in first
                        if results[position] is not None and results[position][2] is not None}
        partial = index_from_facts(models_facts, self.settings)
        deferring = tuple(extractor.code for extractor in deferrable
                          if not extractor.needed(partial))  # type: ignore[misc]
        taken = set(first)
        rest = [position for position in range(len(to_scan)) if position not in taken]
        items = [(*to_scan[position][:3], deferring) for position in rest]
        for position, scanned in zip(rest, mapper(scan_file, items)):
            results[position] = scanned
        return results

    def complete(self, index: ProjectIndex) -> None:
        """Extract the facts the scan left out of some files (:data:`DEFERRED`) that *index*
        (the whole project's) needs, reading those files again; the facts are updated in
        place (the index holds them) and stored."""
        from o2o_lint.rules import all_extractors

        facts = self.facts
        pending = {path: found[DEFERRED] for path, found in facts.items() if found.get(DEFERRED)}
        if not pending:
            return
        codes = {code for deferred in pending.values() for code in deferred}
        needed = frozenset(extractor.code for extractor in all_extractors()
                           if extractor.code in codes and extractor.needed is not None and extractor.needed(index))
        if not needed:
            return
        for path, deferred in pending.items():
            if needed.isdisjoint(deferred):
                continue
            data = _read_limited(path)  # read again, as facts_for_file reads
            source, tree = _source_and_tree(data, path) if data is not None else (None, None)
            complete_facts(facts[path], tree, source.text if source is not None else None, needed)
        self.cache.store(self.facts_name, {"version": self.version, "facts": {p: facts.get(p) for p in self.files}})

    def _settings_directories(self) -> list[str]:
        """The DIRS of the settings modules (:data:`template_dirs`) inside this root (the
        walk reads only apps' ``templates`` directories: a top-level one is found here)."""
        found = []
        prefix = self.root.rstrip(os.sep) + os.sep
        for path, dirs in sorted(self.template_dirs.items()):
            for up, names in dirs:
                directory = path
                for _ in range(up):
                    directory = os.path.dirname(directory)
                directory = os.path.normpath(os.path.join(directory, *names))
                if directory.startswith(prefix) or directory == self.root.rstrip(os.sep):
                    found.append(directory)
        return found

    @staticmethod
    def _template_hashes(paths: list[str], cached: dict[str, list]) -> dict[str, list]:
        """[signature, content hash] of each template, read only when its stat changed."""
        found: dict[str, list] = {}
        for path in paths:
            absolute = os.path.abspath(path)
            signature = stat_signature(absolute)
            entry = cached.get(absolute)
            if entry is not None and signature is not None and entry[0] == signature and len(entry) == 3:
                found[absolute] = entry
                continue
            # as the runner reads it (a FIFO, a binary file, undecodable text): what cannot
            # be read is kept with its problem, to be counted among the unreadable files
            try:
                data = read_bytes(absolute)
                decode_template(data)
            except SourceError as exc:
                found[absolute] = [signature, "", str(exc)]
                continue
            found[absolute] = [signature, content_hash(data), ""]
        return found

    @property
    def unreadable_templates(self) -> list[str]:
        """Templates that could not be read or decoded: what they read is unknown."""
        return [path for path, entry in self.templates.items() if entry[2]]

    @property
    def digests(self) -> dict[str, str]:
        digests = {path: entry[2] for path, entry in self.files.items()}
        digests.update((path, "") for path in self.unopened)  # a file turning unreadable changes the run
        return digests

    @property
    def content_hashes(self) -> dict[str, str]:
        hashes = {path: entry[1] for path, entry in self.files.items()}
        hashes.update((path, entry[1]) for path, entry in self.templates.items())
        return hashes

    @property
    def unreadable(self) -> list[str]:
        """Files under the root that could not be read, decoded or parsed: nothing in them
        is in the index (known once :attr:`facts` is loaded)."""
        _ = self.facts
        return self._unreadable

    @property
    def facts(self) -> dict[str, Facts]:
        if self._facts is None:
            stored = self.cache.load(self.facts_name)
            valid = isinstance(stored, dict) and stored.get("version") == self.version
            blob: dict[str, Facts | None] = stored["facts"] if valid else {}
            missing = [p for p in self.files if p not in self.fresh and p not in blob]
            for path in missing:  # the blob was lost or is older than the stats entry
                blob[path] = facts_for_file(path, self.root)
            merged = {p: self.fresh[p] if p in self.fresh else blob.get(p) for p in self.files}
            if self.fresh or missing or set(blob) != set(merged):
                self.cache.store(self.facts_name, {"version": self.version, "facts": merged})
            self._facts = {p: f for p, f in merged.items() if f is not None}
            self._unreadable = sorted([p for p, f in merged.items() if f is None] + self.unopened
                                      + self.unreadable_templates)
        return self._facts


class ProjectFacts:
    """Facts of every file under the project roots, loaded lazily."""

    def __init__(self, roots: Iterable[str], settings: Settings, mapper: Mapper = map) -> None:
        self.roots = [
            RootFacts(root, settings, Cache.for_root(root, settings.cache_dir, settings.use_cache), mapper)
            for root in sorted(set(os.path.abspath(r) for r in roots))
        ]

    @property
    def digests(self) -> dict[str, str]:
        return {path: digest for root in self.roots for path, digest in root.digests.items()}

    @property
    def content_hashes(self) -> dict[str, str]:
        """Every readable file's content hash (absolute path -> hash), without reading it."""
        return {path: digest for root in self.roots for path, digest in root.content_hashes.items()}

    def signature_of(self, path: str) -> list[int] | None:
        """The stat signature *path* (absolute) had when its content hash was taken."""
        for root in self.roots:
            entry = root.files.get(path)
            if entry is not None:
                return entry[0]
        return None

    def content_hash_of(self, path: str) -> str | None:
        """*path*'s (absolute) content hash, as :attr:`content_hashes` has it (without
        building that mapping: the flake8 plugin asks once per file)."""
        for root in self.roots:
            entry = root.files.get(path)
            if entry is not None:
                return entry[1]
        return None

    @property
    def run_digests(self) -> dict[str, str]:
        """What the findings cache's run fingerprint covers: every file's facts digest, and
        every template's path (a template added or removed may change any file's findings;
        an edited one changes only the findings that read it, see the findings cache)."""
        digests = self.digests
        digests.update((path, "template") for path in self.templates)
        return digests

    @property
    def templates(self) -> list[str]:
        """Every template file under the roots (absolute paths, sorted)."""
        return sorted(path for root in self.roots for path in root.templates)

    @property
    def ignored(self) -> frozenset[str]:
        """What git ignores under every root (absolute paths)."""
        return frozenset().union(*(root.ignored for root in self.roots))

    @property
    def facts(self) -> dict[str, Facts]:
        return {path: facts for root in self.roots for path, facts in root.facts.items()}

    @property
    def unreadable(self) -> list[str]:
        """Files under the roots whose facts are missing: unreadable or unparsable."""
        return [path for root in self.roots for path in root.unreadable]

    def complete(self, index: ProjectIndex) -> None:
        """The facts the scan left out that the project's *index* needs, extracted in place
        (see :meth:`RootFacts.complete`): call it before any rule reads a file's facts."""
        for root in self.roots:
            root.complete(index)


def collect_project_facts(roots: Iterable[str], settings: Settings) -> dict[str, Facts]:
    return ProjectFacts(roots, settings).facts


def index_from_facts(facts_by_path: dict[str, Facts], settings: Settings, unreadable: Iterable[str] = (),
                     templates: Iterable[str] = ()) -> ProjectIndex:
    from o2o_lint.index.model import ProjectIndex

    return ProjectIndex(
        facts_by_path,
        foreign_key_classes=settings.foreign_key_classes,
        model_base_classes=settings.model_base_classes,
        unreadable_files=unreadable,
        template_paths=templates,
    )


def build_index(roots: Iterable[str], settings: Settings) -> ProjectIndex:
    facts = ProjectFacts(roots, settings)
    index = index_from_facts(facts.facts, settings, facts.unreadable, facts.templates)
    facts.complete(index)
    return index
