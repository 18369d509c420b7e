"""Decode audio files into the mono analysis signal, reading at most a bounded window.

Formats are whatever libsndfile reads (WAV, FLAC, OGG Vorbis/Opus, MP3 with
libsndfile >= 1.1, AIFF, ...), recognised by content, not by file name.

A file longer than ``max_window_s`` is analysed on a window of that length
centred in the file, which skips quiet intros and fade-outs; only the window
is read from disk (a seek, then one read), so an 8-hour file costs what a
2-minute one does.

Loudness is measured here, on the window's original channels at the source
rate, before mixdown and resampling (BS.1770 sums channel powers; a mono mix of
correlated stereo would read 3 dB low): ``DecodedAudio.loudness_power`` carries
the K-weighted power per 100 ms for ``loudness.loudness_from_steps``.

Anything that cannot be decoded raises ``AudioDecodeError`` with a reason code
and a message; recoverable oddities (NaN samples, clipping, a file shorter than
its header says, very short audio) become warnings on the result.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from scipy.signal import firwin, resample, resample_poly

from audotics.ml.audio.loudness import power_steps
from audotics.ml.audio.types import ANALYSIS_SAMPLE_RATE, DecodedAudio
from audotics.problems import Unprocessable

SHORT_AUDIO_S = 1.0
# Float files may legitimately exceed full scale a little; beyond this they are corrupt.
MAX_PLAUSIBLE_PEAK = 16.0
CLIPPED_LEVEL = 0.999
CLIPPED_FRACTION = 0.01
# Rational resampling factors above this would build enormous polyphase filters.
MAX_POLYPHASE_FACTOR = 4096
# At most this many samples (all channels) are read: 256 MB of float32.
MAX_WINDOW_SAMPLES = 2**26
_HALF_LENGTH = 20  # resample_poly's filter half-length for a factor of 2
_HALVING_BLOCK = 24  # output samples per block: at least _HALF_LENGTH; 24 measured fastest
_HALVING_SEGMENT = 2048  # blocks mixed down and filtered at a time (~400 KB of stereo input)
_INT16_SUBTYPES = frozenset({"PCM_16", "PCM_S8", "PCM_U8"})


class AudioDecodeError(Unprocessable):
    """The input is not decodable audio; ``code`` is a short machine-readable reason."""

    slug, title = "undecodable-audio", "Audio could not be decoded"

    def __init__(self, reason: str, *, code: str = "undecodable") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def decode_file(
    path: str | Path,
    *,
    target_sr: int = ANALYSIS_SAMPLE_RATE,
    max_window_s: float = 120.0,
) -> DecodedAudio:
    """Decode ``path`` to mono float32 at ``target_sr``, at most ``max_window_s`` of it."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioDecodeError(f"cannot read {path.name}: {exc.strerror}", code="missing") from exc
    if not path.is_file():
        raise AudioDecodeError(f"{path.name} is not a regular file", code="missing")
    if size == 0:
        raise AudioDecodeError(f"{path.name} is empty (0 bytes)", code="empty")
    return _decode(str(path), path.name, target_sr=target_sr, max_window_s=max_window_s)


def decode_bytes(
    data: bytes,
    *,
    name: str = "audio",
    target_sr: int = ANALYSIS_SAMPLE_RATE,
    max_window_s: float = 120.0,
) -> DecodedAudio:
    """Like ``decode_file`` for an in-memory file (e.g. an object fetched from storage)."""
    if not data:
        raise AudioDecodeError(f"{name} is empty (0 bytes)", code="empty")
    return _decode(io.BytesIO(data), name, target_sr=target_sr, max_window_s=max_window_s)


def decode_array(
    samples: np.ndarray,
    sample_rate: int,
    *,
    target_sr: int = ANALYSIS_SAMPLE_RATE,
    source_format: str = "array",
) -> DecodedAudio:
    """Prepare in-memory samples, ``(n,)`` or ``(n, channels)``, exactly as a decoded file."""
    data = np.asarray(samples)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[1] == 0 or not np.issubdtype(data.dtype, np.number):
        raise AudioDecodeError(
            f"expected samples shaped (n,) or (n, channels), got {data.shape}", code="invalid"
        )
    _check_rate(sample_rate, source_format)
    if data.shape[0] == 0:
        raise AudioDecodeError(f"{source_format} holds no audio frames", code="empty")
    return _prepare(
        data.astype(np.float32),
        sample_rate,
        target_sr=target_sr,
        duration_s=data.shape[0] / sample_rate,
        window_start_s=0.0,
        source_format=source_format,
        warnings=[],
    )


def _check_rate(sample_rate: int, name: str) -> None:
    if not 1_000 <= sample_rate <= 768_000:
        raise AudioDecodeError(
            f"{name} declares an implausible sample rate of {sample_rate} Hz", code="invalid"
        )


