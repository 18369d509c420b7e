"""Short-time spectra shared by every analyser, so the STFT is computed once per track.

Derived views (power, a 40-band mel spectrum in dB, per-frame energy) are cached
on the ``Spectrum`` so that MFCCs and the onset envelope share them too. Work over
whole spectrograms runs in chunks of ``CHUNK_FRAMES`` frames: the temporaries stay
in cache and are reused, instead of megabytes of fresh memory per track (whose
page faults cost as much system time as the arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import scipy.fft
from scipy.signal import get_window

MEL_BANDS = 40
# Mel power in dB is floored this far below the loudest bin of the track (as librosa does).
MEL_TOP_DB = 80.0
_POWER_FLOOR = 1e-10
CHUNK_FRAMES = 128  # about 1 MB of float32 frames: fits the L2/L3 cache
# Spectral peaks are found once for the chroma (55 Hz-4 kHz) and key (50 Hz-2.5 kHz) analysers.
PEAK_FMIN_HZ = 50.0
PEAK_FMAX_HZ = 4000.0
_PEAK_MIN_MAGNITUDE = 1e-7
_LOG_EPS = 1e-12


@dataclass(frozen=True)
class Peaks:
    """Local maxima of each frame's magnitude spectrum (``Spectrum.peaks``), flattened.

    ``offset`` is the peak's position relative to its bin (-0.5..0.5) by parabolic
    interpolation of the log magnitude; ``midi`` is that frequency as a MIDI note number
    (69 = A440, fractional).
    """

    frame: np.ndarray  # int64
    bin: np.ndarray  # int64
    magnitude: np.ndarray  # float64
    offset: np.ndarray  # float64
    midi: np.ndarray  # float64


@dataclass(frozen=True)
class Spectrum:
    """Magnitude STFT: ``magnitude[bin, frame]`` with ``hop`` samples between frames.

    ``compute_spectrum`` stores float32 in Fortran order: each frame's bins are
    contiguous, so per-frame work is fastest on ``magnitude.T`` (``[frame, bin]``).
    """

    magnitude: np.ndarray
    sample_rate: int
    n_fft: int
    hop: int

    @cached_property
    def frequencies(self) -> np.ndarray:
        return np.fft.rfftfreq(self.n_fft, 1.0 / self.sample_rate)

    @cached_property
    def power(self) -> np.ndarray:
        return np.square(self.magnitude)

    @cached_property
    def mel_power(self) -> np.ndarray:
        """``[band, frame]`` power through a 40-band Slaney mel filterbank (0 Hz to Nyquist)."""
        return self._power_reductions[0]

    @cached_property
    def frame_energy(self) -> np.ndarray:
        """``[frame]`` total power (float64)."""
        return self._power_reductions[1]

    @cached_property
    def _power_reductions(self) -> tuple[np.ndarray, np.ndarray]:
        # Chunk by chunk from the magnitudes: the full power spectrogram is never built.
        weights = mel_filterbank(self.sample_rate, self.n_fft, MEL_BANDS).T
        rows = self.magnitude.T  # [frame, bin]
        mel = np.empty((self.frames, weights.shape[1]), dtype=np.float32)
        energy = np.empty(self.frames, dtype=np.float64)
        for chunk in frame_chunks(self.frames):
            power = np.square(rows[chunk])
            np.matmul(power, weights, out=mel[chunk])
            energy[chunk] = power.sum(axis=1)  # float32 pairwise summation
        return mel.T, energy

    @cached_property
    def mel_db(self) -> np.ndarray:
        """``mel_power`` in dB, floored ``MEL_TOP_DB`` below its maximum."""
        db = 10.0 * np.log10(np.maximum(self.mel_power, np.float32(_POWER_FLOOR)))
        ceiling = float(db.max()) if db.size else 0.0
        return np.maximum(db, np.float32(ceiling - MEL_TOP_DB))

    @cached_property
    def peaks(self) -> Peaks:
        """Every bin between ``PEAK_FMIN_HZ`` and ``PEAK_FMAX_HZ`` louder than its lower
        neighbour, at least as loud as its upper one and above 1e-7."""
        rows = self.magnitude.T  # [frame, bin]
        bins = rows.shape[1]
        bin_hz = self.sample_rate / self.n_fft
        low = max(1, int(PEAK_FMIN_HZ / bin_hz))
        high = min(bins - 2, int(np.ceil(PEAK_FMAX_HZ / bin_hz)))  # inclusive
        if high < low or self.frames == 0:
            empty = np.zeros(0)
            return Peaks(empty.astype(np.int64), empty.astype(np.int64), empty, empty, empty)
        centre = rows[:, low : high + 1]
        mask = centre > rows[:, low - 1 : high]
        mask &= centre >= rows[:, low + 1 : high + 2]
        mask &= centre > np.float32(_PEAK_MIN_MAGNITUDE)
        frame, column = np.divmod(np.flatnonzero(mask), mask.shape[1])
        index = frame * bins + column + low
        # 1-D gathers from the contiguous [frame, bin] magnitudes; float32 logs (numpy
        # vectorises them, float64 ones cost 5x more), interpolated in float64.
        flat = rows.ravel()
        magnitude = flat[index]
        middle = np.log(magnitude + np.float32(_LOG_EPS)).astype(np.float64)
        before = np.log(flat[index - 1] + np.float32(_LOG_EPS)).astype(np.float64)
        after = np.log(flat[index + 1] + np.float32(_LOG_EPS)).astype(np.float64)
        curvature = before - 2.0 * middle + after
        safe = np.where(np.abs(curvature) > _LOG_EPS, curvature, -1.0)
        offset = np.clip(0.5 * (before - after) / safe, -0.5, 0.5)
        bin_index = column + low
        midi = 69.0 + 12.0 * np.log2((bin_index + offset) * bin_hz / 440.0)
        return Peaks(frame, bin_index, magnitude.astype(np.float64), offset, midi)

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop

    @property
    def frames(self) -> int:
        return int(self.magnitude.shape[1])


def frame_signal(samples: np.ndarray, frame_length: int, hop: int) -> np.ndarray:
    """Frames as a strided view ``[frame, sample]``; the tail is zero-padded to a full frame."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size < frame_length:
        samples = np.pad(samples, (0, frame_length - samples.size))
    count = 1 + (samples.size - frame_length) // hop
    remainder = samples.size - ((count - 1) * hop + frame_length)
    if remainder > 0:
        samples = np.pad(samples, (0, hop - remainder))
        count += 1
    return np.lib.stride_tricks.as_strided(
        samples,
        shape=(count, frame_length),
        strides=(samples.strides[0] * hop, samples.strides[0]),
        writeable=False,
    )


