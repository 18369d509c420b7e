"""Spectral shape, onsets, MFCCs and chroma from one shared ``Spectrum``.

Conventions follow librosa where a feature has a common definition (magnitude
spectra for centroid/bandwidth/rolloff, power for flatness, 40 Slaney mel bands
in dB for MFCCs, DCT-II with orthonormal scaling), so figures are comparable.
Per-track means skip frames more than 60 dB below the loudest frame, so a
silent intro or gap does not drag them towards zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from audotics.ml.audio.frames import Spectrum, frame_chunks

N_MFCC = 13
ROLLOFF_SHARE = 0.85
ACTIVE_RANGE_DB = 60.0
CHROMA_FMIN_HZ = 55.0  # A1; below it one STFT bin spans several semitones
CHROMA_FMAX_HZ = 4000.0  # above it harmonics outweigh fundamentals
_PEAK_FLOOR = 10.0 ** (-60.0 / 20.0)  # chroma ignores peaks 60 dB below the frame's loudest
_FLATNESS_FLOOR = 1e-10
_ONSET_COMPRESSION = 1e4
_EPS = 1e-12


@dataclass(frozen=True)
class SpectralSummary:
    centroid_hz: float
    rolloff_hz: float
    flatness: float  # 0 (tonal) .. 1 (white noise)
    bandwidth_hz: float
    zero_crossing_rate: float  # crossings per sample
    rms: float  # mean frame RMS, full scale = 1


def active_frames(spectrum: Spectrum) -> np.ndarray:
    """Frames within ``ACTIVE_RANGE_DB`` of the loudest frame (none for digital silence)."""
    energy = spectrum.frame_energy
    loudest = float(energy.max()) if energy.size else 0.0
    if loudest <= _EPS:
        return np.zeros(energy.shape, dtype=bool)
    return np.asarray(energy > loudest * 10.0 ** (-ACTIVE_RANGE_DB / 10.0))


def spectral_summary(spectrum: Spectrum, samples: np.ndarray) -> SpectralSummary:
    """Per-track means of the spectral shape, plus ZCR and RMS from the samples."""
    samples = np.asarray(samples, dtype=np.float32)
    zcr = float(np.count_nonzero(np.diff(np.signbit(samples)))) / max(1, samples.size - 1)
    rms = _mean_frame_rms(samples, spectrum.hop)
    active = active_frames(spectrum)
    if not active.any():
        return SpectralSummary(0.0, 0.0, 0.0, 0.0, zcr, rms)
    # [frame, bin] rows: contiguous for compute_spectrum's layout, so reductions run along
    # memory. Statistics of every frame, chunk by chunk (the temporaries stay in cache),
    # then means over the active ones.
    rows = spectrum.magnitude.T
    freqs = spectrum.frequencies.astype(np.float32)
    moments = np.stack([np.ones_like(freqs), freqs, np.square(freqs)], axis=1)
    centroid = np.empty(spectrum.frames, dtype=np.float32)
    bandwidth = np.empty_like(centroid)
    rolloff = np.empty_like(centroid)
    flatness = np.empty_like(centroid)
    for chunk in frame_chunks(spectrum.frames):
        magnitude = rows[chunk]
        total, first, second = (magnitude @ moments).T
        totals = np.maximum(total, np.float32(_EPS))
        centroid[chunk] = first / totals
        spread = (second - 2.0 * centroid[chunk] * first) / totals + centroid[chunk] ** 2
        bandwidth[chunk] = np.sqrt(np.maximum(spread, 0.0))
        rolloff[chunk] = freqs[_rolloff_bins(magnitude, ROLLOFF_SHARE * totals)]
        floored = np.square(magnitude)
        np.maximum(floored, np.float32(_FLATNESS_FLOOR), out=floored)
        arithmetic = floored.mean(axis=1)
        flatness[chunk] = np.exp(_mean_log(floored)) / arithmetic
    return SpectralSummary(
        centroid_hz=_finite_mean(centroid[active]),
        rolloff_hz=_finite_mean(rolloff[active]),
        flatness=min(1.0, _finite_mean(flatness[active])),
        bandwidth_hz=_finite_mean(bandwidth[active]),
        zero_crossing_rate=zcr,
        rms=rms,
    )


def _rolloff_bins(rows: np.ndarray, thresholds: np.ndarray, group: int = 32) -> np.ndarray:
    """Per row, the first bin whose cumulative sum reaches its threshold.

    Cumulates groups of bins first, then only inside the group that crosses: the
    same answer as a full cumulative sum at a fraction of the memory traffic.
    """
    frames, bins = rows.shape
    groups = bins // group
    if groups < 2:
        cumulative = np.cumsum(rows, axis=1)
        return np.minimum(np.count_nonzero(cumulative < thresholds[:, None], axis=1), bins - 1)
    grouped = np.cumsum(
        rows[:, : groups * group].reshape(frames, groups, group).sum(axis=2), axis=1
    )
    crossing = np.minimum(np.count_nonzero(grouped < thresholds[:, None], axis=1), groups - 1)
    before = np.where(crossing > 0, grouped[np.arange(frames), crossing - 1], 0.0)
    # The crossing group plus any remainder bins after the last whole group.
    width = group + bins - groups * group
    index = np.minimum(crossing[:, None] * group + np.arange(width), bins - 1)
    inside = before[:, None] + np.cumsum(rows[np.arange(frames)[:, None], index], axis=1)
    return np.minimum(
        crossing * group + np.count_nonzero(inside < thresholds[:, None], axis=1), bins - 1
    )


def _mean_log(values: np.ndarray) -> np.ndarray:
    """Row means of ``log(values)`` for float32 values in [1e-10, 1e12]: the log of products
    of pairs (which stay within float32's normal range), half the logarithms."""
    count = values.shape[1]
    pairs = values[:, 0 : count - 1 : 2] * values[:, 1::2]
    total = np.log(pairs, out=pairs).sum(axis=1)
    if count % 2:
        total += np.log(values[:, -1])
    return np.asarray(total / count)


def _finite_mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean(dtype=np.float64)) if values.size else 0.0


