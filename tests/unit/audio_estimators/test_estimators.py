"""Tempo and key estimators on rendered music with known ground truth, and edge cases."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest

from audotics.ml.audio import rhythm, spectral, tonality
from audotics.ml.audio.frames import compute_spectrum
from audotics.ml.audio.synth import PITCH_CLASSES, ClipSpec, render_clip

SR = 22_050


@dataclass(frozen=True)
class Result:
    bpm: float | None
    tempo_confidence: float
    key: str | None
    mode: str | None
    key_confidence: float


def analyse(samples: np.ndarray, bands: bool = True) -> Result:
    spectrum = compute_spectrum(np.asarray(samples, dtype=np.float32), SR)
    envelope = spectral.onset_envelope(spectrum)
    chroma = tonality.key_chromagram(spectrum)
    band_envelopes = rhythm.band_onsets(spectrum) if bands else None
    harmonic = rhythm.harmonic_change(chroma) if bands else None
    bpm, tempo_confidence = rhythm.estimate_tempo(
        envelope, spectrum.frame_rate, band_envelopes, harmonic
    )
    key, mode, key_confidence = tonality.estimate_key(chroma)
    return Result(bpm, tempo_confidence, key, mode, key_confidence)


def tempo_ok(estimate: float | None, truth: float) -> bool:
    return estimate is not None and abs(estimate / truth - 1.0) <= 0.04


def relative_key(key: str, mode: str) -> tuple[str, str]:
    shift = -3 if mode == "major" else 3
    return PITCH_CLASSES[(PITCH_CLASSES.index(key) + shift) % 12], (
        "minor" if mode == "major" else "major"
    )


def synth_specs(count: int = 48) -> list[ClipSpec]:
    """All 24 keys twice, tempi spread over 60-180 BPM, varied timbre, length and level."""
    rng = np.random.default_rng(2024)
    return [
        ClipSpec(
            tempo_bpm=float(rng.uniform(60, 180)),
            key=PITCH_CLASSES[index % 12],
            mode=("major", "minor")[(index // 12) % 2],
            seconds=float(rng.uniform(8, 14)),
            brightness=float(rng.uniform(0, 1)),
            loudness=float(rng.uniform(0.2, 1.0)),
            seed=index,
        )
        for index in range(count)
    ]


@pytest.fixture(scope="module")
def synth_results() -> list[tuple[ClipSpec, Result]]:
    return [(spec, analyse(render_clip(spec))) for spec in synth_specs()]


def test_synth_set_meets_the_tempo_target(synth_results: list[tuple[ClipSpec, Result]]) -> None:
    correct = [tempo_ok(r.bpm, spec.tempo_bpm) for spec, r in synth_results]
    assert len(correct) >= 40
    assert np.mean(correct) >= 0.95, [
        (spec.tempo_bpm, r.bpm)
        for (spec, r), ok in zip(synth_results, correct, strict=True)
        if not ok
    ]


def test_synth_set_meets_the_key_targets(synth_results: list[tuple[ClipSpec, Result]]) -> None:
    exact = [(r.key, r.mode) == (s.key, s.mode) for s, r in synth_results]
    either = [
        ok or (r.key, r.mode) == relative_key(s.key, s.mode)
        for ok, (s, r) in zip(exact, synth_results, strict=True)
    ]
    assert np.mean(exact) >= 0.85
    assert np.mean(either) >= 0.95


def test_estimates_stay_in_their_ranges(synth_results: list[tuple[ClipSpec, Result]]) -> None:
    for _, result in synth_results:
        assert result.bpm is not None and 40.0 <= result.bpm <= 240.0
        assert 0.0 <= result.tempo_confidence <= 1.0
        assert result.key in PITCH_CLASSES and result.mode in ("major", "minor")
        assert 0.0 <= result.key_confidence <= 1.0


def test_silence_has_no_tempo_and_no_key() -> None:
    result = analyse(np.zeros(10 * SR))
    assert result.bpm is None and result.tempo_confidence == 0.0
    assert result.key is None and result.mode is None and result.key_confidence == 0.0


def test_white_noise_has_no_tempo_and_a_doubtful_key() -> None:
    noise = 0.1 * np.random.default_rng(5).standard_normal(20 * SR)
    result = analyse(noise)
    assert result.bpm is None or result.tempo_confidence < 0.2
    assert result.key_confidence < 0.3


def test_too_short_or_degenerate_envelopes_give_no_tempo() -> None:
    assert rhythm.estimate_tempo(np.ones(20), 43.0) == (None, 0.0)
    assert rhythm.estimate_tempo(np.full(2000, np.nan), 43.0) == (None, 0.0)
    assert tonality.estimate_key(np.zeros((12, 100))) == (None, None, 0.0)
    assert tonality.estimate_key(np.ones((7, 100))) == (None, None, 0.0)


def click_track(bpm: float, seconds: float = 20.0, ramp: float = 0.0) -> np.ndarray:
    """Equal clicks; with ``ramp`` the tempo glides from (1 - ramp) to (1 + ramp) x bpm."""
    length = int(0.02 * SR)
    t = np.arange(length) / SR
    click = np.sin(2 * np.pi * 1000 * t) * np.exp(-t / 0.003)
    out = 1e-4 * np.random.default_rng(0).standard_normal(int(seconds * SR))
    position = 0.0
    while position < seconds - 0.05:
        start = int(position * SR)
        out[start : start + length] += 0.5 * click
        position += 60.0 / (bpm * (1.0 - ramp + 2.0 * ramp * position / seconds))
    return out


@pytest.mark.parametrize("bpm", [90.0, 180.0])
def test_click_track_in_the_right_octave(bpm: float) -> None:
    result = analyse(click_track(bpm))
    assert tempo_ok(result.bpm, bpm), result.bpm


def test_tempo_ramp_of_three_percent_stays_within_four() -> None:
    assert tempo_ok(analyse(click_track(100.0, ramp=0.03)).bpm, 100.0)
    drifting = render_clip(ClipSpec(tempo_bpm=124.0, key="D", mode="major", seconds=12.0))
    # Stretch time by a linear +-3 % warp: the beat period glides across the clip.
    n = drifting.size
    progress = np.linspace(0.0, 1.0, n)
    source = np.cumsum(0.97 + 0.06 * progress)
    source *= (n - 1) / source[-1]
    warped = np.interp(source, np.arange(n), drifting)
    assert tempo_ok(analyse(warped).bpm, 124.0)


def test_works_without_band_envelopes() -> None:
    spec = ClipSpec(tempo_bpm=110.0, key="E", mode="minor", seconds=12.0)
    assert tempo_ok(analyse(render_clip(spec), bands=False).bpm, 110.0)


def tones(chords: list[tuple[int, ...]], seconds: float, repeats: int) -> np.ndarray:
    parts = []
    t = np.arange(int(seconds * SR)) / SR
    fade = np.minimum(1.0, (t.size - np.arange(t.size)) / (0.05 * SR))
    for _ in range(repeats):
        for chord in chords:
            freqs = [440.0 * 2 ** ((note - 69) / 12) for note in chord]
            wave = sum(np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t) for f in freqs)
            parts.append(0.1 * wave * fade)
    return np.concatenate(parts)


def test_c_major_chords_and_scale_are_c_major() -> None:
    cadence = [(48, 60, 64, 67), (53, 65, 69, 72), (55, 62, 67, 71), (48, 60, 64, 67)]
    result = analyse(tones(cadence, 1.0, 4))
    assert (result.key, result.mode) == ("C", "major")
    scale = [(n,) for n in (60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60)]
    result = analyse(tones(scale, 0.5, 3))
    assert (result.key, result.mode) == ("C", "major")


def test_a_minor_chords_are_a_minor() -> None:
    cadence = [(45, 57, 60, 64), (50, 62, 65, 69), (52, 64, 68, 71), (45, 57, 60, 64)]
    result = analyse(tones(cadence, 1.0, 4))
    assert (result.key, result.mode) == ("A", "minor")
    assert result.key_confidence > 0.5


def test_key_is_transposition_invariant() -> None:
    base = ClipSpec(tempo_bpm=100.0, key="C", mode="minor", seconds=10.0)
    for key in ("C", "F#", "A#"):
        result = analyse(render_clip(replace(base, key=key)))
        assert (result.key, result.mode) == (key, "minor")


@pytest.fixture(scope="module")
def generator_results() -> list[tuple[Any, Result]]:
    """The project's ground-truth generator (drums, bass, pads, lead; 10 genres), in memory."""
    from audotics.ml.audio import generator
    from audotics.ml.audio.decode import decode_array

    specs = [replace(spec, duration_s=10.0) for spec in generator.draw_set(24, seed=99)]
    return [
        (spec, analyse(decode_array(generator.render(spec), spec.sample_rate).samples))
        for spec in specs
    ]


def test_generator_clips_meet_the_key_target(generator_results: list[tuple[Any, Result]]) -> None:
    """Ten-second excerpts carry less evidence than the 12-20 s evaluation clips, so the key
    bar here is a little lower than the evaluation target."""
    exact = [(r.key, r.mode) == (spec.key, spec.mode) for spec, r in generator_results]
    assert np.mean(exact) >= 0.8


def test_generator_clips_meet_a_tempo_floor(
    generator_results: list[tuple[Any, Result]],
) -> None:
    """Ten-second excerpts: 22/24 with the bass and chord-change candidate families (21/24
    with the harmonic stream alone, 24/24 before it). The evaluation-length clips meet the
    95 % target (tests/integration/test_audio_accuracy.py)."""
    tempo = [tempo_ok(r.bpm, spec.tempo_bpm) for spec, r in generator_results]
    assert np.mean(tempo) >= 0.85
