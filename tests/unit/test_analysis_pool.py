"""The analysis pool's children: one per core, so one native (BLAS/OpenMP) thread each."""

from __future__ import annotations

from audotics.workers.analysis import AnalysisRunner, _native_threads


def test_analysis_children_use_one_native_thread() -> None:
    runner = AnalysisRunner(processes=1, timeout_s=60)
    try:
        threads = runner._executor().submit(_native_threads).result(timeout=120)
    finally:
        runner.close()
    assert threads == 1