def _mean_frame_rms(samples: np.ndarray, hop: int) -> float:
    count = samples.size // hop
    if count == 0:
        return (
            float(np.sqrt(np.mean(np.square(samples), dtype=np.float64))) if samples.size else 0.0
        )
    chunks = samples[: count * hop].reshape(count, hop)
    return float(np.sqrt(np.einsum("ij,ij->i", chunks, chunks) / hop).mean(dtype=np.float64))


def onset_envelope(spectrum: Spectrum) -> np.ndarray:
    """Onset strength per frame: half-wave rectified spectral flux of the log magnitude.

    ``log(1 + 10^4 |X| / max|X|)`` per STFT bin (an 80 dB compression range relative to
    the track's loudest bin, so the envelope does not depend on the level), then the
    mean over bins of each bin's rise since the previous frame; frame 0 is 0. Full
    bin resolution (not mel bands) keeps note changes in the bass visible, which
    matters for tempo on music whose beat is carried by a bass line. Same length and
    frame rate as the spectrum.
    """
    magnitude = spectrum.magnitude
    envelope = np.zeros(spectrum.frames, dtype=np.float32)
    loudest = float(magnitude.max()) if magnitude.size else 0.0
    if spectrum.frames < 2 or loudest <= _EPS:
        return envelope
    rows = magnitude.T  # [frame, bin], contiguous for compute_spectrum's layout
    scale = np.float32(_ONSET_COMPRESSION / loudest)
    # A bin's rise max(log u_t - log u_t-1, 0) is log(max(u_t / u_t-1, 1)) with
    # u = 1 + scale |X| in [1, 1 + 10^4]: the sum over bins is a sum of logs of products,
    # a few multiplications and an eighth of the logarithms.
    previous = rows[:1] * scale + np.float32(1.0)
    for chunk in frame_chunks(spectrum.frames):
        start = max(chunk.start, 1)
        if start >= chunk.stop:
            continue
        current = rows[start : chunk.stop] * scale
        current += np.float32(1.0)
        ratio = np.empty_like(current)
        np.divide(current[:1], previous, out=ratio[:1])
        np.divide(current[1:], current[:-1], out=ratio[1:])
        np.maximum(ratio, np.float32(1.0), out=ratio)
        envelope[start : chunk.stop] = _row_log_sums(ratio) / ratio.shape[1]
        previous = current[-1:]
    return envelope


