"""A fixed-length sound embedding computed from stored features (no model, no fitting).

``embed(features)`` depends only on fields of ``AudioFeatures``, so the
embedding can be recomputed from a stored row. Each feature is put on a
comparable scale with fixed constants ``(value - centre) / scale``, clipped
to +/-4, chosen once from the spread of varied music (synthetic sets and
typical values of real recordings); each group is then weighted by
``weight / sqrt(dimensions)`` so that a group's influence does not grow with
its size, and the vector is L2-normalised. Cosine similarity is the measure.

Layout (EMBEDDING_DIM = 64):

====  ======================================  ======
dims  group                                   weight
====  ======================================  ======
0-12  MFCC means (timbre, spectral envelope)  1.0
13-25 MFCC standard deviations (log)          0.7
26-37 chroma, rotated so the tonic is bin 0   0.7
38-39 key on the circle of fifths x conf.     0.35
40-44 log centroid/rolloff/flatness/bandwidth, log ZCR  0.8
45-49 tempo: log2(bpm/120), octave-invariant
      phase (cos, sin) x conf., confidence,
      log onset rate                          0.7
50-51 mode (+major/-minor) x conf., key conf. 0.3
52-53 loudness, loudness range                0.4
54-58 energy, danceability, acousticness,
      instrumentalness, valence               0.6
59-63 reserved (zero) for later features      -
====  ======================================  ======

Choices: chroma is rotated to the detected key so that the same harmony in
another key looks alike (the key itself is a separate, lighter group; minor
keys sit at their relative major on the circle of fifths); tempo is on a log
scale, with an octave-invariant phase so that 70 and 140 BPM are close in
that part; an unknown tempo or key contributes zeros.
"""

from __future__ import annotations

import math

import numpy as np

from audotics.ml.audio.types import EMBEDDING_DIM, AudioFeatures

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
RESERVED_DIMS = 5
_CLIP = 4.0

# (centre, scale) per MFCC coefficient: means, then log standard deviations.
# Measured on varied synthetic music (the demo generator's genres, the simple renderer,
# noise, tones) and rounded; see the module docstring.
MFCC_MEAN_SCALE = (
    (-100.0, 80.0),
    (60.0, 35.0),
    (5.0, 16.0),
    (5.0, 8.0),
    (5.0, 8.0),
    (0.0, 8.0),
    (0.0, 8.0),
    (0.0, 8.0),
    (0.0, 8.0),
    (0.0, 8.0),
    (0.0, 7.0),
    (0.0, 5.0),
    (0.0, 5.0),
)
MFCC_LOG_STD_SCALE = ((3.3, 0.9), (2.7, 0.7), (2.6, 0.6)) + ((2.0, 0.6),) * 10
SPECTRAL_SCALE = {
    "centroid": (math.log(1800.0), 0.7),
    "rolloff": (math.log(3000.0), 0.9),
    "flatness": (math.log(0.005), 2.0),
    "bandwidth": (math.log(1900.0), 0.8),
    "zcr": (math.log(0.08), 0.6),
}
LOUDNESS_SCALE = (-14.0, 6.0)
RANGE_SCALE = (3.0, 4.0)
TEMPO_OCTAVE_SCALE = (0.0, 0.5)
ONSET_SCALE = (1.2, 0.5)

GROUP_WEIGHTS = {
    "mfcc_mean": 1.0,
    "mfcc_std": 0.7,
    "chroma": 0.7,
    "key": 0.35,
    "spectral": 0.8,
    "rhythm": 0.7,
    "tonal": 0.3,
    "loudness": 0.4,
    "perceptual": 0.6,
}


def _standard(value: float, centre_scale: tuple[float, float]) -> float:
    centre, scale = centre_scale
    if not math.isfinite(value):
        return 0.0
    return max(-_CLIP, min(_CLIP, (value - centre) / scale))


def _log(value: float, floor: float) -> float:
    return math.log(max(value, floor)) if math.isfinite(value) else math.log(floor)


def _padded(values: list[float], size: int) -> list[float]:
    values = [float(v) if math.isfinite(v) else 0.0 for v in values[:size]]
    return values + [0.0] * (size - len(values))


