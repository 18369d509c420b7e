"""Accuracy harness for the tempo and key estimators (a development tool, not a test).

Writes development sets as ground-truth directories (audio + JSON sidecar, the
format of ``generator.generate_set`` and ``midi_set.generate_set``) and prints the
estimators' accuracy on any such directory, with the failures::

    .venv/bin/python -m tests.unit.audio_estimators.harness write-synth DIR [COUNT]
    .venv/bin/python -m tests.unit.audio_estimators.harness write-midi DIR [COUNT]
    .venv/bin/python -m tests.unit.audio_estimators.harness evaluate DIR [DIR ...]

``fit_models.py`` fits the estimators' weights on the same directories.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from audotics.ml.audio import ground_truth, rhythm, spectral, tonality
from audotics.ml.audio.decode import decode_file
from audotics.ml.audio.evaluation import classify_key, classify_tempo
from audotics.ml.audio.frames import compute_spectrum
from audotics.ml.audio.ground_truth import GroundTruth, read_set
from audotics.ml.audio.synth import PITCH_CLASSES, ClipSpec, render_clip

SAMPLE_RATE = 22_050


def _write(directory: Path, name: str, samples: np.ndarray, truth: dict) -> None:  # type: ignore[type-arg]
    path = directory / f"{name}.wav"
    ground_truth.encode(path, samples, SAMPLE_RATE)
    loudness, duration = ground_truth.measure_file(path)
    GroundTruth(
        file=path.name,
        loudness_lufs=loudness,
        duration_s=round(duration, 3),
        directory=directory,
        **truth,
    ).write()


def write_synth_set(directory: Path, count: int = 120, seed: int = 7) -> None:
    """``synth.render_clip`` clips: all keys, 60-180 BPM, 8-20 s, varied timbre and level."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        spec = ClipSpec(
            tempo_bpm=float(rng.uniform(60, 180)),
            key=PITCH_CLASSES[index % 12],
            mode=("major", "minor")[(index // 12) % 2],
            seconds=float(rng.uniform(8, 20)),
            brightness=float(rng.uniform(0, 1)),
            loudness=float(rng.uniform(0.2, 1.0)),
            seed=index,
        )
        truth = {"source": "synthetic", "tempo_bpm": spec.tempo_bpm, "key": spec.key}
        truth |= {"mode": spec.mode, "instrumentation": ("synth",), "seed": index}
        _write(directory, f"synth{index:04d}", render_clip(spec), truth)


def write_midi_corpus(directory: Path, count: int = 120) -> None:
    """``midi_corpus`` pieces rendered with fluidsynth (needs Debian's fluidsynth + GM font)."""
    from tests.unit.audio_estimators.midi_corpus import compose, render

    directory.mkdir(parents=True, exist_ok=True)
    for seed in range(count):
        midi, piece = compose(seed)
        samples = render(midi, directory / "render", piece.name)
        truth = {"source": "midi", "tempo_bpm": piece.tempo_bpm, "key": piece.key}
        truth |= {"mode": piece.mode, "instrumentation": (piece.style,), "seed": seed}
        _write(directory, piece.name, samples, truth)


def evaluate(directory: Path, verbose: bool = True) -> dict[str, float]:
    tempo: list[str] = []
    keys: list[str] = []
    cpu = 0.0
    for truth in read_set(directory):
        spectrum = compute_spectrum(decode_file(truth.path).samples, SAMPLE_RATE)
        started = time.process_time()
        envelope = spectral.onset_envelope(spectrum)
        chroma = tonality.key_chromagram(spectrum)
        bands, harmonic = rhythm.band_onsets(spectrum), rhythm.harmonic_change(chroma)
        bpm, _ = rhythm.estimate_tempo(envelope, spectrum.frame_rate, bands, harmonic)
        key, mode, _ = tonality.estimate_key(chroma)
        cpu += time.process_time() - started
        tempo.append(classify_tempo(bpm, truth.tempo_bpm))
        keys.append(classify_key(key, mode, truth.key, truth.mode))
        if verbose and (tempo[-1] != "correct" or keys[-1] != "exact"):
            print(
                f"{truth.file:40s} tempo {truth.tempo_bpm:6.1f} -> {bpm or 0:6.1f} ({tempo[-1]})"
                f"  key {truth.key} {truth.mode} -> {key} {mode} ({keys[-1]})"
            )
    count = max(1, len(tempo))
    return {
        "clips": len(tempo),
        "tempo": tempo.count("correct") / count,
        "tempo_octave_errors": sum(t in ("double", "half", "triple", "third") for t in tempo)
        / count,
        "key": keys.count("exact") / count,
        "key_or_relative": (keys.count("exact") + keys.count("relative")) / count,
        "estimator_cpu_s": round(cpu, 2),
    }


def main(argv: list[str]) -> None:
    command, *rest = argv
    if command == "write-synth":
        write_synth_set(Path(rest[0]), int(rest[1]) if len(rest) > 1 else 120)
    elif command == "write-midi":
        write_midi_corpus(Path(rest[0]), int(rest[1]) if len(rest) > 1 else 120)
    else:
        for directory in rest:
            print(directory, evaluate(Path(directory)))


if __name__ == "__main__":
    main(sys.argv[1:])