def _decode(source: Any, name: str, *, target_sr: int, max_window_s: float) -> DecodedAudio:
    if max_window_s <= 0:
        raise ValueError("max_window_s must be positive")
    try:
        soundfile = sf.SoundFile(source)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioDecodeError(
            f"{name} is not a recognised audio file ({_libsndfile_message(exc)})",
            code="unrecognised-format",
        ) from exc
    with soundfile:
        sample_rate, declared = soundfile.samplerate, soundfile.frames
        _check_rate(sample_rate, name)
        source_format = soundfile.format.lower()
        if soundfile.format == "OGG":
            source_format += "/" + soundfile.subtype.lower()
        window_frames = math.ceil(max_window_s * sample_rate)
        channels = max(1, soundfile.channels)
        warnings: list[str] = []
        if window_frames * channels > MAX_WINDOW_SAMPLES:  # e.g. 64 channels at 384 kHz
            window_frames = MAX_WINDOW_SAMPLES // channels
            warnings.append(
                f"{channels} channels at {sample_rate} Hz: analysing "
                f"{window_frames / sample_rate:.1f} s to bound memory"
            )
        start = 0
        if 0 < declared < 2**62 and declared > window_frames and soundfile.seekable():
            start = (declared - window_frames) // 2
        # 8- and 16-bit sources are read as int16 and scaled here: the same values as
        # libsndfile's float conversion (which divides by 32768 too), ten times faster for WAV.
        integer = soundfile.subtype in _INT16_SUBTYPES
        try:
            if start:
                soundfile.seek(start)
            data = soundfile.read(
                window_frames, dtype="int16" if integer else "float32", always_2d=True
            )
        except (sf.SoundFileError, RuntimeError, ValueError) as exc:
            raise AudioDecodeError(
                f"{name} is corrupt or truncated ({_libsndfile_message(exc)})", code="corrupt"
            ) from exc
    if data.shape[0] == 0:
        declared_s = (
            f"declares {declared / sample_rate:.1f} s of audio but " if declared > 0 else ""
        )
        raise AudioDecodeError(
            f"{name} {declared_s}holds no decodable audio (truncated or corrupt?)",
            code="truncated",
        )
    duration_s = max(declared, 0) / sample_rate
    expected = min(window_frames, max(declared - start, 0))
    if data.shape[0] < 0.99 * expected:
        warnings.append(
            f"decoded {data.shape[0] / sample_rate:.1f} s where the header declares "
            f"{expected / sample_rate:.1f} s: the file looks truncated"
        )
        if start == 0:
            duration_s = data.shape[0] / sample_rate
    duration_s = max(duration_s, data.shape[0] / sample_rate)
    peak: float | None = None
    if integer:  # finite and within full scale by construction; the peak is cheap on int16
        peak = max(int(data.max()), -int(data.min())) / 32768.0
        data = np.multiply(data, np.float32(1.0 / 32768.0), dtype=np.float32)
    return _prepare(
        data,
        sample_rate,
        target_sr=target_sr,
        duration_s=duration_s,
        window_start_s=start / sample_rate,
        source_format=source_format,
        warnings=warnings,
        peak=peak,
    )


def _libsndfile_message(exc: Exception) -> str:
    message = str(exc)
    # libsndfile's wording for unrecognised content that has an mp3 name is misleading.
    if "does not exist or is not a regular file" in message:
        return "no audio stream found"
    return message.split(": ", 1)[-1] or type(exc).__name__


def _prepare(
    data: np.ndarray,
    sample_rate: int,
    *,
    target_sr: int,
    duration_s: float,
    window_start_s: float,
    source_format: str,
    warnings: list[str],
    peak: float | None = None,
) -> DecodedAudio:
    """Sanitise ``(n, channels)`` float32 samples, measure loudness, mix down and resample.

    ``peak``: the samples' known peak (they came from integers, so they are finite and
    within full scale); None to check and measure them here.
    """
    if target_sr <= 0:
        raise ValueError("target_sr must be positive")
    if peak is None:
        data, peak = _sanitise(data, warnings)
    frames, channels = data.shape
    seconds = frames / sample_rate
    if seconds < SHORT_AUDIO_S:
        warnings.append(f"only {seconds:.2f} s of audio: features are unreliable")
    if peak >= CLIPPED_LEVEL:
        clipped = np.count_nonzero(np.abs(data) >= CLIPPED_LEVEL)
        if clipped > CLIPPED_FRACTION * data.size:
            warnings.append(f"{100.0 * clipped / data.size:.1f}% of samples are clipped")
    loudness_power = power_steps(data, sample_rate)
    if sample_rate == 2 * target_sr:  # 44.1 -> 22.05 kHz: mixdown and filter together
        samples = _halve(data)
    else:
        # A matrix-vector product: numpy's mean over a short axis of a tall array is slow.
        mono = data[:, 0] if channels == 1 else data @ np.full(channels, 1 / channels, np.float32)
        samples = _resample(mono, sample_rate, target_sr)
    return DecodedAudio(
        samples=samples,
        sample_rate=target_sr,
        duration_s=float(duration_s),
        channels=int(channels),
        source_sample_rate=int(sample_rate),
        format=source_format,
        window_start_s=float(window_start_s),
        window_end_s=float(window_start_s + seconds),
        warnings=tuple(warnings),
        loudness_power=loudness_power,
    )


