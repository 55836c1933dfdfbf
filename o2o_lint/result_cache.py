"""The findings cache: a warm run re-analyses only files whose inputs changed.

A file's cached findings are reused when its stat signature (or, failing that, its
content hash) is unchanged *and* the run's fingerprint is the same. The fingerprint
covers what any file's findings can depend on: the tool's own code, the settings and
the index facts of every file of the project (a comment added to a models file leaves
its facts, hence everyone else's findings, untouched). Findings that also depend on
other files' text (a project view read it: a fix may be safe only if no other file uses
what it changes) keep those files' paths and a digest of their content hashes, checked
against the run's content hashes (known without reading any file) before reuse. Such
lists are mostly one and the same (a view that read every file: all of them), so each
distinct list is kept once on disk and digested once per run.

An entry keeps the findings after ``# noqa`` (what the CLI reports) and, apart, those
``# noqa`` suppressed: flake8 applies ``# noqa`` itself (``--disable-noqa``, flake8-noqa),
so the flake8 plugin reports both lists and needs no analysis of an
unchanged file whatever its comments say.

A fixable finding's entry also keeps the text edits of its fix once the JSON or SARIF
report has computed them (:mod:`o2o_lint.edits`, a LibCST transformation each), so a
warm run reports them without LibCST. They are computed only when such a report asks,
never while analysing. So is each finding's ``noqa_row`` (the line a ``# noqa`` for it
goes on, JSON's field: a tokenization of the file), kept beside it for the same reason.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import astuple
from typing import Any, NamedTuple

from o2o_lint.cache import Cache, content_hash, stat_signature
from o2o_lint.config import Settings
from o2o_lint.findings import Finding, Fix

CACHE_NAME = "findings"
#: The on-disk layout of the findings cache: a cache of another layout is ignored.
LAYOUT = 5

#: A text edit as stored: (content, row, column, end row, end column), 1-based, end exclusive.
StoredEdit = tuple[str, int, int, int, int]


class CachedFinding(NamedTuple):
    line: int
    column: int
    code: str
    message: str
    end_line: int
    end_column: int
    safe_fix: bool | None  # None: no fix
    fix_description: str | None
    #: The fix's text edits (:func:`o2o_lint.edits.text_edits`); None: not computed yet.
    edits: tuple[StoredEdit, ...] | None = None
    #: The line a ``# noqa`` for it goes on (:func:`o2o_lint.noqa.noqa_line`); None: not computed yet.
    noqa_row: int | None = None

    @property
    def key(self) -> tuple[int, int, str, str]:
        return (self.line, self.column, self.code, self.message)


class CacheEntry(NamedTuple):
    """One file's cached findings, and what they were computed from."""

    signature: list[int]
    content_hash: str
    findings: list[CachedFinding]
    #: Other files whose text the findings depend on, and the digest of their content hashes.
    texts_read: tuple[str, ...] = ()
    texts_digest: str = ""
    #: The findings ``# noqa`` suppressed (none when the file has no ``noqa`` comment);
    #: None: not known (the entry of a ``--fix`` run for a file with such a comment).
    suppressed: list[CachedFinding] | None = None

    @classmethod
    def from_stored(cls, stored: object,
                    read_set: Callable[[list[str]], tuple[str, ...]] = tuple) -> CacheEntry | None:
        """The entry as ``marshal`` stored it (plain lists); None when it has another shape.
        *read_set* turns the stored list of files read into the entry's tuple."""
        if (
            not isinstance(stored, (list, tuple)) or len(stored) != 6 or not isinstance(stored[2], (list, tuple))
            or not isinstance(stored[3], (list, tuple)) or not isinstance(stored[4], str)
            or not (stored[5] is None or isinstance(stored[5], (list, tuple)))
        ):
            return None
        try:
            findings = [CachedFinding._make(item) for item in stored[2]]
            suppressed = None if stored[5] is None else [CachedFinding._make(item) for item in stored[5]]
        except TypeError:
            return None
        return cls(stored[0], stored[1], findings, read_set(stored[3]), stored[4], suppressed)

    def stored(self, shared: dict[tuple[str, ...], list[str]] | None = None) -> list:
        """The entry as ``marshal`` stores it; equal :attr:`texts_read` share one list of
        *shared* (``marshal`` writes an object it meets again as a reference)."""
        texts_read = None if shared is None else shared.get(self.texts_read)
        if texts_read is None:
            texts_read = list(self.texts_read)
            if shared is not None:
                shared[self.texts_read] = texts_read
        return [self.signature, self.content_hash, [tuple(finding) for finding in self.findings],
                texts_read, self.texts_digest,
                None if self.suppressed is None else [tuple(finding) for finding in self.suppressed]]

    @property
    def before_noqa(self) -> list[CachedFinding] | None:
        """Every finding, ``# noqa`` not applied (None: not known), in report order."""
        if self.suppressed is None:
            return None
        if not self.suppressed:
            return self.findings
        return sorted([*self.findings, *self.suppressed], key=lambda item: (item.line, item.column, item.code))