def _row_log_sums(values: np.ndarray) -> np.ndarray:
    """Row sums of ``log(values)`` for float32 values in [1, 10^4 + 1]: logs of products
    of eight (at most 1e33, within float32)."""
    whole = values.shape[1] - values.shape[1] % 8
    products = values[:, 0:whole:2] * values[:, 1:whole:2]
    products = products[:, 0::2] * products[:, 1::2]
    products = products[:, 0::2] * products[:, 1::2]
    total = np.log(products, out=products).sum(axis=1, dtype=np.float64)
    if whole < values.shape[1]:
        total += np.log(values[:, whole:]).sum(axis=1, dtype=np.float64)
    return total


def _log1p(values: np.ndarray, scale: float) -> np.ndarray:
    """``log(1 + scale * values)`` in float32.

    numpy's float32 ``log`` is vectorised and ``log1p`` is not (about 8x slower); for
    these non-negative inputs the two differ by under 1e-7 absolute.
    """
    result = np.multiply(values, np.float32(scale), dtype=np.float32)
    result += np.float32(1.0)
    return np.log(result, out=result)


def onset_frames(envelope: np.ndarray, frame_rate: float) -> np.ndarray:
    """Indices of picked onsets: local maxima (±30 ms) above the local mean (±100 ms) + 0.07.

    The envelope is min-max normalised first; onsets closer than 30 ms are merged.
    """
    envelope = np.asarray(envelope, dtype=np.float64)
    if envelope.size < 3:
        return np.zeros(0, dtype=np.int64)
    span = float(envelope.max() - envelope.min())
    if span <= _EPS or not np.isfinite(span):
        return np.zeros(0, dtype=np.int64)
    normalised = (envelope - envelope.min()) / span
    near = max(1, round(0.03 * frame_rate))
    around = max(1, round(0.1 * frame_rate))
    is_max = normalised >= maximum_filter1d(normalised, 2 * near + 1, mode="constant")
    above = normalised > uniform_filter1d(normalised, 2 * around + 1, mode="constant") + 0.07
    peaks = np.flatnonzero(is_max & above)
    if peaks.size > 1:
        peaks = peaks[np.concatenate(([True], np.diff(peaks) > near))]
    return peaks


def onset_rate(envelope: np.ndarray, frame_rate: float) -> float:
    """Picked onsets per second."""
    seconds = np.asarray(envelope).size / frame_rate if frame_rate > 0 else 0.0
    return float(onset_frames(envelope, frame_rate).size / seconds) if seconds > 0 else 0.0


def pulse_clarity(envelope: np.ndarray, frame_rate: float) -> float:
    """How periodic the onsets are: the highest normalised autocorrelation at 40-240 BPM, 0..1."""
    envelope = np.asarray(envelope, dtype=np.float64)
    centred = envelope - envelope.mean() if envelope.size else envelope
    energy = float(np.dot(centred, centred))
    shortest, longest = round(0.25 * frame_rate), round(1.5 * frame_rate)
    if energy <= _EPS or centred.size <= longest:
        return 0.0
    size = scipy.fft.next_fast_len(2 * centred.size)
    spectrum = scipy.fft.rfft(centred, size)
    autocorrelation = scipy.fft.irfft(spectrum * np.conj(spectrum), size)[: longest + 1] / energy
    return float(np.clip(autocorrelation[shortest:].max(), 0.0, 1.0))


def mfcc(spectrum: Spectrum, n_mfcc: int = N_MFCC) -> np.ndarray:
    """``[coefficient, frame]`` MFCCs: DCT-II (orthonormal) of the 40-band mel spectrum in dB."""
    return np.asarray(scipy.fft.dct(spectrum.mel_db, type=2, norm="ortho", axis=0)[:n_mfcc])


