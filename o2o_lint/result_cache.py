"""The findings cache: a warm run re-analyses only files whose inputs changed.

A file's cached findings are reused when its stat signature (or, failing that, its
content hash) is unchanged *and* the run's fingerprint is the same. The fingerprint
covers what any file's findings can depend on: the tool's own code, the settings and
the index facts of every file of the project (a comment added to a models file leaves
its facts, hence everyone else's findings, untouched).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import astuple
from typing import NamedTuple

from o2o_lint.cache import Cache, content_hash, stat_signature
from o2o_lint.config import Settings
from o2o_lint.findings import Finding, Fix

CACHE_NAME = "findings"


class CachedFinding(NamedTuple):
    line: int
    column: int
    code: str
    message: str
    end_line: int
    end_column: int
    safe_fix: bool | None  # None: no fix
    fix_description: str | None


class CacheEntry(NamedTuple):
    """One file's cached findings, and what they were computed from."""

    signature: list[int]
    content_hash: str
    findings: list[CachedFinding]

    @classmethod
    def from_stored(cls, stored: object) -> CacheEntry | None:
        """The entry as ``marshal`` stored it (plain lists); None when it has another shape."""
        if not isinstance(stored, (list, tuple)) or len(stored) != 3 or not isinstance(stored[2], (list, tuple)):
            return None
        try:
            findings = [CachedFinding._make(item) for item in stored[2]]
        except TypeError:
            return None
        return cls(stored[0], stored[1], findings)

    def stored(self) -> list:
        return [self.signature, self.content_hash, [tuple(finding) for finding in self.findings]]


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


def encode_findings(findings: Iterable[Finding]) -> list[CachedFinding]:
    return [
        CachedFinding(f.line, f.column, f.code, f.message, f.end_line, f.end_column,
                      None if f.fix is None else f.fix.safe, None if f.fix is None else f.fix.description)
        for f in findings
    ]


def decode_findings(path: str, cached: list[CachedFinding]) -> list[Finding]:
    return [
        Finding(path, line, column, code, message,
                None if safe is None else Fix(description or "", safe), end_line, end_column)
        for line, column, code, message, end_line, end_column, safe, description in cached
    ]


class ResultCache:
    def __init__(self, cache: Cache, key: str, run_fingerprint: str) -> None:
        self.cache = cache
        self.name = f"{CACHE_NAME}-{content_hash(key.encode())[:12]}"
        self.fingerprint = run_fingerprint
        stored = cache.load(self.name)
        valid = isinstance(stored, dict) and stored.get("fingerprint") == run_fingerprint
        files = stored.get("files") if valid else None
        self._stored: dict[str, object] = files if isinstance(files, dict) else {}
        self.updated: dict[str, CacheEntry] = {}
        self._unchanged = True

    def entry(self, path: str) -> CacheEntry | None:
        return CacheEntry.from_stored(self._stored.get(os.path.abspath(path)))

    def lookup(self, path: str) -> tuple[list[int] | None, list[CachedFinding] | None]:
        absolute = os.path.abspath(path)
        signature = stat_signature(absolute)
        entry = self.entry(absolute)
        if entry is not None and signature is not None and entry.signature == signature:
            self.updated[absolute] = entry
            return signature, entry.findings
        return signature, None

    def record(self, path: str, signature: list[int] | None, digest: str | None, findings: list[Finding]) -> None:
        if signature is None or digest is None:
            return
        self.updated[os.path.abspath(path)] = CacheEntry(signature, digest, encode_findings(findings))
        self._unchanged = False

    def save(self) -> None:
        if self._unchanged and self.updated.keys() == self._stored.keys():
            return
        self.cache.store(self.name, {
            "fingerprint": self.fingerprint, "files": {path: entry.stored() for path, entry in self.updated.items()},
        })
