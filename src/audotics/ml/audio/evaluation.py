"""Accuracy of content analysis against ground-truth sets (synthetic and MIDI-rendered).

Scoring follows the MIREX conventions:

- tempo is correct within 4 % of the truth; an estimate within 4 % of 2x, 1/2x,
  3x or 1/3x the truth is an octave error, counted separately (never as correct);
- key is exact (tonic and mode), or one of the usual confusions: the relative
  key (C major <-> A minor), a fifth away in the same mode (C -> G or F), the
  parallel key (C major <-> C minor); "key or relative" counts exact + relative;
  the MIREX weighted score gives 1, 0.5 (fifth), 0.3 (relative), 0.2 (parallel);
- loudness is correct within 1 LU of the sidecar's integrated loudness.

``evaluate`` analyses every clip with the given function (in a process pool if
asked) and returns an ``EvaluationReport``: the overall figures, breakdowns by
instrumentation, genre, format and source, and every clip's result.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from audotics.ml.audio import generator, midi_set
from audotics.ml.audio.ground_truth import GroundTruth, read_set
from audotics.ml.audio.patterns import PITCH_CLASSES

TEMPO_TOLERANCE = 0.04
LOUDNESS_TOLERANCE_LU = 1.0
OCTAVE_RATIOS = {"double": 2.0, "half": 0.5, "triple": 3.0, "third": 1.0 / 3.0}
KEY_WEIGHTS = {"exact": 1.0, "fifth": 0.5, "relative": 0.3, "parallel": 0.2}
# The content-analysis issue's targets, per set.
TARGETS = {
    "tempo_accuracy": 0.95,
    "key_exact": 0.85,
    "key_or_relative": 0.95,
    "loudness_within_1lu": 0.95,
}
SETS = ("synthetic", "midi")
DEFAULT_COUNTS = {"synthetic": 200, "midi": 72}

AnalyzeFn = Callable[[Path], Any]  # returns an object with tempo_bpm, key, mode, loudness_lufs


def classify_tempo(estimate: float | None, truth: float, tolerance: float = TEMPO_TOLERANCE) -> str:
    """ "correct", an octave error ("double", "half", "triple", "third"), "other" or "missing"."""
    if estimate is None or estimate <= 0:
        return "missing"
    if abs(estimate / truth - 1.0) <= tolerance:
        return "correct"
    for name, ratio in OCTAVE_RATIOS.items():
        if abs(estimate / (truth * ratio) - 1.0) <= tolerance:
            return name
    return "other"


def classify_key(key: str | None, mode: str | None, true_key: str, true_mode: str) -> str:
    """ "exact", "relative", "fifth", "parallel", "other" or "missing"."""
    if key is None or mode is None or key not in PITCH_CLASSES:
        return "missing"
    interval = (PITCH_CLASSES.index(key) - PITCH_CLASSES.index(true_key)) % 12
    if mode == true_mode:
        if interval == 0:
            return "exact"
        return "fifth" if interval in (5, 7) else "other"
    if interval == 0:
        return "parallel"
    # The relative minor sits 9 semitones above its major; the relative major 3 above.
    if (true_mode == "major" and interval == 9) or (true_mode == "minor" and interval == 3):
        return "relative"
    return "other"


@dataclass(frozen=True)
class Estimate:
    tempo_bpm: float | None = None
    key: str | None = None
    mode: str | None = None
    loudness_lufs: float | None = None
    error: str | None = None  # why the analysis failed, if it did


@dataclass(frozen=True)
class ClipResult:
    truth: GroundTruth
    estimate: Estimate

    @property
    def tempo_class(self) -> str:
        return classify_tempo(self.estimate.tempo_bpm, self.truth.tempo_bpm)

    @property
    def key_class(self) -> str:
        return classify_key(self.estimate.key, self.estimate.mode, self.truth.key, self.truth.mode)

    @property
    def loudness_error_lu(self) -> float | None:
        if self.estimate.loudness_lufs is None or self.truth.loudness_lufs is None:
            return None
        return self.estimate.loudness_lufs - self.truth.loudness_lufs

    @property
    def loudness_ok(self) -> bool:
        error = self.loudness_error_lu
        if error is None:  # silence agrees with silence only
            return self.estimate.loudness_lufs is None and self.truth.loudness_lufs is None
        return abs(error) <= LOUDNESS_TOLERANCE_LU

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.truth.file,
            "truth": {
                "tempo_bpm": self.truth.tempo_bpm,
                "key": self.truth.key,
                "mode": self.truth.mode,
                "loudness_lufs": self.truth.loudness_lufs,
            },
            "estimate": asdict(self.estimate),
            "tempo": self.tempo_class,
            "key": self.key_class,
            "loudness_error_lu": self.loudness_error_lu,
            "instrumentation": list(self.truth.instrumentation),
        }


@dataclass(frozen=True)
class Summary:
    clips: int
    tempo_accuracy: float  # within 4 %
    tempo_octave_errors: dict[str, float]  # share of clips per octave-error kind
    tempo_accuracy_with_octaves: float  # within 4 % of 1, 2, 1/2, 3 or 1/3 x
    key_exact: float
    key_or_relative: float
    key_errors: dict[str, float]  # share of clips: relative, fifth, parallel, other, missing
    key_weighted: float  # MIREX weighted key score
    loudness_within_1lu: float
    loudness_mean_abs_error_lu: float | None
    analysis_failures: int

    @classmethod
    def of(cls, results: list[ClipResult]) -> Summary:
        n = len(results) or 1
        tempo = [r.tempo_class for r in results]
        keys = [r.key_class for r in results]
        errors = [abs(e) for r in results if (e := r.loudness_error_lu) is not None]
        octave = {k: tempo.count(k) / n for k in OCTAVE_RATIOS}
        return cls(
            clips=len(results),
            tempo_accuracy=tempo.count("correct") / n,
            tempo_octave_errors=octave,
            tempo_accuracy_with_octaves=tempo.count("correct") / n + sum(octave.values()),
            key_exact=keys.count("exact") / n,
            key_or_relative=(keys.count("exact") + keys.count("relative")) / n,
            key_errors={
                k: keys.count(k) / n for k in ("relative", "fifth", "parallel", "other", "missing")
            },
            key_weighted=sum(KEY_WEIGHTS.get(k, 0.0) for k in keys) / n,
            loudness_within_1lu=sum(r.loudness_ok for r in results) / n,
            loudness_mean_abs_error_lu=sum(errors) / len(errors) if errors else None,
            analysis_failures=sum(r.estimate.error is not None for r in results),
        )


@dataclass
class EvaluationReport:
    results: list[ClipResult]
    overall: Summary
    breakdowns: dict[str, dict[str, Summary]] = field(default_factory=dict)
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0

    @classmethod
    def of(cls, results: list[ClipResult], wall_seconds: float = 0.0) -> EvaluationReport:
        groups: dict[str, dict[str, list[ClipResult]]] = defaultdict(lambda: defaultdict(list))
        for result in results:
            truth = result.truth
            for tag in truth.instrumentation:
                groups["instrumentation"][tag].append(result)
            for name in ("genre", "format", "style"):
                if name in truth.details:
                    groups[name][str(truth.details[name])].append(result)
            groups["source"][truth.source].append(result)
        breakdowns = {
            name: {value: Summary.of(items) for value, items in sorted(by_value.items())}
            for name, by_value in groups.items()
        }
        return cls(
            results=results,
            overall=Summary.of(results),
            breakdowns=breakdowns,
            audio_seconds=sum(r.truth.duration_s for r in results),
            wall_seconds=wall_seconds,
        )

    def failures(self) -> list[ClipResult]:
        return [
            r
            for r in self.results
            if r.tempo_class != "correct" or r.key_class != "exact" or not r.loudness_ok
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": asdict(self.overall),
            "breakdowns": {
                name: {value: asdict(summary) for value, summary in by_value.items()}
                for name, by_value in self.breakdowns.items()
            },
            "audio_seconds": round(self.audio_seconds, 1),
            "wall_seconds": round(self.wall_seconds, 2),
            "clips": [r.to_dict() for r in self.results],
        }

    def format_table(self, breakdown: str = "instrumentation") -> str:
        """Overall and per-group figures as a fixed-width text table."""
        columns = ("clips", "tempo", "oct", "key", "k+rel", "loud")
        header = f"{'group':28s} " + " ".join(f"{c:>6s}" for c in columns)
        lines = [header, "-" * len(header)]

        def row(label: str, s: Summary) -> str:
            octave = sum(s.tempo_octave_errors.values())
            return (
                f"{label[:28]:28s} {s.clips:6d} {s.tempo_accuracy:6.1%} {octave:6.1%} "
                f"{s.key_exact:6.1%} {s.key_or_relative:6.1%} {s.loudness_within_1lu:6.1%}"
            )

        lines.append(row("all", self.overall))
        for value, summary in self.breakdowns.get(breakdown, {}).items():
            lines.append(row(f"  {value}", summary))
        return "\n".join(lines)


def _estimate(features: Any) -> Estimate:
    return Estimate(
        tempo_bpm=features.tempo_bpm,
        key=features.key,
        mode=features.mode,
        loudness_lufs=features.loudness_lufs,
    )


def _analyze_one(task: tuple[AnalyzeFn, Path]) -> Estimate:
    analyze_fn, path = task
    try:
        return _estimate(analyze_fn(path))
    except Exception as exc:  # a failed analysis is a result to report, not a crash
        return Estimate(error=f"{type(exc).__name__}: {exc}")


def evaluate(
    source: Path | str | Iterable[GroundTruth], analyze_fn: AnalyzeFn, workers: int = 1
) -> EvaluationReport:
    """Analyse every clip of a ground-truth set (a directory of sidecars, or the records).

    With ``workers > 1`` clips are analysed in a process pool, so ``analyze_fn`` must
    be picklable (a module-level function such as ``analysis.analyze_file``).
    """
    truths = read_set(Path(source)) if isinstance(source, str | Path) else list(source)
    started = time.perf_counter()
    tasks = [(analyze_fn, truth.path) for truth in truths]
    if workers <= 1:
        estimates = [_analyze_one(task) for task in tasks]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            estimates = list(pool.map(_analyze_one, tasks, chunksize=2))
    results = [ClipResult(t, e) for t, e in zip(truths, estimates, strict=True)]
    return EvaluationReport.of(results, wall_seconds=time.perf_counter() - started)


def run_sets(
    sets: Iterable[str],
    directory: Path,
    analyze_fn: AnalyzeFn,
    seed: int,
    counts: dict[str, int] | None = None,
    workers: int = 2,
) -> dict[str, EvaluationReport]:
    """Generate each named set afresh under ``directory`` and evaluate it."""
    reports = {}
    for name in sets:
        count = (counts or {}).get(name, DEFAULT_COUNTS[name])
        target = Path(directory) / name
        if name == "synthetic":
            generator.generate_set(target, count, seed, workers=workers)
        elif name == "midi":
            midi_set.generate_set(target, count, seed, workers=workers)
        else:
            raise ValueError(f"unknown set {name!r}; known: {', '.join(SETS)}")
        reports[name] = evaluate(target, analyze_fn, workers=workers)
    return reports


def target_lines(name: str, report: EvaluationReport) -> list[str]:
    """One line per target: the figure, the target and whether it is met."""
    overall = asdict(report.overall)
    return [
        f"{name:10s} {metric:20s} {overall[metric]:6.1%}  target >= {floor:.0%}  "
        + ("ok" if overall[metric] >= floor else "BELOW TARGET")
        for metric, floor in TARGETS.items()
    ]