def _package_signature() -> str:
    """Changes whenever o2o-lint's own code does (also between releases, in development)."""
    package = os.path.dirname(os.path.abspath(__file__))
    parts = []
    for directory, _, filenames in os.walk(package):
        for name in sorted(filenames):
            if name.endswith(".py"):
                stat = os.stat(os.path.join(directory, name))
                parts.append(f"{os.path.join(directory, name)}:{stat.st_mtime_ns}:{stat.st_size}")
    return "\n".join(sorted(parts))


def fingerprint(settings: Settings, facts_digests: dict[str, str]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(_package_signature().encode())
    digest.update(repr(astuple(settings.with_overrides(unsafe_fixes=False, cache_dir="", use_cache=True))).encode())
    for path in sorted(facts_digests):
        digest.update(f"{path}\0{facts_digests[path]}\n".encode())
    return digest.hexdigest()


def texts_digest(paths: Iterable[str], content_hashes: Mapping[str, str]) -> str:
    """What the findings that read *paths*' text were computed from (a missing file: "")."""
    digest = hashlib.blake2b(digest_size=12)
    for path in paths:
        digest.update(f"{path}\0{content_hashes.get(path, '')}\n".encode())
    return digest.hexdigest()


def finding_key(finding: Finding) -> tuple[int, int, str, str]:
    """What identifies *finding* among its file's cached ones (:attr:`CachedFinding.key`)."""
    return (finding.line, finding.column, finding.code, finding.message)


def encode_findings(findings: Iterable[Finding]) -> list[CachedFinding]:
    return [
        CachedFinding(f.line, f.column, f.code, f.message, f.end_line, f.end_column,
                      None if f.fix is None else f.fix.safe, None if f.fix is None else f.fix.description)
        for f in findings
    ]


def decode_findings(path: str, cached: list[CachedFinding]) -> list[Finding]:
    return [
        Finding(path, item.line, item.column, item.code, item.message,
                None if item.safe_fix is None else Fix(item.fix_description or "", item.safe_fix),
                item.end_line, item.end_column)
        for item in cached
    ]


def encode_edits(edits: Iterable[dict]) -> tuple[StoredEdit, ...]:
    return tuple(
        (edit["content"], edit["location"]["row"], edit["location"]["column"],
         edit["end_location"]["row"], edit["end_location"]["column"])
        for edit in edits
    )


def decode_edits(stored: Iterable[StoredEdit]) -> list[dict]:
    return [
        {"content": content, "location": {"row": row, "column": column},
         "end_location": {"row": end_row, "column": end_column}}
        for content, row, column, end_row, end_column in stored
    ]


class ResultCache:
    def __init__(self, cache: Cache, key: str, run_fingerprint: str,
                 content_hashes: Mapping[str, str] | None = None) -> None:
        """*content_hashes*: every project file's content hash in this run (absolute paths),
        against which an entry's :attr:`CacheEntry.texts_read` are checked."""
        self.cache = cache
        self.content_hashes: Mapping[str, str] = content_hashes or {}
        self.name = f"{CACHE_NAME}-{content_hash(key.encode())[:12]}"
        self.fingerprint = run_fingerprint
        stored = cache.load(self.name)
        valid = (
            isinstance(stored, dict) and stored.get("layout") == LAYOUT and stored.get("fingerprint") == run_fingerprint
        )
        files = stored.get("files") if valid else None
        self._stored: dict[str, object] = files if isinstance(files, dict) else {}
        self.updated: dict[str, CacheEntry] = {}
        self._unchanged = True
        #: Each distinct list of files read, once (entries share it) and its digest this run.
        self._read_sets: dict[frozenset[str], tuple[str, ...]] = {}
        self._read_digests: dict[tuple[str, ...], str] = {}
        self._loaded_read_sets: dict[int, tuple[str, ...]] = {}

    def _texts_digest(self, texts_read: tuple[str, ...]) -> str:
        digest = self._read_digests.get(texts_read)
        if digest is None:
            digest = self._read_digests[texts_read] = texts_digest(texts_read, self.content_hashes)
        return digest

    def _stored_read_set(self, stored: list[str]) -> tuple[str, ...]:
        """A stored list of files read as a tuple: one per list ``marshal`` loaded (entries
        that shared it on disk share it again), which stays alive with ``self._stored``."""
        shared = self._loaded_read_sets.get(id(stored))
        if shared is None:
            shared = self._loaded_read_sets[id(stored)] = tuple(stored)
        return shared

    def _read_set(self, paths: Iterable[str]) -> tuple[str, ...]:
        """*paths* sorted, as the one tuple every entry reading the same files shares."""
        key = frozenset(paths)
        shared = self._read_sets.get(key)
        if shared is None:
            shared = self._read_sets[key] = tuple(sorted(key))
        return shared

    def entry(self, path: str) -> CacheEntry | None:
        """*path*'s stored entry, when the other files whose text it read are unchanged."""
        entry = CacheEntry.from_stored(self._stored.get(os.path.abspath(path)), self._stored_read_set)
        if entry is not None and entry.texts_read and self._texts_digest(entry.texts_read) != entry.texts_digest:
            return None
        return entry

    def lookup(self, path: str) -> tuple[list[int] | None, list[CachedFinding] | None]:
        signature, entry = self.lookup_entry(path)
        return signature, None if entry is None else entry.findings

    def lookup_entry(self, path: str) -> tuple[list[int] | None, CacheEntry | None]:
        """*path*'s stat signature now, and its entry when this run can reuse it (then kept
        for :meth:`save`)."""
        absolute = os.path.abspath(path)
        signature = stat_signature(absolute)
        return signature, None if signature is None else self.reusable_entry(absolute, signature)

    def reusable_entry(self, absolute: str, signature: list[int]) -> CacheEntry | None:
        """The entry of *absolute* (an absolute path) when this run can reuse it, its file's
        stat signature now being *signature* (then kept for :meth:`save`)."""
        known = self.updated.get(absolute)  # validated (or recorded) earlier in this run
        if known is not None and known.signature == signature:
            return known
        stored = self._stored.get(absolute)
        if stored is None or not isinstance(stored, (list, tuple)) or not stored or stored[0] != signature:
            return None
        entry = self.entry(absolute)
        if entry is None or entry.signature != signature:
            return None
        self.updated[absolute] = entry
        return entry

    def all_valid(self, paths: Iterable[str]) -> bool:
        """Whether every one of *paths* has an entry this run can reuse (its file unchanged)."""
        return all(self.lookup(path)[1] is not None for path in paths)

    def record(self, path: str, signature: list[int] | None, digest: str | None, findings: list[Finding],
               texts_read: Iterable[str] = (), suppressed: list[Finding] | None = None) -> None:
        """Keep *path*'s findings (after ``# noqa``; *suppressed*: those it removed, None when
        not known), computed from its content (*digest*) and from the text of the files
        *texts_read* (as this run's content hashes describe them)."""
        if signature is None or digest is None:
            return
        absolute = os.path.abspath(path)
        texts_read = self._read_set(texts_read)
        encoded = encode_findings(findings)
        old = self.updated.get(absolute) or self.entry(absolute)
        if old is not None and old.content_hash == digest:  # same text: its fixes' edits and noqa rows still hold
            known = {item.key: item for item in old.findings}
            encoded = [item._replace(edits=known[item.key].edits, noqa_row=known[item.key].noqa_row)
                       if item.key in known else item for item in encoded]
        self.updated[absolute] = CacheEntry(signature, digest, encoded, texts_read,
                                            self._texts_digest(texts_read) if texts_read else "",
                                            None if suppressed is None else encode_findings(suppressed))
        self._unchanged = False

    def cached_edits(self, path: str) -> dict[tuple[int, int, str, str], list[dict]]:
        """The fix edits known for *path*'s findings, by (line, column, code, message): only
        for an entry this run validated (found unchanged or recorded)."""
        return {key: decode_edits(edits) for key, edits in self._known(path, "edits").items()}

    def store_edits(self, path: str, edits: dict[tuple[int, int, str, str], list[dict]]) -> None:
        """Keep the fix edits just computed for *path*'s findings, when the file is still the
        one its entry describes; written by the next :meth:`save`."""
        self._keep(path, "edits", {key: encode_edits(found) for key, found in edits.items()})

    def cached_noqa_rows(self, path: str) -> dict[tuple[int, int, str, str], int]:
        """The noqa rows known for *path*'s findings, as :meth:`cached_edits`."""
        return self._known(path, "noqa_row")

    def store_noqa_rows(self, path: str, rows: dict[tuple[int, int, str, str], int]) -> None:
        """Keep the noqa rows just computed for *path*'s findings, as :meth:`store_edits`."""
        self._keep(path, "noqa_row", rows)

    def _known(self, path: str, name: str) -> dict[tuple[int, int, str, str], Any]:
        """The field *name* of *path*'s cached findings, where computed, by finding key."""
        entry = self.updated.get(os.path.abspath(path))
        if entry is None:
            return {}
        return {item.key: value for item in entry.findings if (value := getattr(item, name)) is not None}

    def _keep(self, path: str, name: str, values: dict[tuple[int, int, str, str], Any]) -> None:
        """Set the field *name* of *path*'s cached findings from *values* (by finding key),
        when the file is still the one its entry describes."""
        absolute = os.path.abspath(path)
        entry = self.updated.get(absolute)
        if entry is None or not values or stat_signature(absolute) != entry.signature:
            return
        findings = [item._replace(**{name: values[item.key]}) if item.key in values else item
                    for item in entry.findings]
        self.updated[absolute] = entry._replace(findings=findings)
        self._unchanged = False

    def save(self, *, merge: bool = False) -> None:
        """Write the entries this run validated or recorded: only those (a file no longer in
        the project is forgotten), or, with *merge* (a front end that sees some files only:
        one flake8 process), over the entries stored now under the same fingerprint."""
        if self._unchanged and (merge or self.updated.keys() == self._stored.keys()):
            return
        shared: dict[tuple[str, ...], list[str]] = {}
        files = {path: entry.stored(shared) for path, entry in self.updated.items()}
        if not merge:
            self.cache.store(self.name, {"layout": LAYOUT, "fingerprint": self.fingerprint, "files": files})
        else:
            with self.cache.locked(self.name):
                stored = self.cache.load(self.name)
                if isinstance(stored, dict) and stored.get("layout") == LAYOUT and (
                    stored.get("fingerprint") == self.fingerprint
                ):
                    others = stored.get("files")
                    if isinstance(others, dict):
                        files = {**others, **files}
                self.cache.store(self.name, {"layout": LAYOUT, "fingerprint": self.fingerprint, "files": files})
        self._stored = files
        self._unchanged = True
