"""The analyze entry point: composition, silence, hostile signals, perceptual scores."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audotics.ml.audio.analysis import analyze, analyze_file
from audotics.ml.audio.decode import AudioDecodeError, decode_array
from audotics.ml.audio.perceptual import perceptual_scores
from audotics.ml.audio.synth import ClipSpec, render_clip
from audotics.ml.audio.types import ANALYSIS_VERSION, EMBEDDING_DIM, AudioFeatures

RATE = 22_050


def assert_all_finite(features: AudioFeatures) -> None:
    for name, value in features.to_dict().items():
        values = value if isinstance(value, list) else [value]
        if isinstance(value, dict):
            values = list(value.values())
        for item in values:
            if isinstance(item, float):
                assert math.isfinite(item), (name, item)
    for name in ("energy", "danceability", "acousticness", "instrumentalness", "valence"):
        assert 0.0 <= getattr(features, name) <= 1.0, name
    assert len(features.embedding) == EMBEDDING_DIM
    assert np.linalg.norm(features.embedding) == pytest.approx(1.0, abs=1e-5)
    assert len(features.chroma) == 12 and sum(features.chroma) == pytest.approx(1.0)
    assert len(features.mfcc_mean) == 13 and len(features.mfcc_var) == 13


def test_a_rendered_clip_is_analysed_completely(tmp_path: Path) -> None:
    spec = ClipSpec(tempo_bpm=120.0, key="A", mode="minor", seconds=12.0, sample_rate=44_100)
    path = tmp_path / "clip.flac"
    sf.write(path, render_clip(spec), 44_100)

    features = analyze_file(path)

    assert features.analysis_version == ANALYSIS_VERSION
    assert features.duration_s == pytest.approx(12.0, abs=0.05)
    assert features.window == {"start_s": 0.0, "end_s": pytest.approx(12.0, abs=0.05)}
    assert features.tempo_bpm is not None and abs(features.tempo_bpm / 120.0 - 1) < 0.04
    assert (features.key, features.mode) == ("A", "minor")
    assert features.loudness_lufs is not None and -40 < features.loudness_lufs < 0
    assert features.dynamic_range_db is not None
    assert features.onset_rate > 0.5
    assert 50.0 < features.spectral_centroid < 5000.0
    assert features.warnings == []
    assert_all_finite(features)


def test_decode_options_pass_through(tmp_path: Path) -> None:
    path = tmp_path / "clip.wav"
    sf.write(path, render_clip(ClipSpec(100.0, "C", "major", seconds=10.0)), RATE)
    features = analyze_file(path, max_window_s=4.0)
    assert features.window["start_s"] == pytest.approx(3.0, abs=0.01)
    assert features.window["end_s"] == pytest.approx(7.0, abs=0.01)
    assert features.duration_s == pytest.approx(10.0)


def test_silence_has_no_tempo_key_or_loudness() -> None:
    features = analyze(decode_array(np.zeros(RATE * 5, dtype=np.float32), RATE))
    assert features.tempo_bpm is None and features.key is None and features.mode is None
    assert features.loudness_lufs is None and features.dynamic_range_db is None
    assert features.tempo_confidence == 0.0 and features.key_confidence == 0.0
    assert any("silent" in warning for warning in features.warnings)
    assert_all_finite(features)


def test_hostile_files_never_crash_the_caller(tmp_path: Path) -> None:
    text = tmp_path / "song.mp3"
    text.write_text("not audio\n" * 100)
    with pytest.raises(AudioDecodeError):
        analyze_file(text)
    nan = tmp_path / "nan.wav"
    samples = render_clip(ClipSpec(90.0, "E", "major", seconds=4.0))
    samples[::7] = np.nan
    sf.write(nan, samples, RATE, subtype="FLOAT")
    features = analyze_file(nan)
    assert_all_finite(features)
    assert any("non-finite" in warning for warning in features.warnings)


signals = st.one_of(
    st.builds(  # white noise of random length and level, maybe clipped
        lambda n, level, seed, clip: np.clip(
            np.random.default_rng(seed).standard_normal(n) * level, -clip, clip
        ),
        st.integers(1, RATE * 3),
        st.floats(0.0, 50.0),
        st.integers(0, 2**16),
        st.floats(0.01, 1.0),
    ),
    st.builds(lambda n: np.zeros(n), st.integers(1, RATE * 2)),
    st.builds(  # square waves: full-scale, maximal clipping
        lambda n, period: np.where((np.arange(n) // period) % 2 == 0, 1.0, -1.0),
        st.integers(1, RATE * 2),
        st.integers(1, 400),
    ),
    st.lists(
        st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=3000
    ).map(np.array),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples=signals, rate=st.sampled_from([8_000, 22_050, 44_100]))
def test_any_short_signal_analyses_to_finite_values(samples: np.ndarray, rate: int) -> None:
    features = analyze(decode_array(samples.astype(np.float32), rate))
    assert_all_finite(features)
    if features.tempo_bpm is not None:
        assert 0 < features.tempo_bpm < 1000


def test_perceptual_scores_are_bounded_and_move_the_right_way() -> None:
    common = {
        "tempo_confidence": 0.8,
        "pulse_clarity": 0.6,
        "key_confidence": 0.9,
        "dynamic_range_lu": 6.0,
        "rms": 0.1,
        "onset_rate": 3.0,
        "spectral_centroid_hz": 2000.0,
        "spectral_flatness": 0.02,
        "harmonic_stability": 0.8,
    }
    happy = perceptual_scores(tempo_bpm=128.0, mode="major", loudness_lufs=-8.0, **common)
    sad = perceptual_scores(tempo_bpm=62.0, mode="minor", loudness_lufs=-25.0, **common)
    assert happy.valence > sad.valence
    assert happy.energy > sad.energy
    assert happy.danceability > sad.danceability
    extremes = [
        perceptual_scores(
            tempo_bpm=value,
            tempo_confidence=value,
            pulse_clarity=value,
            mode=None,
            key_confidence=value,
            loudness_lufs=value,
            dynamic_range_lu=value,
            rms=value,
            onset_rate=value,
            spectral_centroid_hz=value,
            spectral_flatness=value,
            harmonic_stability=value,
        )
        for value in (-1e9, 0.0, 1e9, float("nan"), float("inf"))
    ]
    for scores in extremes:
        for score in vars(scores).values():
            assert 0.0 <= score <= 1.0