def feature_groups(features: AudioFeatures) -> dict[str, np.ndarray]:
    """The standardised, unweighted groups of the embedding, in layout order."""
    means = _padded(features.mfcc_mean, 13)
    variances = _padded(features.mfcc_var, 13)
    tonic = PITCH_CLASSES.index(features.key) if features.key in PITCH_CLASSES else None
    key_confidence = min(1.0, max(0.0, features.key_confidence)) if tonic is not None else 0.0

    chroma = np.asarray(_padded(features.chroma, 12))
    if tonic is not None:
        chroma = np.roll(chroma, -tonic)
    chroma = np.clip(chroma * 12.0 - 1.0, -_CLIP, _CLIP)  # uniform chroma -> zeros

    key = np.zeros(2)
    if tonic is not None:
        major_tonic = tonic if features.mode != "minor" else (tonic + 3) % 12
        angle = 2.0 * math.pi * ((major_tonic * 7) % 12) / 12.0
        key = key_confidence * np.array([math.cos(angle), math.sin(angle)])

    tempo = features.tempo_bpm
    rhythm = np.zeros(5)
    onsets = math.log1p(max(0.0, features.onset_rate)) if math.isfinite(features.onset_rate) else 0
    rhythm[4] = _standard(onsets, ONSET_SCALE)
    if tempo is not None and tempo > 0 and math.isfinite(tempo):
        octaves = math.log2(tempo / 120.0)
        confidence = min(1.0, max(0.0, features.tempo_confidence))
        rhythm[0] = _standard(octaves, TEMPO_OCTAVE_SCALE)
        rhythm[1] = confidence * math.cos(2.0 * math.pi * octaves)
        rhythm[2] = confidence * math.sin(2.0 * math.pi * octaves)
        rhythm[3] = 2.0 * confidence - 1.0

    mode_sign = {"major": 1.0, "minor": -1.0}.get(features.mode or "", 0.0)
    loudness = features.loudness_lufs if features.loudness_lufs is not None else -70.0
    loudness_range = features.dynamic_range_db if features.dynamic_range_db is not None else 0.0
    return {
        "mfcc_mean": np.array(
            [_standard(v, s) for v, s in zip(means, MFCC_MEAN_SCALE, strict=True)]
        ),
        "mfcc_std": np.array(
            [
                _standard(0.5 * math.log(max(v, 0.0) + 1.0), s)
                for v, s in zip(variances, MFCC_LOG_STD_SCALE, strict=True)
            ]
        ),
        "chroma": chroma,
        "key": key,
        "spectral": np.array(
            [
                _standard(_log(features.spectral_centroid, 20.0), SPECTRAL_SCALE["centroid"]),
                _standard(_log(features.spectral_rolloff, 20.0), SPECTRAL_SCALE["rolloff"]),
                _standard(_log(features.spectral_flatness, 1e-6), SPECTRAL_SCALE["flatness"]),
                _standard(_log(features.spectral_bandwidth, 20.0), SPECTRAL_SCALE["bandwidth"]),
                _standard(_log(features.zero_crossing_rate, 1e-4), SPECTRAL_SCALE["zcr"]),
            ]
        ),
        "rhythm": rhythm,
        "tonal": np.array([mode_sign * key_confidence, 2.0 * key_confidence - 1.0]),
        "loudness": np.array(
            [_standard(loudness, LOUDNESS_SCALE), _standard(loudness_range, RANGE_SCALE)]
        ),
        "perceptual": np.array(
            [
                2.0 * features.energy - 1.0,
                2.0 * features.danceability - 1.0,
                2.0 * features.acousticness - 1.0,
                2.0 * features.instrumentalness - 1.0,
                2.0 * features.valence - 1.0,
            ]
        ),
    }


def embed(features: AudioFeatures) -> np.ndarray:
    """The L2-normalised float32 embedding (``EMBEDDING_DIM`` values) of ``features``."""
    parts = []
    for name, values in feature_groups(features).items():
        weight = GROUP_WEIGHTS[name] / math.sqrt(values.size)
        parts.append(np.nan_to_num(values, nan=0.0, posinf=_CLIP, neginf=-_CLIP) * weight)
    vector = np.concatenate([*parts, np.zeros(RESERVED_DIMS)])
    assert vector.size == EMBEDDING_DIM, vector.size
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        vector[0] = 1.0  # cannot happen with the fixed centres; keeps the unit norm promise
        norm = 1.0
    return (vector / norm).astype(np.float32)


def cosine_similarity(first: np.ndarray | list[float], second: np.ndarray | list[float]) -> float:
    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / denominator) if denominator > 0 else 0.0
