"""Spectral shape, onsets, MFCCs and chroma on signals whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from audotics.ml.audio import spectral
from audotics.ml.audio.frames import compute_spectrum

RATE = 22_050


def tone(freq: float, seconds: float = 3.0, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def midi_hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def test_c_major_triad_chroma_peaks_on_c_e_g() -> None:
    # C3 E3 G3 plus an octave of C, with a few harmonics, like a real instrument.
    notes = (48, 52, 55, 60)
    signal = sum(tone(midi_hz(n) * h, amplitude=0.2 / h) for n in notes for h in (1, 2, 3))
    spectrum = compute_spectrum(signal, RATE)
    profile = spectral.chroma_profile(spectrum)
    assert profile.shape == (12,) and profile.sum() == pytest.approx(1.0)
    assert set(np.argsort(profile)[-3:]) == {0, 4, 7}
    frames = spectral.chromagram(spectrum)
    assert frames.shape == (12, spectrum.frames)
    assert np.argmax(frames[:, spectrum.frames // 2]) in {0, 4, 7}


def test_low_notes_map_to_their_pitch_class() -> None:
    # A1 (55 Hz) and B1 (61.7 Hz) are less than one STFT bin from their neighbours.
    for note, pitch_class in ((33, 9), (35, 11), (40, 4)):
        profile = spectral.chroma_profile(compute_spectrum(tone(midi_hz(note)), RATE))
        assert int(np.argmax(profile)) == pitch_class


def test_silence_gives_a_uniform_chroma_and_zero_shape() -> None:
    spectrum = compute_spectrum(np.zeros(RATE * 2, dtype=np.float32), RATE)
    np.testing.assert_allclose(spectral.chroma_profile(spectrum), np.full(12, 1 / 12))
    summary = spectral.spectral_summary(spectrum, np.zeros(RATE * 2, dtype=np.float32))
    assert summary.centroid_hz == 0.0 and summary.rms == 0.0
    assert not spectral.onset_envelope(spectrum).any()
    assert spectral.onset_rate(spectral.onset_envelope(spectrum), spectrum.frame_rate) == 0.0


def test_shape_of_a_tone_and_of_noise() -> None:
    sine = tone(1000.0)
    summary = spectral.spectral_summary(compute_spectrum(sine, RATE), sine)
    assert summary.centroid_hz == pytest.approx(1000.0, rel=0.03)
    assert summary.rolloff_hz == pytest.approx(1000.0, rel=0.05)
    assert summary.bandwidth_hz < 100.0
    assert summary.flatness < 0.01
    assert summary.zero_crossing_rate == pytest.approx(2 * 1000.0 / RATE, rel=0.01)
    assert summary.rms == pytest.approx(0.3 / np.sqrt(2), rel=0.02)

    noise = np.random.default_rng(0).standard_normal(RATE * 3).astype(np.float32) * 0.1
    loud = spectral.spectral_summary(compute_spectrum(noise, RATE), noise)
    assert loud.flatness > 0.5
    assert loud.centroid_hz == pytest.approx(RATE / 4, rel=0.05)
    assert loud.rolloff_hz == pytest.approx(0.85 * RATE / 2, rel=0.05)


def test_onsets_of_a_click_track() -> None:
    signal = np.zeros(RATE * 10, dtype=np.float32)
    burst = np.random.default_rng(1).standard_normal(400).astype(np.float32)
    burst *= np.exp(-np.arange(400) / 80.0).astype(np.float32)
    for start in range(RATE // 4, signal.size - 400, RATE // 2):  # two clicks a second
        signal[start : start + 400] += burst
    spectrum = compute_spectrum(signal, RATE)
    envelope = spectral.onset_envelope(spectrum)
    assert envelope.shape == (spectrum.frames,) and (envelope >= 0).all()
    assert spectral.onset_rate(envelope, spectrum.frame_rate) == pytest.approx(2.0, abs=0.15)
    assert spectral.pulse_clarity(envelope, spectrum.frame_rate) > 0.5
    steady = compute_spectrum(tone(440.0, 10.0), RATE)
    assert spectral.pulse_clarity(spectral.onset_envelope(steady), steady.frame_rate) < 0.5


def test_mfccs_describe_the_spectral_envelope() -> None:
    low, high = tone(200.0), tone(4000.0)
    low_mean, low_var = spectral.mfcc_statistics(compute_spectrum(low, RATE))
    high_mean, _ = spectral.mfcc_statistics(compute_spectrum(high, RATE))
    assert low_mean.shape == (13,) and low_var.shape == (13,)
    assert np.isfinite(low_mean).all() and (low_var >= 0).all()
    # The first cepstral slope coefficient is larger when energy sits low in the spectrum.
    assert low_mean[1] > high_mean[1]
    coefficients = spectral.mfcc(compute_spectrum(low, RATE))
    assert coefficients.shape[0] == 13


def test_harmonic_stability_prefers_held_notes_over_noise() -> None:
    held = compute_spectrum(tone(330.0, 6.0) + tone(495.0, 6.0), RATE)
    noise = np.random.default_rng(2).standard_normal(RATE * 6).astype(np.float32)
    assert spectral.harmonic_stability(held) > spectral.harmonic_stability(
        compute_spectrum(noise, RATE)
    )
