"""Tempo estimation: periodicity of onset envelopes, then a choice of metrical level.

1. Periodicity. The onset envelope is detrended and level-normalised over a few
   seconds (quiet openings count as much as loud choruses); its autocorrelation,
   read at fractional lags, gives a comb score per tempo on a 0.5 % log-BPM grid:
   the mean at the first four multiples of the period, which pins the period to
   about 1 % and survives drifts of a few percent.
2. Metrical level. A comb cannot tell the beat from its double or half, so the
   candidates are the comb's peaks near 1/4, 1/2, 1, 2 and 4 times its best tempo,
   and each is described by features a listener uses: how strong the pulses
   between its beats are relative to its beats ("fill", per frequency band:
   subdivisions are weaker than beats, half-time skips real beats), whether the
   bass band hits beats 1 and 3 while the mid/high bands answer on 2 and 4 (a
   backbeat), its autocorrelation at one and half a period, and its tempo (a
   log-quadratic prior); each feature enters twice, once scaled by how periodic
   the high band is, since drums and legato music mark the beat differently. A
   linear score over these picks the beat (an even click track, whose subdivisions
   are as strong as its beats, takes the faster level). The weights were fitted
   (a conditional logit) on rendered sets with known tempo -- the project's
   generator and MIDI pieces rendered through a General MIDI soundfont -- by
   ``tests/unit/audio_estimators/fit_models.py``, which prints them.

Band envelopes come from ``band_onsets(spectrum)`` (the shared mel spectrum, no
new STFT); without them the estimator uses the single envelope and a weaker
model fitted the same way.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from audotics.ml.audio.frames import Spectrum

MIN_BPM = 40.0
MAX_BPM = 240.0

_GRID = 20.0 * 1.005 ** np.arange(int(np.log(500.0 / 20.0) / np.log(1.005)) + 1)
_COMB_MULTIPLES = 4
_MIN_SECONDS = 3.0
# Periodicity below this many standard errors of a noise autocorrelation (1/sqrt(frames))
# means there is no tempo to report: white noise scores 0.5-0.9, the quietest music above 1.5.
_NO_PERIODICITY = 1.2
_CLEAR_PERIODICITY = 9.0
_LEVEL_OCTAVES = (-2, -1, 0, 1, 2)
_COMPLETE_SUBDIVISION = 0.47  # share of pulse strength on the subdivisions: 0.5 = all equal
_FASTEST_BEAT = 200.0
_PATTERN_WINDOW_S = 12.0
# Mel band index ranges (40 Slaney bands, 0 Hz-Nyquist at 22.05 kHz): below ~240 Hz,
# ~240 Hz-1.9 kHz, above.
_BAND_EDGES = ((0, 2), (2, 20), (20, 40))

FEATURE_NAMES = (
    "log_tempo", "log_tempo_sq", "comb",
    "full_fill", "full_sub_fill", "full_acf", "full_acf_half",
    "low_fill", "low_sub_fill", "low_acf", "low_acf_half",
    "mid_fill", "mid_sub_fill", "mid_acf", "mid_acf_half",
    "high_fill", "high_sub_fill", "high_acf", "high_acf_half",
    "low_alternation", "mid_backbeat", "high_backbeat",
    "backbeat_mid", "backbeat_high", "backbeat",
)  # fmt: skip
SINGLE_BAND_FEATURES = 7  # the first seven need only the full envelope

# Fitted by tests/unit/audio_estimators/fit_models.py (weights on standardised features;
# the band model sees every feature twice: as is and scaled by the high band's periodicity).
# fmt: off
_BAND_MODEL = {
    "mean": np.array([
        -0.3153, 0.6308, 0.8410, 0.3986, 0.2489, 0.4334, 0.2272, 0.3226, 0.3675, 0.2716, 0.1212,
        0.3708, 0.2998, 0.3083, 0.1527, 0.3853, 0.2371, 0.3728, 0.1714, 0.3496, -0.1335,
        -0.0207, -0.1540, -0.0541, -0.0139, -0.1542, 0.3059, 0.4041, 0.1910, 0.1170, 0.2220,
        0.1175, 0.1503, 0.1771, 0.1343, 0.0588, 0.1771, 0.1407, 0.1591, 0.0796, 0.1849, 0.1087,
        0.1983, 0.0929, 0.1719, -0.0617, -0.0057, -0.0708, -0.0202, -0.0027
    ]),
    "scale": np.array([
        0.7289, 0.6671, 0.2092, 0.1250, 0.1519, 0.2711, 0.2706, 0.1702, 0.3200, 0.2876, 0.2407,
        0.1405, 0.2313, 0.2694, 0.2471, 0.1316, 0.1587, 0.2672, 0.2376, 0.3383, 0.3576, 0.3485,
        0.3321, 0.3086, 0.3048, 0.3789, 0.3771, 0.1802, 0.0949, 0.0887, 0.1740, 0.1565, 0.0988,
        0.1840, 0.1584, 0.1236, 0.0968, 0.1272, 0.1591, 0.1384, 0.0976, 0.0880, 0.1761, 0.1463,
        0.1904, 0.1809, 0.1762, 0.1695, 0.1582, 0.1594
    ]),
    "weights": np.array([
        -0.4655, -1.5327, 0.7951, -0.0296, 0.3159, 0.1967, 0.0752, -0.1129, -0.4427, 0.1415,
        -0.5267, 0.2368, -0.1711, 0.7647, 0.0060, 0.0040, -0.3204, -0.1989, 0.4477, 0.1239,
        -0.0250, -0.0225, -0.1292, 0.0890, 0.2032, 0.4875, -0.9922, 0.1384, -0.1396, 0.7351,
        -0.2031, 0.2545, 0.0648, -0.4859, -0.0272, -0.2921, 0.1557, -0.1690, 0.2727, 0.1514,
        -0.1160, -0.1495, -0.3848, -0.0067, -0.0550, 0.0139, 0.0718, -0.0480, 0.2597, 0.3888
    ]),
}
_SINGLE_MODEL = {
    "mean": np.array([
        -0.3153, 0.6308, 0.8410, 0.3986, 0.2489, 0.4334, 0.2272
    ]),
    "scale": np.array([
        0.7289, 0.6671, 0.2092, 0.1250, 0.1519, 0.2711, 0.2706
    ]),
    "weights": np.array([
        0.2973, -1.8797, 1.1793, -0.0393, 0.5159, -0.3090, 0.0214
    ]),
}
# fmt: on


def band_onsets(spectrum: Spectrum) -> np.ndarray:
    """``[3, frames]`` onset envelopes of the low, mid and high bands (mean dB rise)."""
    return band_onsets_from_mel_db(spectrum.mel_db)


def band_onsets_from_mel_db(mel_db: np.ndarray) -> np.ndarray:
    """``band_onsets`` from a ``[40, frames]`` mel spectrum in dB (``Spectrum.mel_db``)."""
    mel_db = np.asarray(mel_db, dtype=np.float64)
    rise = np.zeros_like(mel_db)
    if mel_db.shape[1] > 1:
        rise[:, 1:] = np.maximum(np.diff(mel_db, axis=1), 0.0)
    return np.stack([rise[lo:hi].mean(axis=0) for lo, hi in _BAND_EDGES])


def estimate_tempo(
    onset_env: np.ndarray,
    frame_rate: float,
    band_envelopes: np.ndarray | None = None,
) -> tuple[float | None, float]:
    """Beats per minute in [40, 240] (None without periodicity) and a confidence in [0, 1]."""
    candidates = tempo_candidates(onset_env, frame_rate, band_envelopes)
    if candidates is None:
        return None, 0.0
    levels, features, strength = candidates
    model = _BAND_MODEL if features.shape[1] > SINGLE_BAND_FEATURES else _SINGLE_MODEL
    scores = ((features - model["mean"]) / model["scale"]) @ model["weights"]
    probability = np.exp(scores - scores.max())
    probability /= probability.sum()
    best = _faster_if_complete(levels, features, int(np.argmax(scores)))
    clarity = (strength - _NO_PERIODICITY) / (_CLEAR_PERIODICITY - _NO_PERIODICITY)
    confidence = float(np.clip(clarity, 0.0, 1.0) * probability[best])
    return float(np.clip(levels[best], MIN_BPM, MAX_BPM)), confidence


def _faster_if_complete(levels: np.ndarray, features: np.ndarray, chosen: int) -> int:
    """The double tempo when the chosen level's subdivisions are as strong as its beats.

    Then the faster level is a complete pulse too (an even click track), and the beat is
    the fastest complete level; in music with accents this never triggers.
    """
    sub_fill = features[chosen, FEATURE_NAMES.index("full_sub_fill")]
    double = np.flatnonzero(np.abs(levels / (2.0 * levels[chosen]) - 1.0) < 0.05)
    if sub_fill >= _COMPLETE_SUBDIVISION and double.size and levels[double[0]] <= _FASTEST_BEAT:
        return int(double[0])
    return chosen


def tempo_candidates(
    onset_env: np.ndarray, frame_rate: float, band_envelopes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Candidate tempi, their features ``[candidate, feature]`` and the periodicity strength
    (the comb score in standard errors of a noise autocorrelation).

    None when the envelope is too short, silent or aperiodic.
    """
    envelope = np.nan_to_num(np.asarray(onset_env, dtype=np.float64).ravel())
    if envelope.size < _MIN_SECONDS * frame_rate or not np.any(envelope > 0):
        return None
    streams = [envelope]
    if band_envelopes is not None:
        bands = np.nan_to_num(np.asarray(band_envelopes, dtype=np.float64))
        if bands.ndim == 2 and bands.shape == (len(_BAND_EDGES), envelope.size):
            streams.extend(bands)
    normalised = [_normalise(stream, frame_rate) for stream in streams]
    if normalised[0] is None:
        return None
    # A silent band contributes nothing rather than disabling the band model.
    novelty = [n if n is not None else np.zeros(envelope.size) for n in normalised]
    max_lag = int(frame_rate * 60.0 / _GRID[0] * _COMB_MULTIPLES)
    acfs = [_autocorrelation(n, max_lag) for n in novelty]
    comb = _comb_scores(acfs[0], 60.0 * frame_rate / _GRID)
    in_range = (_GRID >= MIN_BPM) & (_GRID <= MAX_BPM)
    prior = np.exp(-0.5 * np.log2(_GRID / 120.0) ** 2)
    best = int(np.argmax(np.where(in_range, np.maximum(comb, 0.0) * prior, -np.inf)))
    strength = float(comb[best]) * np.sqrt(envelope.size)
    if strength < _NO_PERIODICITY:
        return None
    levels = _levels(comb, _GRID[best])
    onsets = np.stack([np.maximum(n - np.median(n), 0.0) for n in novelty])
    rows = [_level_features(bpm, comb, acfs, onsets, frame_rate) for bpm in levels]
    features = np.array(rows)
    features[:, 2] /= max(float(features[:, 2].max()), 1e-6)
    if len(acfs) > 1:
        # Percussive music (a periodic high band) and legato music mark the beat differently:
        # every feature also enters scaled by how periodic the high band is.
        period = 60.0 * frame_rate / _GRID[best : best + 1]
        percussive = float(np.clip(_comb_scores(acfs[3], period)[0], 0.0, 1.0))
        features = np.concatenate([features, features * percussive], axis=1)
    return levels, np.nan_to_num(features), strength


