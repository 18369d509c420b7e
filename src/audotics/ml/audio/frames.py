"""Short-time spectra shared by every analyser, so the STFT is computed once per track.

Derived views (power, a 40-band mel spectrum in dB) are cached on the
``Spectrum`` so that MFCCs and the onset envelope share them too.
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
        return mel_filterbank(self.sample_rate, self.n_fft, MEL_BANDS) @ self.power

    @cached_property
    def mel_db(self) -> np.ndarray:
        """``mel_power`` in dB, floored ``MEL_TOP_DB`` below its maximum."""
        db = 10.0 * np.log10(np.maximum(self.mel_power, np.float32(_POWER_FLOOR)))
        ceiling = float(db.max()) if db.size else 0.0
        return np.maximum(db, np.float32(ceiling - MEL_TOP_DB))

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


def compute_spectrum(
    samples: np.ndarray, sample_rate: int, n_fft: int = 2048, hop: int = 512
) -> Spectrum:
    """Hann-windowed magnitude STFT, centred frames (half a window of padding each side)."""
    padded = np.pad(np.asarray(samples, dtype=np.float32), (n_fft // 2, n_fft // 2))
    frames = frame_signal(padded, n_fft, hop)
    # Single precision and one worker: twice as fast as numpy's float64 FFT, and the
    # machine's other cores stay free for other tracks.
    spectra = scipy.fft.rfft(frames * _hann(n_fft), axis=1, workers=1)
    # A transposed view (Fortran order): each frame's bins stay contiguous, no copy.
    magnitude = np.abs(spectra).T
    return Spectrum(magnitude=magnitude, sample_rate=sample_rate, n_fft=n_fft, hop=hop)


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
