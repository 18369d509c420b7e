"""The latency benchmarks run end to end at a small size (their code stays working);
timings are never asserted, only what the benchmarks compute besides them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench import _report, recommend_latency, similar_latency


@pytest.fixture(autouse=True)
def results_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(_report, "RESULTS", tmp_path)  # keep the real figures untouched
    return tmp_path


def test_similar_latency_compares_the_index_with_the_scan(results_in: Path) -> None:
    # 25k tracks: above the 20k rows from which the seed sides use their index.
    assert similar_latency.main(["--items", "25000", "--users", "500", "--seeds", "20"]) == 0
    figures = json.loads((results_in / "similar_latency.json").read_text())
    assert figures["recall_at_100"] >= 0.95
    assert figures["indexed"]["p50_ms"] > 0 and figures["speedup_p50"] > 0


def test_recommend_latency_measures_engine_brute_force_and_new_listens(results_in: Path) -> None:
    argv = ["--items", "5000", "--users", "500", "--requests", "20", "--http-requests", "0"]
    assert recommend_latency.main(argv) == 0
    figures = json.loads((results_in / "recommend_latency.json").read_text())
    assert figures["ann_recall_at_100"] >= 0.95  # 5000 items: the CF index is in use
    assert figures["new_listen_reflected"] >= 0.9
    assert figures["top10_overlap_with_brute_force"] > 0.5
    assert figures["brute_force"]["p50_ms"] > 0 and figures["speedup_p50"] > 0
