"""The runner's process pool: results in input order, whatever the scheduling, and the
work it overlaps with the workers."""

from __future__ import annotations

import os
from pathlib import Path

from o2o_lint.runner import MIN_PARALLEL_ITEMS, _parallel_mapper


def _size_and_pid(path: str) -> tuple[int, int]:
    return os.path.getsize(path), os.getpid()


def _files(tmp_path: Path, count: int) -> list[str]:
    paths = []
    for number in range(count):
        path = tmp_path / f"f{number}.py"
        path.write_text("x = 1\n" * ((number * 7) % 13 + 1))  # sizes out of order
        paths.append(str(path))
    return paths


def test_pool_results_come_back_in_input_order_and_meanwhile_runs_once(tmp_path: Path) -> None:
    paths = _files(tmp_path, MIN_PARALLEL_ITEMS * 3)
    calls: list[int] = []
    results = _parallel_mapper(2, meanwhile=lambda: calls.append(os.getpid()))(_size_and_pid, paths)
    assert [size for size, _ in results] == [os.path.getsize(p) for p in paths]
    assert {pid for _, pid in results} - {os.getpid()}, "no work ran in a worker process"
    assert calls == [os.getpid()]


def test_little_work_stays_in_process_and_skips_meanwhile(tmp_path: Path) -> None:
    paths = _files(tmp_path, MIN_PARALLEL_ITEMS - 1)
    calls: list[int] = []
    results = _parallel_mapper(2, meanwhile=lambda: calls.append(1))(_size_and_pid, paths)
    assert {pid for _, pid in results} == {os.getpid()}
    assert calls == []  # the warm path never pays for the engine's import