@lru_cache(maxsize=8)
def _hann(n_fft: int) -> np.ndarray:
    window = get_window("hann", n_fft, fftbins=True).astype(np.float32)
    window.flags.writeable = False
    return window


def frame_chunks(frames: int, size: int = CHUNK_FRAMES) -> list[slice]:
    """Consecutive slices of at most ``size`` frames covering ``range(frames)``."""
    return [slice(start, min(start + size, frames)) for start in range(0, frames, size)]


def compute_spectrum(
    samples: np.ndarray, sample_rate: int, n_fft: int = 2048, hop: int = 512
) -> Spectrum:
    """Hann-windowed magnitude STFT, centred frames (half a window of padding each side)."""
    padded = np.pad(np.asarray(samples, dtype=np.float32), (n_fft // 2, n_fft // 2))
    frames = frame_signal(padded, n_fft, hop)
    window = _hann(n_fft)
    # [frame, bin] rows; the Spectrum holds the transposed view (Fortran order), so each
    # frame's bins stay contiguous without a copy.
    magnitude = np.empty((frames.shape[0], n_fft // 2 + 1), dtype=np.float32)
    windowed = np.empty((min(CHUNK_FRAMES, frames.shape[0]), n_fft), dtype=np.float32)
    for chunk in frame_chunks(frames.shape[0]):
        block = windowed[: chunk.stop - chunk.start]
        np.multiply(frames[chunk], window, out=block)
        # Single precision and one worker: twice as fast as numpy's float64 FFT, and the
        # machine's other cores stay free for other tracks.
        spectra = scipy.fft.rfft(block, axis=1, workers=1, overwrite_x=True)
        np.abs(spectra, out=magnitude[chunk])
    return Spectrum(magnitude=magnitude.T, sample_rate=sample_rate, n_fft=n_fft, hop=hop)


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, linear)


def _mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_part, linear)


@lru_cache(maxsize=16)
def mel_filterbank(
    sample_rate: int, n_fft: int, bands: int = MEL_BANDS, fmin: float = 0.0
) -> np.ndarray:
    """``[band, bin]`` triangular filters, area-normalised (Slaney), up to the Nyquist rate."""
    frequencies = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(sample_rate / 2.0), bands + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - frequencies[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    result = weights.astype(np.float32)
    result.flags.writeable = False
    return result