def mfcc_statistics(spectrum: Spectrum, n_mfcc: int = N_MFCC) -> tuple[np.ndarray, np.ndarray]:
    """Means and variances of each MFCC over the active frames (all frames if none is)."""
    coefficients = mfcc(spectrum, n_mfcc).astype(np.float64)
    active = active_frames(spectrum)
    if active.any():
        coefficients = coefficients[:, active]
    if coefficients.shape[1] == 0:
        return np.zeros(n_mfcc), np.zeros(n_mfcc)
    return coefficients.mean(axis=1), coefficients.var(axis=1)


def chromagram(spectrum: Spectrum) -> np.ndarray:
    """``[pitch_class, frame]`` chroma energy; pitch class 0 is C.

    Only spectral peaks between 55 Hz and 4 kHz count, each at its frequency
    refined by parabolic interpolation of the log magnitude (sub-bin accuracy
    matters below ~200 Hz, where one bin spans more than a semitone), adding its
    magnitude to its nearest pitch class. Peaks more than 60 dB below the
    frame's loudest are ignored. Not normalised per frame.
    """
    frames = spectrum.frames
    bin_hz = spectrum.sample_rate / spectrum.n_fft
    low = max(1, int(np.floor(CHROMA_FMIN_HZ / bin_hz)))
    high = min(spectrum.magnitude.shape[0] - 2, int(np.ceil(CHROMA_FMAX_HZ / bin_hz)))
    chroma = np.zeros((12, frames), dtype=np.float64)
    if high <= low or frames == 0:
        return chroma
    rows = spectrum.magnitude.T  # [frame, bin]
    floor = np.maximum(rows[:, low : high + 1].max(axis=1) * np.float32(_PEAK_FLOOR), 1e-7)
    peaks = spectrum.peaks  # shared with the key chromagram
    keep = (peaks.bin >= low) & (peaks.bin <= high)
    keep &= peaks.magnitude > floor[peaks.frame]
    columns, magnitude = peaks.frame[keep], peaks.magnitude[keep]
    if columns.size == 0:
        return chroma
    pitch_class = np.mod(np.rint(peaks.midi[keep]).astype(np.int64), 12)
    totals = np.bincount(pitch_class * frames + columns, weights=magnitude, minlength=12 * frames)
    return totals.reshape(12, frames)


def chroma_profile(spectrum: Spectrum) -> np.ndarray:
    """The track's 12-bin pitch-class distribution (sum 1; uniform when there is no tone)."""
    totals = chromagram(spectrum).sum(axis=1)
    whole = float(totals.sum())
    if whole <= _EPS or not np.isfinite(whole):
        return np.full(12, 1.0 / 12.0)
    return totals / whole


def harmonic_stability(spectrum: Spectrum, lag_s: float = 0.05) -> float:
    """How steady the 200-2000 Hz spectrum stays over ``lag_s``, 0..1 (energy-weighted mean
    correlation of log-magnitude frames). Held instrument notes score high; singing
    (vibrato, glides, changing vowels) and dense percussion lower it. A weak cue."""
    lag = max(1, round(lag_s * spectrum.frame_rate))
    freqs = spectrum.frequencies
    band = spectrum.magnitude[(freqs >= 200.0) & (freqs <= 2000.0)]
    if band.shape[1] <= lag or band.size == 0:
        return 0.0
    loudest = float(band.max())
    if loudest <= _EPS:
        return 0.0
    shape = _log1p(band, 100.0 / loudest)
    shape = shape - shape.mean(axis=0, keepdims=True)
    before, after = shape[:, :-lag], shape[:, lag:]
    correlation = np.einsum("ij,ij->j", before, after) / (
        np.sqrt(np.einsum("ij,ij->j", before, before) * np.einsum("ij,ij->j", after, after)) + _EPS
    )
    weights = np.sqrt(np.einsum("ij,ij->j", band, band))[lag:].astype(np.float64)
    total = float(weights.sum())
    if total <= _EPS:
        return 0.0
    return float(np.clip(np.dot(correlation, weights) / total, 0.0, 1.0))
