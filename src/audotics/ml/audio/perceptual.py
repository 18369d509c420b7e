"""Perceptual scores in [0, 1] from measured features: a documented heuristic.

These are NOT trained models and not Spotify's definitions; they are fixed,
monotone combinations of measured features, chosen so that the direction of
each score is what a listener expects, and stable across versions. ``ramp(x,
a, b)`` maps ``a`` to 0 and ``b`` to 1 linearly, clamped; missing inputs
(silence: no tempo, key or loudness) take neutral values.

energy          = 0.5 ramp(loudness_lufs, -40, -6) + 0.3 ramp(rms_dbfs, -40, -8)
                  + 0.2 ramp(onset_rate, 0, 6)
                  Loud, dense material is energetic; loudness dominates.
danceability    = 0.3 tempo_fit + 0.3 tempo_confidence + 0.25 pulse_clarity
                  + 0.15 ramp(onset_rate, 0.5, 4)
                  tempo_fit = exp(-(log2(bpm / 118) / 0.45)^2): tempos near 90-150 BPM
                  suit dancing; a clear, steady pulse matters as much as the tempo.
acousticness    = 1 - (0.4 ramp(flatness, 0.005, 0.15) + 0.35 ramp(centroid_hz, 1200, 4000)
                  + 0.25 (1 - ramp(dynamic_range_lu, 3, 15)))
                  Acoustic recordings are tonal (low flatness), darker, and more dynamic
                  than produced electronic or distorted material.
instrumentalness = ramp(harmonic_stability, 0.55, 0.9)
                  A weak cue (see spectral.harmonic_stability): held instrument notes
                  keep the 200-2000 Hz spectrum steady; singing (vibrato, glides,
                  changing vowels) moves it. Not a vocal detector.
valence         = 0.4 mode_term + 0.25 ramp(bpm, 60, 170) + 0.2 ramp(centroid_hz, 800, 3500)
                  + 0.15 energy
                  mode_term = 0.5 +/- 0.5 key_confidence (major +, minor -), 0.5 unknown.
                  Major, fast and bright music sounds happier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PerceptualScores:
    energy: float
    danceability: float
    acousticness: float
    instrumentalness: float
    valence: float


def ramp(value: float | None, low: float, high: float, default: float = 0.0) -> float:
    """``low`` -> 0, ``high`` -> 1, linear between, clamped; ``default`` for None/NaN."""
    if value is None or not math.isfinite(value):
        return default
    return min(1.0, max(0.0, (value - low) / (high - low)))


def _unit(value: float) -> float:
    return min(1.0, max(0.0, value)) if math.isfinite(value) else 0.0


def energy_score(loudness_lufs: float | None, rms: float, onset_rate: float) -> float:
    rms_dbfs = 20.0 * math.log10(rms) if rms > 0 and math.isfinite(rms) else None
    return _unit(
        0.5 * ramp(loudness_lufs, -40.0, -6.0)
        + 0.3 * ramp(rms_dbfs, -40.0, -8.0)
        + 0.2 * ramp(onset_rate, 0.0, 6.0)
    )


def perceptual_scores(
    *,
    tempo_bpm: float | None,
    tempo_confidence: float,
    pulse_clarity: float,
    mode: str | None,
    key_confidence: float,
    loudness_lufs: float | None,
    dynamic_range_lu: float | None,
    rms: float,
    onset_rate: float,
    spectral_centroid_hz: float,
    spectral_flatness: float,
    harmonic_stability: float,
) -> PerceptualScores:
    energy = energy_score(loudness_lufs, rms, onset_rate)
    if tempo_bpm is not None and tempo_bpm > 0 and math.isfinite(tempo_bpm):
        tempo_fit = math.exp(-((math.log2(tempo_bpm / 118.0) / 0.45) ** 2))
    else:
        tempo_fit = 0.0
    danceability = (
        0.3 * tempo_fit
        + 0.3 * _unit(tempo_confidence)
        + 0.25 * _unit(pulse_clarity)
        + 0.15 * ramp(onset_rate, 0.5, 4.0)
    )
    acousticness = 1.0 - (
        0.4 * ramp(spectral_flatness, 0.005, 0.15)
        + 0.35 * ramp(spectral_centroid_hz, 1200.0, 4000.0)
        + 0.25 * (1.0 - ramp(dynamic_range_lu, 3.0, 15.0, default=0.5))
    )
    instrumentalness = ramp(harmonic_stability, 0.55, 0.9)
    certainty = _unit(key_confidence)
    mode_term = {"major": 0.5 + 0.5 * certainty, "minor": 0.5 - 0.5 * certainty}.get(
        mode or "", 0.5
    )
    valence = (
        0.4 * mode_term
        + 0.25 * ramp(tempo_bpm, 60.0, 170.0, default=0.3)
        + 0.2 * ramp(spectral_centroid_hz, 800.0, 3500.0)
        + 0.15 * energy
    )
    return PerceptualScores(
        energy=energy,
        danceability=_unit(danceability),
        acousticness=_unit(acousticness),
        instrumentalness=_unit(instrumentalness),
        valence=_unit(valence),
    )
