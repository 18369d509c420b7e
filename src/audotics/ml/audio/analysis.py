"""Content analysis entry point: decoded audio -> ``AudioFeatures``, one STFT per track.

Every analyser reads the same ``Spectrum``; tempo and key come from
``rhythm.estimate_tempo`` and ``tonality.estimate_key``. Loudness uses the
power that decoding measured on the original channels (``loudness_power``),
or the mono samples when the caller built ``DecodedAudio`` without it.
Nothing returned is NaN or infinite: an estimator's non-finite answer becomes
"unknown" with a warning.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from audotics.ml.audio import spectral
from audotics.ml.audio.decode import decode_file
from audotics.ml.audio.embedding import embed
from audotics.ml.audio.frames import compute_spectrum
from audotics.ml.audio.loudness import loudness_from_steps, power_steps
from audotics.ml.audio.perceptual import perceptual_scores
from audotics.ml.audio.rhythm import band_onsets, estimate_tempo, harmonic_change
from audotics.ml.audio.tonality import estimate_key, key_chromagram
from audotics.ml.audio.types import ANALYSIS_VERSION, AudioFeatures, DecodedAudio

# Below this the track is treated as silence: no tempo, key or loudness.
SILENCE_PEAK = 10.0 ** (-90.0 / 20.0)


def analyze_file(path: str | Path, **decode_options: Any) -> AudioFeatures:
    """Decode ``path`` (see ``decode.decode_file`` for options) and analyse it."""
    return analyze(decode_file(path, **decode_options))


def analyze(decoded: DecodedAudio) -> AudioFeatures:
    warnings = list(decoded.warnings)
    samples = np.asarray(decoded.samples, dtype=np.float32)
    spectrum = compute_spectrum(samples, decoded.sample_rate)
    summary = spectral.spectral_summary(spectrum, samples)
    envelope = spectral.onset_envelope(spectrum)
    onsets_per_s = spectral.onset_rate(envelope, spectrum.frame_rate)
    mfcc_mean, mfcc_var = spectral.mfcc_statistics(spectrum)
    chroma = spectral.chroma_profile(spectrum)

    steps = decoded.loudness_power
    if steps is None:
        steps = power_steps(samples, decoded.sample_rate)
    loudness = loudness_from_steps(steps)

    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    silent = peak < SILENCE_PEAK or loudness.integrated_lufs is None
    tempo: float | None = None
    tempo_confidence = key_confidence = 0.0
    key: str | None = None
    mode: str | None = None
    if silent:
        warnings.append(
            "the analysed audio is silent (below the -70 LUFS gate): no tempo, key or loudness"
        )
    else:
        key_chroma = key_chromagram(spectrum)
        tempo, tempo_confidence = estimate_tempo(
            envelope, spectrum.frame_rate, band_onsets(spectrum), harmonic_change(key_chroma)
        )
        key, mode, key_confidence = estimate_key(key_chroma)
        if tempo is not None and not (math.isfinite(tempo) and tempo > 0):
            warnings.append(f"tempo estimator returned {tempo!r}: treated as unknown")
            tempo = None
        if key is None or mode is None:
            key = mode = None
    if tempo is None:
        tempo_confidence = 0.0
    if key is None:
        key_confidence = 0.0
    if loudness.range_lu is None and not silent:
        warnings.append("less than 3 s of audio: no loudness range")

    clarity = spectral.pulse_clarity(envelope, spectrum.frame_rate)
    scores = perceptual_scores(
        tempo_bpm=tempo,
        tempo_confidence=tempo_confidence,
        pulse_clarity=clarity,
        mode=mode,
        key_confidence=key_confidence,
        loudness_lufs=loudness.integrated_lufs,
        dynamic_range_lu=loudness.range_lu,
        rms=summary.rms,
        onset_rate=onsets_per_s,
        spectral_centroid_hz=summary.centroid_hz,
        spectral_flatness=summary.flatness,
        harmonic_stability=spectral.harmonic_stability(spectrum),
    )
    features = AudioFeatures(
        analysis_version=ANALYSIS_VERSION,
        duration_s=_finite(decoded.duration_s),
        window={"start_s": decoded.window_start_s, "end_s": decoded.window_end_s},
        tempo_bpm=tempo,
        tempo_confidence=_finite(tempo_confidence),
        key=key,
        mode=mode,
        key_confidence=_finite(key_confidence),
        loudness_lufs=loudness.integrated_lufs,
        dynamic_range_db=loudness.range_lu,
        energy=scores.energy,
        danceability=scores.danceability,
        acousticness=scores.acousticness,
        instrumentalness=scores.instrumentalness,
        valence=scores.valence,
        onset_rate=_finite(onsets_per_s),
        spectral_centroid=_finite(summary.centroid_hz),
        spectral_rolloff=_finite(summary.rolloff_hz),
        spectral_flatness=_finite(summary.flatness),
        spectral_bandwidth=_finite(summary.bandwidth_hz),
        zero_crossing_rate=_finite(summary.zero_crossing_rate),
        chroma=[_finite(value) for value in chroma],
        mfcc_mean=[_finite(value) for value in mfcc_mean],
        mfcc_var=[_finite(value) for value in mfcc_var],
        warnings=warnings,
    )
    features.embedding = [float(value) for value in embed(features)]
    return features


def _finite(value: float) -> float:
    value = float(value)
    return value if math.isfinite(value) else 0.0
