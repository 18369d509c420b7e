"""Decoding: every format, resampling, bounded windows of long files, hostile input."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audotics.ml.audio import decode
from audotics.ml.audio.analysis import analyze_file
from audotics.ml.audio.decode import AudioDecodeError, decode_array, decode_bytes, decode_file
from audotics.ml.audio.types import ANALYSIS_SAMPLE_RATE
from tests.support.servers import unavailable

FORMATS = {
    "wav": ("WAV", "PCM_16", 44_100),
    "flac": ("FLAC", "PCM_16", 44_100),
    "ogg": ("OGG", "VORBIS", 44_100),
    "opus": ("OGG", "OPUS", 48_000),
    "mp3": ("MP3", "MPEG_LAYER_III", 44_100),
}


def tone(freq: float, seconds: float, sample_rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_frequency(samples: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1.0 / sample_rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("extension", sorted(FORMATS))
def test_each_format_decodes_to_mono_at_the_analysis_rate(tmp_path: Path, extension: str) -> None:
    container, subtype, rate = FORMATS[extension]
    if container not in sf.available_formats():
        unavailable(f"libsndfile {sf.__libsndfile_version__} cannot write {container}")
    left, right = tone(440.0, 3.0, rate), tone(440.0, 3.0, rate, amplitude=0.2)
    path = tmp_path / f"clip.{extension}"
    sf.write(path, np.stack([left, right], axis=1), rate, format=container, subtype=subtype)

    decoded = decode_file(path)

    assert decoded.sample_rate == ANALYSIS_SAMPLE_RATE
    assert decoded.samples.ndim == 1 and decoded.samples.dtype == np.float32
    assert decoded.channels == 2 and decoded.source_sample_rate == rate
    assert decoded.format.split("/")[0] == container.lower()
    assert decoded.duration_s == pytest.approx(3.0, abs=0.1)
    assert decoded.window_start_s == 0.0
    assert decoded.window_end_s == pytest.approx(decoded.duration_s, abs=0.1)
    assert abs(dominant_frequency(decoded.samples, decoded.sample_rate) - 440.0) < 3.0
    # Mono is the mean of the channels: (0.5 + 0.2) / 2 peak.
    assert float(np.max(np.abs(decoded.samples))) == pytest.approx(0.35, abs=0.04)
    assert decoded.loudness_power is not None and decoded.loudness_power.size >= 29
    from_memory = decode_bytes(path.read_bytes(), name=path.name)
    np.testing.assert_allclose(from_memory.samples, decoded.samples, atol=1e-6)


@pytest.mark.parametrize("source_rate", [8_000, 32_000, 44_100, 48_000, 96_000, 44_099])
def test_resampling_preserves_a_tones_frequency(source_rate: int) -> None:
    decoded = decode_array(tone(1000.0, 2.0, source_rate), source_rate)
    assert decoded.sample_rate == ANALYSIS_SAMPLE_RATE
    assert decoded.samples.size == pytest.approx(2.0 * ANALYSIS_SAMPLE_RATE, abs=2)
    assert abs(dominant_frequency(decoded.samples, decoded.sample_rate) - 1000.0) < 1.0


def test_a_long_file_is_read_only_in_its_centred_window(tmp_path: Path) -> None:
    rate, minutes = 4_000, 30
    total = minutes * 60 * rate
    window_s = 120.0
    start = (total - int(window_s * rate)) // 2
    path = tmp_path / "long.flac"
    # Silence everywhere except a tone exactly inside the centred window.
    marker = tone(200.0, window_s, rate)
    with sf.SoundFile(path, "w", rate, 1, format="FLAC", subtype="PCM_16") as out:
        block = np.zeros(rate * 60, dtype=np.float32)
        written = 0
        while written < start:
            out.write(block[: min(block.size, start - written)])
            written += min(block.size, start - written)
        out.write(marker)
        written += marker.size
        while written < total:
            out.write(block[: min(block.size, total - written)])
            written += min(block.size, total - written)

    decoded = decode_file(path, max_window_s=window_s)

    assert decoded.duration_s == pytest.approx(minutes * 60.0)
    assert decoded.window_start_s == pytest.approx(start / rate)
    assert decoded.window_end_s - decoded.window_start_s == pytest.approx(window_s)
    assert decoded.samples.size == pytest.approx(window_s * ANALYSIS_SAMPLE_RATE, abs=2)
    # The window holds the marker tone from its first to its last second: it was read there.
    rms = [float(np.sqrt(np.mean(s**2))) for s in np.array_split(decoded.samples, 120)]
    assert min(rms[1:-1]) > 0.3


def test_short_audio_is_decoded_with_a_warning() -> None:
    decoded = decode_array(tone(440.0, 0.3, 22_050), 22_050)
    assert decoded.samples.size == pytest.approx(0.3 * 22_050, abs=1)
    assert any("0.30 s" in warning for warning in decoded.warnings)


def test_non_finite_samples_are_replaced_and_reported(tmp_path: Path) -> None:
    samples = tone(440.0, 2.0, 22_050)
    samples[100:200] = np.nan
    samples[300] = np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, samples, 22_050, subtype="FLOAT")
    decoded = decode_file(path)
    assert np.isfinite(decoded.samples).all()
    assert any("101 non-finite" in warning for warning in decoded.warnings)


def test_absurd_float_levels_are_rescaled() -> None:
    decoded = decode_array(tone(440.0, 1.5, 22_050) * 1e30, 22_050)
    assert np.isfinite(decoded.samples).all()
    assert float(np.max(np.abs(decoded.samples))) <= 1.01
    assert any("rescaled" in warning for warning in decoded.warnings)


def test_clipping_is_reported() -> None:
    decoded = decode_array(np.clip(tone(440.0, 2.0, 22_050) * 8, -1, 1), 22_050)
    assert any("clipped" in warning for warning in decoded.warnings)


def test_decode_bytes_reads_an_in_memory_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.flac"
    sf.write(path, tone(330.0, 2.0, 44_100), 44_100)
    decoded = decode_bytes(path.read_bytes(), name="clip.flac")
    assert abs(dominant_frequency(decoded.samples, decoded.sample_rate) - 330.0) < 3.0


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("empty.wav", b"", "empty"),
        ("notes.mp3", b"this is a text file, renamed\n" * 200, "unrecognised-format"),
        ("notes.wav", b"RIFF but not really a wave file\n" * 50, "unrecognised-format"),
        (
            "random.flac",
            bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)),
            None,
        ),
    ],
)
def test_non_audio_is_rejected_with_a_reason(
    tmp_path: Path, name: str, content: bytes, code: str | None
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioDecodeError) as caught:
        decode_file(path)
    assert caught.value.reason and name in caught.value.reason
    if code is not None:
        assert caught.value.code == code
    with pytest.raises(AudioDecodeError):
        decode_bytes(content, name=name)


def test_missing_file_is_a_decode_error(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError) as caught:
        decode_file(tmp_path / "absent.flac")
    assert caught.value.code == "missing"


@pytest.mark.parametrize("extension", ["flac", "ogg", "wav", "mp3"])
def test_truncated_files_fail_cleanly_or_decode_what_exists(tmp_path: Path, extension: str) -> None:
    container, subtype, rate = FORMATS[extension]
    whole = tmp_path / f"whole.{extension}"
    sf.write(whole, tone(440.0, 5.0, rate), rate, format=container, subtype=subtype)
    cut = tmp_path / f"cut.{extension}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    try:
        decoded = decode_file(cut)
    except AudioDecodeError as error:
        assert error.code in {"corrupt", "truncated", "unrecognised-format"}
        assert "cut." in error.reason
    else:
        assert 0 < decoded.samples.size < 5.0 * ANALYSIS_SAMPLE_RATE
        assert np.isfinite(decoded.samples).all()


def test_eight_hours_of_silence_costs_one_window(tmp_path: Path) -> None:
    """A sparse WAV file declaring 8 hours of 16-bit silence: only the window is read."""
    rate, seconds = 8_000, 8 * 3600
    data_bytes = rate * seconds * 2
    path = tmp_path / "eight-hours.wav"
    header = b"".join(
        [
            b"RIFF",
            struct.pack("<I", 36 + data_bytes),
            b"WAVEfmt ",
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16),
            b"data",
            struct.pack("<I", data_bytes),
        ]
    )
    with path.open("wb") as handle:
        handle.write(header)
        handle.truncate(len(header) + data_bytes)  # a hole: no data is written

    features = analyze_file(path)

    assert features.duration_s == pytest.approx(seconds)
    assert features.window["start_s"] == pytest.approx((seconds - 120.0) / 2)
    assert features.window["end_s"] == pytest.approx((seconds + 120.0) / 2)
    assert features.tempo_bpm is None and features.loudness_lufs is None
    assert any("silent" in warning for warning in features.warnings)


def test_many_channels_shrink_the_window_to_bound_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(decode, "MAX_WINDOW_SAMPLES", 4 * 22_050)  # one second of 4 channels
    path = tmp_path / "quad.wav"
    sf.write(path, np.tile(tone(440.0, 3.0, 22_050)[:, None], (1, 4)), 22_050)
    decoded = decode_file(path)
    assert decoded.channels == 4
    assert decoded.window_end_s - decoded.window_start_s == pytest.approx(1.0)
    assert decoded.window_start_s == pytest.approx(1.0)
    assert any("bound memory" in warning for warning in decoded.warnings)


@pytest.mark.parametrize("length", [1, 2, 47, 48, 49, 1_000, 88_201])
def test_halving_matches_resample_poly(length: int) -> None:
    from scipy.signal import resample_poly

    signal = np.random.default_rng(length).standard_normal(length).astype(np.float32)
    halved = decode._resample(signal, 44_100, 22_050)
    expected = resample_poly(signal.astype(np.float64), 1, 2)
    assert halved.shape == expected.shape and halved.dtype == np.float32
    np.testing.assert_allclose(halved, expected, atol=1e-5)


def test_sixteen_bit_files_decode_to_the_same_samples_as_a_float_read(tmp_path: Path) -> None:
    rate = 44_100
    stereo = np.stack([tone(440.0, 2.0, rate), tone(660.0, 2.0, rate, 0.3)], axis=1)
    path = tmp_path / "clip.wav"
    sf.write(path, stereo, rate, subtype="PCM_16")
    decoded = decode_file(path)
    as_float, _ = sf.read(path, dtype="float32", always_2d=True)
    reference = decode_array(as_float, rate)
    np.testing.assert_array_equal(decoded.samples, reference.samples)
    assert decoded.loudness_power is not None and reference.loudness_power is not None
    np.testing.assert_array_equal(decoded.loudness_power, reference.loudness_power)
