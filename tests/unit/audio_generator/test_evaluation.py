"""Evaluation metrics on hand-made analysis results."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from audotics.ml.audio.evaluation import classify_key, classify_tempo, evaluate
from audotics.ml.audio.ground_truth import GroundTruth


@pytest.mark.parametrize(
    ("estimate", "expected"),
    [
        (120.0, "correct"),
        (124.7, "correct"),  # +3.9 %
        (115.3, "correct"),  # -3.9 %
        (125.0, "other"),  # +4.2 %
        (240.0, "double"),
        (60.5, "half"),
        (360.0, "triple"),
        (40.0, "third"),
        (180.0, "other"),  # 3/2 is a metrical error, not an octave error
        (None, "missing"),
        (0.0, "missing"),
    ],
)
def test_tempo_classes(estimate: float | None, expected: str) -> None:
    assert classify_tempo(estimate, 120.0) == expected


@pytest.mark.parametrize(
    ("estimate", "truth", "expected"),
    [
        (("C", "major"), ("C", "major"), "exact"),
        (("A", "minor"), ("C", "major"), "relative"),
        (("C", "major"), ("A", "minor"), "relative"),
        (("F#", "minor"), ("A", "major"), "relative"),
        (("G", "major"), ("C", "major"), "fifth"),
        (("F", "major"), ("C", "major"), "fifth"),
        (("E", "minor"), ("A", "minor"), "fifth"),
        (("C", "minor"), ("C", "major"), "parallel"),
        (("A", "major"), ("A", "minor"), "parallel"),
        (("E", "minor"), ("C", "major"), "other"),
        (("D", "major"), ("C", "major"), "other"),
        (("C", "minor"), ("A", "minor"), "other"),  # wrong tonic, not the relative
        ((None, None), ("C", "major"), "missing"),
        (("H", "major"), ("C", "major"), "missing"),
    ],
)
def test_key_classes(estimate: tuple[Any, Any], truth: tuple[str, str], expected: str) -> None:
    assert classify_key(*estimate, *truth) == expected


def _truth(
    directory: Path, index: int, tempo: float, key: str, mode: str, tags: tuple[str, ...]
) -> GroundTruth:
    audio = directory / f"clip-{index}.wav"
    audio.write_bytes(b"not audio: the analysis below reads the estimate file")
    truth = GroundTruth(
        file=audio.name, source="synthetic", tempo_bpm=tempo, key=key, mode=mode,
        loudness_lufs=-14.0, duration_s=10.0, instrumentation=tags, seed=index,
        details={"genre": "house" if index % 2 else "folk", "format": "wav"}, directory=directory,
    )  # fmt: skip
    truth.write()
    return truth


def analyze_from_estimate_file(path: Path) -> SimpleNamespace:
    """A picklable stand-in analyser: reads ``<clip>.estimate`` written by the test."""
    data = json.loads(path.with_suffix(".estimate").read_text())
    if data.get("fail"):
        raise ValueError("cannot decode")
    return SimpleNamespace(**data)


def _write_estimate(truth: GroundTruth, **values: Any) -> None:
    truth.path.with_suffix(".estimate").write_text(json.dumps(values))


@pytest.fixture
def hand_made_set(tmp_path: Path) -> Path:
    """Ten clips with known outcomes: 6 right, one each of double/half/other tempo, one failure."""
    drums, no_drums = ("drums:909", "bass:fm_bass"), ("no drums", "bass:sine_bass")
    estimates: list[dict[str, Any]] = [
        dict(tempo_bpm=120.0, key="C", mode="major", loudness_lufs=-14.2),
        dict(tempo_bpm=121.0, key="C", mode="major", loudness_lufs=-13.5),
        dict(tempo_bpm=119.0, key="A", mode="minor", loudness_lufs=-14.0),  # relative
        dict(tempo_bpm=118.0, key="G", mode="major", loudness_lufs=-14.0),  # fifth
        dict(tempo_bpm=240.0, key="C", mode="major", loudness_lufs=-14.0),  # double
        dict(
            tempo_bpm=60.0, key="C", mode="minor", loudness_lufs=-16.0
        ),  # half, parallel, loud err
        dict(tempo_bpm=100.0, key="C", mode="major", loudness_lufs=-14.0),  # other tempo
        dict(tempo_bpm=120.0, key="C", mode="major", loudness_lufs=-14.9),
        dict(tempo_bpm=120.0, key="C", mode="major", loudness_lufs=-15.1),  # loudness 1.1 LU off
        dict(fail=True),
    ]
    for index, estimate in enumerate(estimates):
        truth = _truth(tmp_path, index, 120.0, "C", "major", drums if index < 5 else no_drums)
        _write_estimate(truth, **estimate)
    return tmp_path


@pytest.mark.parametrize("workers", [1, 2])
def test_report_counts_each_kind_of_error(hand_made_set: Path, workers: int) -> None:
    report = evaluate(hand_made_set, analyze_from_estimate_file, workers=workers)
    overall = report.overall
    assert overall.clips == 10 and overall.analysis_failures == 1
    assert overall.tempo_accuracy == pytest.approx(0.6)
    assert overall.tempo_octave_errors == {"double": 0.1, "half": 0.1, "triple": 0.0, "third": 0.0}
    assert overall.tempo_accuracy_with_octaves == pytest.approx(0.8)
    assert overall.key_exact == pytest.approx(0.6)
    assert overall.key_or_relative == pytest.approx(0.7)
    assert overall.key_errors == pytest.approx(
        {"relative": 0.1, "fifth": 0.1, "parallel": 0.1, "other": 0.0, "missing": 0.1}
    )
    assert overall.key_weighted == pytest.approx((6 * 1.0 + 0.3 + 0.5 + 0.2) / 10)
    assert overall.loudness_within_1lu == pytest.approx(0.7)
    failed = [r for r in report.results if r.estimate.error]
    assert len(failed) == 1 and "cannot decode" in (failed[0].estimate.error or "")

    drums = report.breakdowns["instrumentation"]["drums:909"]
    assert drums.clips == 5 and drums.tempo_accuracy == pytest.approx(0.8)
    assert report.breakdowns["instrumentation"]["no drums"].clips == 5
    assert set(report.breakdowns["genre"]) == {"house", "folk"}
    assert len(report.failures()) == 7


def test_report_serialises_and_prints(hand_made_set: Path) -> None:
    report = evaluate(hand_made_set, analyze_from_estimate_file)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["overall"]["tempo_accuracy"] == pytest.approx(0.6)
    assert len(data["clips"]) == 10 and data["clips"][4]["tempo"] == "double"
    table = report.format_table()
    assert table.splitlines()[2].split()[:3] == ["all", "10", "60.0%"]
    assert "drums:909" in table and "no drums" in table


def test_evaluate_accepts_records_instead_of_a_directory(hand_made_set: Path) -> None:
    truths = [GroundTruth.read(p) for p in sorted(hand_made_set.glob("*.json"))][:3]
    report = evaluate(truths, analyze_from_estimate_file)
    assert report.overall.clips == 3 and report.overall.key_exact == pytest.approx(2 / 3)