def _normalise(envelope: np.ndarray, frame_rate: float) -> np.ndarray | None:
    """Remove the slow trend and equalise the level over a few seconds; zero mean."""
    trend = uniform_filter1d(envelope, size=max(3, round(frame_rate)), mode="nearest")
    detail = np.maximum(envelope - trend, 0.0)
    overall = float(np.sqrt(np.mean(detail**2)))
    if overall <= 1e-12:
        return None
    local = uniform_filter1d(detail**2, size=max(3, int(4 * frame_rate)), mode="nearest")
    detail = detail / np.maximum(np.sqrt(np.maximum(local, 0.0)), 0.1 * overall)
    return detail - detail.mean()


def _autocorrelation(novelty: np.ndarray, max_lag: int) -> np.ndarray:
    n = novelty.size
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(novelty, size)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), size)[: min(max_lag + 2, n)]
    acf /= n - np.arange(acf.size)  # unbiased: long lags are not penalised by overlap
    return acf / acf[0] if acf[0] > 0 else acf


def _at(acf: np.ndarray, lag: np.ndarray | float) -> np.ndarray:
    return np.interp(lag, np.arange(acf.size), acf)


def _comb_scores(acf: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Mean autocorrelation at the first multiples of each (fractional) period."""
    lags = periods[:, None] * np.arange(1, _COMB_MULTIPLES + 1)[None, :]
    valid = lags <= acf.size - 1
    values = _at(acf, np.minimum(lags, acf.size - 1))
    counts = valid.sum(axis=1)
    return np.where(counts > 0, (values * valid).sum(axis=1) / np.maximum(counts, 1), -1.0)


def _levels(comb: np.ndarray, best_bpm: float) -> np.ndarray:
    """The comb's local maximum within 3 % of each octave of the best tempo, in range."""
    found = []
    for octave in _LEVEL_OCTAVES:
        target = best_bpm * 2.0**octave
        if not MIN_BPM <= target <= MAX_BPM:
            continue
        near = np.flatnonzero(np.abs(np.log(_GRID / target)) <= np.log(1.03))
        found.append(float(_GRID[near[np.argmax(comb[near])]]))
    return np.array(found)


def _level_features(
    bpm: float, comb: np.ndarray, acfs: list[np.ndarray], onsets: np.ndarray, frame_rate: float
) -> list[float]:
    period = 60.0 * frame_rate / bpm
    log_tempo = float(np.log2(bpm / 120.0))
    index = int(np.argmin(np.abs(_GRID - bpm)))
    row = [log_tempo, log_tempo**2, float(comb[index])]
    patterns = _patterns(onsets, frame_rate, period)
    for pattern, acf in zip(patterns, acfs, strict=True):
        beats = float(pattern[0::4].sum())
        strong, weak = sorted((float(pattern[[0, 8]].sum()), float(pattern[[4, 12]].sum())))[::-1]
        subdivisions = float(pattern[2::4].sum())
        row += [
            weak / max(strong + weak, 1e-9),  # 0: half-time would do, 0.5: every pulse real
            subdivisions / max(subdivisions + beats, 1e-9),  # near 0.5: the level is too slow
            float(_at(acf, period)),
            float(_at(acf, period / 2)),
        ]
    if len(patterns) == 1:
        return row
    low, mid, high = patterns[1], patterns[2], patterns[3]
    # Which pulse pair the bass band calls "1 and 3"; the others should answer on 2 and 4.
    order = [0, 8, 4, 12] if low[[0, 8]].sum() >= low[[4, 12]].sum() else [4, 12, 0, 8]

    def alternation(pattern: np.ndarray) -> float:
        total = max(float(pattern[order].sum()), 1e-9)
        return float(pattern[order[:2]].sum() - pattern[order[2:]].sum()) / total

    low_alt, mid_alt, high_alt = alternation(low), -alternation(mid), -alternation(high)
    return [
        *row,
        low_alt,
        mid_alt,
        high_alt,
        min(low_alt, mid_alt),
        min(low_alt, high_alt),
        min(low_alt, max(mid_alt, high_alt)),
    ]


def _patterns(onsets: np.ndarray, frame_rate: float, period: float) -> np.ndarray:
    """Mean onset strength at 16 positions over four periods, per stream ``[stream, 16]``.

    Folded in windows of a few bars so tempo drift does not smear the pattern; the
    phase of each window is the one where the first stream's four pulses are strongest.
    """
    cycle = 4.0 * period
    window = int(max(_PATTERN_WINDOW_S * frame_rate, 4 * cycle))
    total = onsets.shape[1]
    starts = np.arange(0, max(1, total - window // 2), window // 2) if total > window else [0]
    bins = int(np.ceil(cycle))
    grid = (np.arange(bins)[:, None] + np.arange(16)[None, :] * bins / 16.0) % bins
    result = np.zeros((onsets.shape[0], 16))
    for start in starts:  # a handful of windows; each folds every stream at once
        segment = onsets[:, start : start + window]
        position = np.floor((np.arange(segment.shape[1]) % cycle) / cycle * bins).astype(int)
        counts = np.maximum(np.bincount(position, minlength=bins), 1)
        profile = np.stack([np.bincount(position, s, bins) for s in segment]) / counts
        profile = (np.roll(profile, 1, axis=1) + profile + np.roll(profile, -1, axis=1)) / 3.0
        closed = np.concatenate([profile, profile[:, :1]], axis=1)
        sampled = np.stack([np.interp(grid, np.arange(bins + 1), row) for row in closed])
        phase = int(np.argmax(sampled[0][:, 0::4].sum(axis=1)))
        chosen = sampled[:, phase, :]
        result += chosen / np.maximum(chosen.mean(axis=1, keepdims=True), 1e-9)
    return result / len(starts)
