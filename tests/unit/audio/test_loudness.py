"""BS.1770-4 integrated loudness against pyloudnorm, and the EBU loudness range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from audotics.ml.audio.decode import decode_file
from audotics.ml.audio.loudness import (
    k_weighting_sos,
    loudness_from_steps,
    measure_loudness,
    power_steps,
)
from audotics.ml.audio.synth import ClipSpec, render_clip


def _signals(rate: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(rate)
    t = np.arange(7 * rate) / rate
    gate = (np.sin(2 * np.pi * 0.3 * t) > 0.5).astype(np.float64)
    return {
        "sine": 0.3 * np.sin(2 * np.pi * 997 * t),
        "stereo noise": np.stack(
            [0.1 * rng.standard_normal(t.size), 0.05 * rng.standard_normal(t.size)], axis=1
        ),
        "music": render_clip(ClipSpec(100, "D", "major", seconds=7, sample_rate=rate)).astype(
            np.float64
        ),
        "bursts over near-silence": 0.5 * np.sin(2 * np.pi * 220 * t) * gate
        + 1e-5 * rng.standard_normal(t.size),
        "quiet bass": 0.01 * np.sin(2 * np.pi * 45 * t),
    }


@pytest.mark.parametrize("rate", [44_100, 48_000])
def test_integrated_loudness_matches_pyloudnorm(rate: int) -> None:
    meter = pyloudnorm.Meter(rate)
    for name, signal in _signals(rate).items():
        ours = measure_loudness(signal, rate).integrated_lufs
        theirs = meter.integrated_loudness(signal)
        assert ours is not None, name
        assert abs(ours - theirs) < 0.1, (name, ours, theirs)


def test_standard_coefficients_and_calibration_at_48k() -> None:
    # BS.1770-4 table 1 and 2 coefficients.
    expected = [
        [
            1.53512485958697,
            -2.69169618940638,
            1.19839281085285,
            1.0,
            -1.69065929318241,
            0.73248077421585,
        ],
        [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621],
    ]
    np.testing.assert_allclose(k_weighting_sos(48_000), expected, atol=1e-9)
    # A full-scale 997 Hz sine on one channel reads -3.01 LUFS.
    t = np.arange(5 * 48_000) / 48_000
    assert measure_loudness(np.sin(2 * np.pi * 997 * t), 48_000).integrated_lufs == pytest.approx(
        -3.01, abs=0.01
    )


def test_channels_add_power_not_amplitude() -> None:
    rate = 44_100
    mono = 0.2 * np.sin(2 * np.pi * 500 * np.arange(4 * rate) / rate)
    one = measure_loudness(mono, rate).integrated_lufs
    two = measure_loudness(np.stack([mono, mono], axis=1), rate).integrated_lufs
    assert one is not None and two is not None
    assert two - one == pytest.approx(10 * np.log10(2), abs=0.01)


def test_decoding_measures_stereo_loudness_before_mixdown(tmp_path: Path) -> None:
    rate = 44_100
    music = render_clip(ClipSpec(96, "F", "minor", seconds=6, sample_rate=rate))
    stereo = np.stack([music, 0.7 * music], axis=1)
    path = tmp_path / "stereo.flac"
    sf.write(path, stereo, rate, subtype="PCM_24")
    decoded = decode_file(path)
    assert decoded.loudness_power is not None
    from_file = loudness_from_steps(decoded.loudness_power).integrated_lufs
    reference = pyloudnorm.Meter(rate).integrated_loudness(stereo.astype(np.float64))
    assert from_file is not None and abs(from_file - reference) < 0.1


def test_digital_silence_has_no_loudness() -> None:
    silence = np.zeros(5 * 22_050)
    result = measure_loudness(silence, 22_050)
    assert result.integrated_lufs is None and result.range_lu is None
    below_gate = 1e-6 * np.sin(np.arange(5 * 22_050))  # about -123 LUFS
    assert measure_loudness(below_gate, 22_050).integrated_lufs is None


def test_gating_ignores_quiet_passages() -> None:
    rate = 22_050
    loud = 0.3 * np.sin(2 * np.pi * 1000 * np.arange(5 * rate) / rate)
    with_gap = np.concatenate([loud, np.zeros(20 * rate), loud])
    gated = measure_loudness(with_gap, rate).integrated_lufs
    alone = measure_loudness(loud, rate).integrated_lufs
    assert gated is not None and alone is not None
    # Ungated, the 20 s gap would pull the mean power down by 10 log10(30 / 10) = 4.8 LU;
    # only the blocks that straddle the edges of the gap count a little.
    assert abs(gated - alone) < 0.3


def test_loudness_range_of_two_levels() -> None:
    rate = 22_050
    t = np.arange(20 * rate) / rate
    loud = 0.5 * np.sin(2 * np.pi * 1000 * t)
    signal = np.concatenate([loud, loud * 10 ** (-10 / 20)])  # 20 s at X, 20 s at X - 10 LU
    result = measure_loudness(signal, rate)
    assert result.range_lu == pytest.approx(10.0, abs=0.5)
    steady = measure_loudness(loud, rate)
    assert steady.range_lu is not None and steady.range_lu < 0.1


def test_short_signals_still_measure_and_have_no_range() -> None:
    rate = 22_050
    blip = 0.3 * np.sin(2 * np.pi * 1000 * np.arange(int(0.25 * rate)) / rate)
    result = measure_loudness(blip, rate)
    assert result.integrated_lufs is not None and np.isfinite(result.integrated_lufs)
    assert result.range_lu is None
    assert power_steps(np.zeros(0), rate).size == 0


@pytest.mark.parametrize("rate", [8_000, 44_100, 44_099, 48_000, 96_000])
@pytest.mark.parametrize("length", [1, 31, 32, 33, 4_410, 100_003])
def test_block_k_weighting_matches_the_sample_recursion(rate: int, length: int) -> None:
    from scipy.signal import sosfilt

    from audotics.ml.audio.loudness import k_weight

    rng = np.random.default_rng(length)
    signal = rng.standard_normal((2, length)).astype(np.float32)
    # A 30 Hz tone stopping half-way: the slow RLB high-pass states carry across blocks.
    t = np.arange(length) / rate
    signal[1] = (0.5 * np.sin(2 * np.pi * 30 * t) * (t < t[-1] / 2)).astype(np.float32)
    expected = sosfilt(k_weighting_sos(rate), signal.astype(np.float64), axis=1)
    filtered = k_weight(signal, rate)
    assert filtered.shape == signal.shape and filtered.dtype == np.float32
    scale = np.abs(expected).max(axis=1, keepdims=True) + 1e-12
    assert float(np.max(np.abs(filtered - expected) / scale)) < 1e-4