def _sanitise(data: np.ndarray, warnings: list[str]) -> tuple[np.ndarray, float]:
    """Non-finite samples to silence, implausible levels to full scale; returns the peak."""
    if not np.isfinite(data).all():
        finite = np.isfinite(data)
        bad = data.size - int(np.count_nonzero(finite))
        data = np.where(finite, data, np.float32(0.0))
        warnings.append(f"{bad} non-finite samples (NaN/inf) replaced by silence")
    peak = max(float(data.max()), -float(data.min())) if data.size else 0.0
    if peak > MAX_PLAUSIBLE_PEAK:
        data = data / np.float32(peak)
        warnings.append(f"samples reach {peak:.3g} x full scale: rescaled to full scale")
        peak = 1.0
    return data, peak


@lru_cache(maxsize=1)
def _halving_matrices() -> tuple[np.ndarray, np.ndarray]:
    """resample_poly's 2:1 filter (41-tap Kaiser half-band) as block matrices.

    Output block ``q`` (``_HALVING_BLOCK`` samples) is input block ``q`` (twice as
    long, offset by the filter's half-length) times the first matrix plus the next
    ``2 * _HALF_LENGTH`` input samples times the second: two matrix products per
    segment of blocks, which BLAS runs several times faster than an FFT convolution.
    """
    taps = firwin(2 * _HALF_LENGTH + 1, 0.5, window=("kaiser", 5.0))
    block = _HALVING_BLOCK
    # Output r of a block reads padded input i through tap 2r - i + 2 * half-length.
    index = 2 * np.arange(block)[None, :] - np.arange(2 * block + 2 * _HALF_LENGTH)[:, None]
    index += 2 * _HALF_LENGTH
    inside = (index >= 0) & (index <= 2 * _HALF_LENGTH)
    weights = np.where(inside, taps[np.clip(index, 0, 2 * _HALF_LENGTH)], 0.0).astype(np.float32)
    head, tail = weights[: 2 * block], weights[2 * block :]
    head.flags.writeable = tail.flags.writeable = False
    return head, tail


def _halve(data: np.ndarray) -> np.ndarray:
    """``resample_poly(mono, 1, 2)`` (44.1 kHz -> 22.05 kHz) of the channels' mean, to
    float32 rounding; ``data`` is ``(n,)`` or ``(n, channels)``.

    Mixes down and filters ``_HALVING_SEGMENT`` blocks at a time through one small
    buffer, so no full-length mono or padded copy is ever made.
    """
    head, tail = _halving_matrices()
    block, half = _HALVING_BLOCK, _HALF_LENGTH
    frames = data.shape[0]
    channels = 1 if data.ndim == 1 else data.shape[1]
    mix = np.full(channels, 1.0 / channels, np.float32)
    size = (frames + 1) // 2
    blocks = -(-size // block)
    out = np.empty(blocks * block, dtype=np.float32)
    buffer = np.empty(2 * block * (min(blocks, _HALVING_SEGMENT) + 1), dtype=np.float32)
    for first in range(0, blocks, _HALVING_SEGMENT):
        count = min(_HALVING_SEGMENT, blocks - first)
        # Input samples [2 * block * first - half, ... + 2 * block * count + 2 * half), zero
        # beyond the signal; the buffer's remainder is reshaped but never read.
        segment = buffer[: 2 * block * (count + 1)]
        start = 2 * block * first - half
        stop = start + 2 * block * count + 2 * half
        inside = slice(max(start, 0), min(stop, frames))
        segment[: inside.start - start] = 0.0
        segment[inside.stop - start : stop - start] = 0.0
        target = segment[inside.start - start : inside.stop - start]
        if data.ndim == 1:
            target[...] = data[inside]
        elif channels == 1:
            target[...] = data[inside, 0]
        else:  # a matrix-vector product: numpy's mean over a short axis of a tall array is slow
            np.matmul(data[inside], mix, out=target)
        current = segment[: 2 * block * count].reshape(count, 2 * block)
        following = segment[2 * block : 2 * block * (count + 1)].reshape(count, 2 * block)
        result = out[first * block : (first + count) * block].reshape(count, block)
        np.matmul(current, head, out=result)
        result += following[:, : 2 * half] @ tail
    return out[:size]


def _resample(mono: np.ndarray, source_sr: int, target_sr: int) -> np.ndarray:
    if source_sr == target_sr:
        return np.ascontiguousarray(mono, dtype=np.float32)
    if source_sr == 2 * target_sr:
        return _halve(np.asarray(mono, dtype=np.float32))
    divisor = math.gcd(source_sr, target_sr)
    up, down = target_sr // divisor, source_sr // divisor
    if max(up, down) <= MAX_POLYPHASE_FACTOR:
        out = resample_poly(mono, up, down)
    else:  # odd rates such as 44 099 Hz: an FFT resampler of the exact length instead
        out = resample(mono, max(1, round(mono.size * target_sr / source_sr)))
    return np.asarray(out, dtype=np.float32)
