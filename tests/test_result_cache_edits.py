"""The findings cache keeps each fix's text edits once a JSON/SARIF report computed them."""

from __future__ import annotations

import os
from pathlib import Path

from o2o_lint.cache import Cache, content_hash, stat_signature
from o2o_lint.findings import Finding, Fix
from o2o_lint.result_cache import LAYOUT, CachedFinding, CacheEntry, ResultCache

EDIT = {"content": "OneToOneField", "location": {"row": 1, "column": 5}, "end_location": {"row": 1, "column": 15}}


def _setup(tmp_path: Path) -> tuple[Cache, Path, list[int], str, list[Finding]]:
    path = tmp_path / "models.py"
    path.write_text("x = ForeignKey(A, unique=True)\n")
    signature = stat_signature(str(path))
    assert signature is not None
    findings = [Finding(str(path), 1, 4, "OTO001", "use OneToOneField", Fix("convert", True), 1, 30)]
    return Cache(str(tmp_path / "cache")), path, signature, content_hash(path.read_bytes()), findings


def test_edits_are_stored_read_back_and_survive_a_reanalysis(tmp_path: Path) -> None:
    cache, path, signature, digest, findings = _setup(tmp_path)
    first = ResultCache(cache, "k", "fp")
    first.record(str(path), signature, digest, findings)
    assert first.cached_edits(str(path)) == {}  # never computed while analysing
    first.store_edits(str(path), {(1, 4, "OTO001", "use OneToOneField"): [EDIT]})
    first.save()
    second = ResultCache(cache, "k", "fp")
    second.lookup(str(path))
    assert second.cached_edits(str(path)) == {(1, 4, "OTO001", "use OneToOneField"): [EDIT]}
    # the same text analysed again (a touched file): its edits still hold
    second.record(str(path), signature, digest, findings)
    assert second.cached_edits(str(path)) == {(1, 4, "OTO001", "use OneToOneField"): [EDIT]}
    # other text: they do not
    second.record(str(path), signature, "another hash", findings)
    assert second.cached_edits(str(path)) == {}


def test_edits_of_a_file_changed_since_its_analysis_are_not_kept(tmp_path: Path) -> None:
    cache, path, signature, digest, findings = _setup(tmp_path)
    results = ResultCache(cache, "k", "fp")
    results.record(str(path), signature, digest, findings)
    path.write_text("x = ForeignKey(B, unique=True)  # changed\n")
    os.utime(path, ns=(1, 1))
    results.store_edits(str(path), {(1, 4, "OTO001", "use OneToOneField"): [EDIT]})
    assert results.cached_edits(str(path)) == {}


def test_a_cache_of_the_old_layout_is_ignored(tmp_path: Path) -> None:
    cache, path, signature, digest, findings = _setup(tmp_path)
    results = ResultCache(cache, "k", "fp")
    old_entry = [signature, digest, [tuple(CachedFinding(1, 4, "OTO001", "m", 1, 30, True, "convert"))[:8]]]
    cache.store(results.name, {"fingerprint": "fp", "files": {os.path.abspath(path): old_entry}})
    assert ResultCache(cache, "k", "fp").entry(str(path)) is None
    cache.store(results.name, {"layout": LAYOUT, "fingerprint": "fp", "files": {os.path.abspath(path): old_entry}})
    assert ResultCache(cache, "k", "fp").entry(str(path)) is None  # 8 fields: another layout
    current = CacheEntry(signature, digest, [CachedFinding(1, 4, "OTO001", "m", 1, 30, True, "c")], (), "", [])
    assert CacheEntry.from_stored(current.stored()) == current


def test_entries_that_read_the_same_files_share_one_list(tmp_path: Path) -> None:
    """A view that read every file charges every file of the project to each entry: the
    list is stored once (``marshal`` references), whatever order the files were read in,
    and an entry stays valid exactly while those files' content hashes are unchanged."""
    cache = Cache(str(tmp_path / "cache"))
    paths = [tmp_path / f"m{i}.py" for i in range(3)]
    for path in paths:
        path.write_text(f"x = {path.stem}\n")
    hashes = {str(path): content_hash(path.read_bytes()) for path in paths}
    first = ResultCache(cache, "k", "fp", hashes)
    for i, path in enumerate(paths):
        read = [str(p) for p in (paths if i % 2 else reversed(paths))]
        first.record(str(path), stat_signature(str(path)), hashes[str(path)], [], set(read))
    first.save()
    files = cache.load(first.name)["files"]
    stored = [files[str(path)][3] for path in paths]
    assert stored[0] == sorted(hashes)
    assert stored[0] is stored[1] is stored[2]  # one list on disk, loaded once
    again = ResultCache(cache, "k", "fp", hashes)
    assert all(again.lookup(str(path))[1] == [] for path in paths)
    changed = ResultCache(cache, "k", "fp", {**hashes, str(paths[2]): "another"})
    assert all(changed.lookup(str(path))[1] is None for path in paths)
