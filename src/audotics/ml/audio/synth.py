"""A small, deterministic music renderer for demo tracks.

Each clip is a real piece of music with known ground truth: a kick on every
beat at ``tempo_bpm``, a bass line on the tonic and fifth, and a chord pad
cycling I-V-vi-IV (major) or i-VI-III-VII (minor) in ``key``. The content
analysis issue measures its analysers against these parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Scale degrees (semitones above the tonic) of each chord in the progression.
_MAJOR_PROGRESSION = ((0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12))
_MINOR_PROGRESSION = ((0, 3, 7), (8, 12, 15), (3, 7, 10), (10, 14, 17))


@dataclass(frozen=True)
class ClipSpec:
    tempo_bpm: float
    key: str
    mode: str  # "major" | "minor"
    seconds: float = 8.0
    sample_rate: int = 22_050
    brightness: float = 0.5  # 0 = pure sines, 1 = rich harmonics
    loudness: float = 0.5  # peak level, 0..1
    seed: int = 0


def _midi_to_hz(note: float) -> float:
    return float(440.0 * 2.0 ** ((note - 69) / 12))


def _tone(freq: float, n: int, sr: int, brightness: float) -> np.ndarray:
    t = np.arange(n) / sr
    wave = np.sin(2 * np.pi * freq * t)
    for harmonic in (2, 3, 4):
        wave += (brightness / harmonic) * np.sin(2 * np.pi * freq * harmonic * t)
    return wave


def render_clip(spec: ClipSpec) -> np.ndarray:
    """Mono float32 samples in [-1, 1]."""
    if spec.key not in PITCH_CLASSES or spec.mode not in ("major", "minor"):
        raise ValueError(f"unknown key/mode {spec.key} {spec.mode}")
    rng = np.random.default_rng(spec.seed)
    sr = spec.sample_rate
    total = int(spec.seconds * sr)
    out = np.zeros(total, dtype=np.float64)
    beat = 60.0 / spec.tempo_bpm
    tonic = 48 + PITCH_CLASSES.index(spec.key)  # C3 region
    progression = _MAJOR_PROGRESSION if spec.mode == "major" else _MINOR_PROGRESSION

    # Chord pad: one chord per bar of four beats, soft attack and release.
    bar = int(4 * beat * sr)
    for start in range(0, total, bar):
        length = min(bar, total - start)
        chord = progression[(start // bar) % len(progression)]
        envelope = np.minimum(1.0, np.arange(length) / (0.05 * sr))
        envelope *= np.minimum(1.0, (length - np.arange(length)) / (0.1 * sr))
        pad = sum(_tone(_midi_to_hz(tonic + 12 + d), length, sr, spec.brightness) for d in chord)
        out[start : start + length] += 0.12 * envelope * pad

    # Kick on every beat and a bass note on each beat alternating tonic and fifth.
    step = int(beat * sr)
    kick_len = min(step, int(0.12 * sr))
    t = np.arange(kick_len) / sr
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-t * 30)) * t) * np.exp(-t * 25)
    for index, start in enumerate(range(0, total - kick_len, step)):
        out[start : start + kick_len] += 0.6 * kick
        note = tonic - 12 + (0 if index % 2 == 0 else 7)
        length = min(step, total - start)
        decay = np.exp(-np.arange(length) / (0.25 * sr))
        out[start : start + length] += 0.25 * decay * _tone(_midi_to_hz(note), length, sr, 0.3)

    out += 0.002 * rng.standard_normal(total)  # a little noise, like a real recording
    peak = float(np.max(np.abs(out))) or 1.0
    return (out / peak * max(0.05, min(1.0, spec.loudness))).astype(np.float32)
