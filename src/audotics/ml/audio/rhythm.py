"""Tempo estimation: periodicity of onset envelopes, then a choice of metrical level.

1. Periodicity. The onset envelope is detrended and level-normalised over a few
   seconds (quiet openings count as much as loud choruses); its autocorrelation,
   read at fractional lags, gives a comb score per tempo on a 0.5 % log-BPM grid:
   the mean at the first four multiples of the period, which pins the period to
   about 1 % and survives drifts of a few percent.
2. Metrical level. A comb cannot tell the beat from its double or half, so the
   candidates are the comb's peaks near 1/4, 1/2, 1, 2 and 4 times its best tempo,
   plus the same octaves of the bass band's and the harmonic stream's own best
   tempo when those are not already there (legato strings, whose dotted melody
   pulls the onset comb to 3:2 or 4:3 of the beat while the bass moves in half
   notes), and each is described by features a listener uses: how strong the pulses
   between its beats are relative to its beats ("fill", per frequency band:
   subdivisions are weaker than beats, half-time skips real beats), whether the
   bass band hits beats 1 and 3 while the mid/high bands answer on 2 and 4 (a
   backbeat), its autocorrelation at one and half a period, its tempo (a
   log-quadratic prior), and where the chords change: a harmonic-change stream
   (frame-to-frame chroma distance, ``harmonic_change``) folded and autocorrelated
   like the onset bands, plus the number of beats per chord change -- slow legato
   pieces change chord on their beats, so this tells the beat from its double
   where their even note onsets cannot; how many onsets fall in a beat (log2, and
   its distance from two: a beat is slower than the surface of notes); how well
   the bass and the chord changes repeat at the level's period. Each feature
   enters twice, once scaled by how periodic the high band is, since drums and
   legato music mark the beat differently. A
   linear score over these picks the beat (an even click track, whose subdivisions
   are as strong as its beats, takes the faster level). The weights were fitted
   (a conditional logit) on rendered sets with known tempo -- the project's
   generator and MIDI pieces rendered through a General MIDI soundfont -- by
   ``tests/unit/audio_estimators/fit_models.py``, which prints them (current
   weights: MIDI seeds 1-30 and synthetic seeds 1-5; the report seeds 101, 202,
   303 and 404 held out).

Band envelopes come from ``band_onsets(spectrum)`` (the shared mel spectrum, no
new STFT) and the harmonic stream from the key chromagram that key estimation
computes anyway; without the bands the estimator uses the single envelope and a
weaker model fitted the same way.
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
_HARMONIC_SMOOTHING = 9  # frames (~0.2 s at 43 frames/s)

FEATURE_NAMES = (
    "log_tempo", "log_tempo_sq", "comb",
    "full_fill", "full_sub_fill", "full_acf", "full_acf_half",
    "low_fill", "low_sub_fill", "low_acf", "low_acf_half",
    "mid_fill", "mid_sub_fill", "mid_acf", "mid_acf_half",
    "high_fill", "high_sub_fill", "high_acf", "high_acf_half",
    "harm_fill", "harm_sub_fill", "harm_acf", "harm_acf_half", "harm_acf_2", "harm_acf_4",
    "low_alternation", "mid_backbeat", "high_backbeat",
    "backbeat_mid", "backbeat_high", "backbeat", "beats_per_chord", "beats_per_chord_sq",
    "other_family", "low_comb", "harm_comb",
    "full_per_beat", "low_per_beat", "high_per_beat",
    "full_per_beat_sq", "low_per_beat_sq", "high_per_beat_sq",
)  # fmt: skip
SINGLE_BAND_FEATURES = 7  # the first seven need only the full envelope

# Fitted by tests/unit/audio_estimators/fit_models.py (weights on standardised features;
# the band model sees every feature twice: as is and scaled by the high band's periodicity).
# fmt: off
_BAND_MODEL = {
    "mean": np.array([
        -0.3170, 0.6455, 0.7328, 0.3974, 0.2726, 0.3527, 0.2075, 0.3357, 0.3532, 0.1823,
        0.0781, 0.3887, 0.3231, 0.2459, 0.1246, 0.3986, 0.2914, 0.3056, 0.1680, 0.3561,
        0.3445, 0.0723, -0.0691, 0.3156, 0.4045, 0.3263, -0.1183, -0.0582, -0.1370, -0.0816,
        -0.0391, 0.0349, 0.7015, 0.1381, 0.2378, 0.2234, 0.9476, 0.3950, 1.0627, 1.0335,
        1.6994, 0.9343, -0.1201, 0.2451, 0.2935, 0.1544, 0.1020, 0.1661, 0.0984, 0.1259,
        0.1263, 0.0849, 0.0375, 0.1473, 0.1157, 0.1156, 0.0593, 0.1529, 0.1024, 0.1469,
        0.0810, 0.1361, 0.1313, 0.0331, -0.0260, 0.1266, 0.1624, 0.1266, -0.0472, -0.0202,
        -0.0538, -0.0284, -0.0144, 0.0354, 0.2685, 0.0401, 0.1118, 0.0918, 0.3337, 0.1070,
        0.3389, 0.3390, 0.6792, 0.3220
    ]),
    "scale": np.array([
        0.7382, 0.6884, 0.3166, 0.1185, 0.1414, 0.2913, 0.2774, 0.1535, 0.2682, 0.2403,
        0.1959, 0.1150, 0.1794, 0.2547, 0.2185, 0.1064, 0.1441, 0.2603, 0.2370, 0.1312,
        0.1959, 0.3182, 0.2268, 0.2720, 0.2398, 0.3057, 0.2971, 0.2882, 0.2690, 0.2552,
        0.2426, 0.8368, 0.8223, 0.3450, 0.1961, 0.2098, 1.0153, 1.1547, 0.9646, 1.2945,
        2.4244, 1.1531, 0.3243, 0.3252, 0.2126, 0.0980, 0.0839, 0.1725, 0.1508, 0.0937,
        0.1351, 0.1297, 0.0981, 0.0935, 0.0987, 0.1457, 0.1164, 0.0960, 0.0800, 0.1626,
        0.1351, 0.0914, 0.1116, 0.1394, 0.1005, 0.1363, 0.1444, 0.1550, 0.1325, 0.1233,
        0.1232, 0.1104, 0.1093, 0.3612, 0.3894, 0.1213, 0.1245, 0.1095, 0.4226, 0.4731,
        0.3912, 0.4429, 1.1367, 0.4334
    ]),
    "weights": np.array([
        -0.6706, -2.7510, 0.6810, 0.1143, -0.0701, -0.0983, -0.0755, -0.2947, 0.1526, 0.3801,
        -0.3315, 0.1321, -0.2230, 0.6572, -0.4771, 0.3484, -0.1203, 1.0601, 0.3820, 0.0663,
        -0.4525, 0.1541, -1.0647, 1.1632, 0.7950, 0.0501, 0.0745, -0.1270, -0.2230, 0.4875,
        -0.4881, -0.5916, -0.1375, 0.3394, -0.2852, -0.0989, 0.4876, 0.4287, 0.5132, -0.0591,
        -0.2496, -0.3870, 0.5251, -1.4003, 0.5493, -0.9076, 0.6584, -0.8595, 0.3421, 0.0314,
        -0.9301, 0.3129, -0.1154, 0.3470, 0.1782, 0.2176, 0.7765, -0.7326, -0.3863, -0.7255,
        0.2166, 0.1874, -1.0780, 0.3058, 1.1473, -0.5614, 0.4739, 0.0931, 0.0263, -0.1082,
        -0.2161, 0.3911, 0.6008, 0.4714, 0.5958, -0.1158, -0.1336, -0.0855, -0.4029, -0.3600,
        -0.4352, -0.4824, -0.8119, 0.8796
    ]),
}
_SINGLE_MODEL = {
    "mean": np.array([
        -0.3199, 0.6379, 0.8180, 0.3961, 0.2587, 0.4067, 0.2371
    ]),
    "scale": np.array([
        0.7318, 0.6852, 0.2239, 0.1224, 0.1441, 0.2737, 0.2802
    ]),
    "weights": np.array([
        -1.1812, -2.3974, 0.7989, 0.2167, -0.0057, -0.3170, 0.1551
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


def harmonic_change(chroma: np.ndarray) -> np.ndarray:
    """``[frames]`` chord-change strength: how far each frame's pitch-class profile moved.

    Frame-to-frame distance of the unit-normalised chroma (``tonality.key_chromagram``),
    smoothed over ~0.2 s so a chord that changes over a few frames (legato voices,
    strums) makes one pulse. Slow legato pieces change chord on their beats, not
    between them, which tells the beat from its double where note onsets cannot.
    """
    chroma = np.nan_to_num(np.asarray(chroma, dtype=np.float64))
    change = np.zeros(chroma.shape[1] if chroma.ndim == 2 else 0)
    if chroma.ndim != 2 or chroma.shape[1] < 2:
        return change
    norms = np.linalg.norm(chroma, axis=0)
    unit = chroma / np.maximum(norms, 1e-9 * max(float(norms.max()), 1e-12))
    change[1:] = np.linalg.norm(np.diff(unit, axis=1), axis=0)
    return uniform_filter1d(change, size=_HARMONIC_SMOOTHING, mode="nearest")


def estimate_tempo(
    onset_env: np.ndarray,
    frame_rate: float,
    band_envelopes: np.ndarray | None = None,
    harmonic: np.ndarray | None = None,
) -> tuple[float | None, float]:
    """Beats per minute in [40, 240] (None without periodicity) and a confidence in [0, 1].

    ``band_envelopes`` from ``band_onsets`` and ``harmonic`` from ``harmonic_change``
    (same frames as ``onset_env``) select the band model, which was fitted with both.
    """
    candidates = tempo_candidates(onset_env, frame_rate, band_envelopes, harmonic)
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
    onset_env: np.ndarray,
    frame_rate: float,
    band_envelopes: np.ndarray | None = None,
    harmonic: np.ndarray | None = None,
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
            change = np.zeros(envelope.size)
            if harmonic is not None and np.size(harmonic) == envelope.size:
                change = np.nan_to_num(np.asarray(harmonic, dtype=np.float64).ravel())
            streams.append(change)
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
    extra = np.zeros(levels.size)
    if len(acfs) > 1:
        levels, extra = _other_families(levels, acfs, frame_rate, in_range, prior)
    onsets = np.stack([np.maximum(n - np.median(n), 0.0) for n in novelty])
    rows = [_level_features(bpm, comb, acfs, onsets, frame_rate) for bpm in levels]
    if len(acfs) > 1:
        chord_rate = _chord_rate(acfs[4], frame_rate)
        for row, bpm in zip(rows, levels, strict=True):
            # Beats per chord change (log2, centred on 2-4): 0 without a harmonic rhythm.
            ratio = np.log2(bpm / chord_rate) - 1.5 if chord_rate else 0.0
            row += [ratio, ratio**2]
        # How well the bass and the chord changes repeat at each level's period.
        periods = 60.0 * frame_rate / levels
        combs = [_comb_scores(acf, periods) for acf in (acfs[1], acfs[4])]
        rates = _onset_rates(onsets[[0, 1, 3]], frame_rate)
        for index, row in enumerate(rows):
            row += [float(extra[index])] + [float(comb[index]) for comb in combs]
            # Onsets per beat (log2): a beat level is slower than the surface of notes.
            per_beat = [float(np.log2(max(rate, 1.0) / levels[index])) for rate in rates]
            row += per_beat + [(value - 1.0) ** 2 for value in per_beat]
    features = np.array(rows)
    features[:, 2] /= max(float(features[:, 2].max()), 1e-6)
    if len(acfs) > 1:
        # Percussive music (a periodic high band) and legato music mark the beat differently:
        # every feature also enters scaled by how periodic the high band is.
        period = 60.0 * frame_rate / _GRID[best : best + 1]
        percussive = float(np.clip(_comb_scores(acfs[3], period)[0], 0.0, 1.0))
        features = np.concatenate([features, features * percussive], axis=1)
    return levels, np.nan_to_num(features), strength


def _other_families(
    levels: np.ndarray,
    acfs: list[np.ndarray],
    frame_rate: float,
    in_range: np.ndarray,
    prior: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The metrical levels of the bass band's and the harmonic stream's own best tempo,
    when the full envelope's comb missed them (legato strings: the melody's dotted
    rhythms pull the comb to 3:2 or 4:3 of the beat, but the bass moves in half notes
    and the chords change on the bar). Returns all levels and a 1 for the added ones.
    """
    found, added = list(levels), [0.0] * levels.size
    for acf in (acfs[1], acfs[4]):
        comb = _comb_scores(acf, 60.0 * frame_rate / _GRID)
        best = int(np.argmax(np.where(in_range, np.maximum(comb, 0.0) * prior, -np.inf)))
        if comb[best] <= 0:
            continue
        for bpm in _levels(comb, _GRID[best]):
            if all(abs(np.log(bpm / other)) > np.log(1.03) for other in found):
                found.append(float(bpm))
                added.append(1.0)
    order = np.argsort(found)
    return np.array(found)[order], np.array(added)[order]


def _onset_rates(onsets: np.ndarray, frame_rate: float) -> np.ndarray:
    """Onsets per minute of each stream: its local maxima above a fifth of its strong peaks."""
    if onsets.shape[1] < 3:
        return np.zeros(onsets.shape[0])
    middle = onsets[:, 1:-1]
    peak = (middle > onsets[:, :-2]) & (middle >= onsets[:, 2:])
    floor = 0.2 * np.percentile(onsets, 99, axis=1, keepdims=True)
    counts = np.count_nonzero(peak & (middle > floor), axis=1)
    return counts * 60.0 * frame_rate / onsets.shape[1]


def _chord_rate(harmonic_acf: np.ndarray, frame_rate: float) -> float | None:
    """Chord changes per minute: the harmonic stream's best comb period, 1-6 s apart."""
    rates = _GRID[(_GRID >= 10.0) & (_GRID <= 60.0)]
    scores = _comb_scores(harmonic_acf, 60.0 * frame_rate / rates)
    best = int(np.argmax(scores))
    return float(rates[best]) if scores[best] > 0 else None


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
    # Chords change every 2 or 4 beats: the harmonic stream's periodicity at 2 and 4 periods.
    row += [float(_at(acfs[4], min(period * m, acfs[4].size - 1))) for m in (2, 4)]
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
    below = np.floor(grid).astype(int)
    fraction = grid - below  # linear interpolation between profile bins, every stream at once
    streams = onsets.shape[0]
    offsets = (np.arange(streams) * bins)[:, None]
    result = np.zeros((streams, 16))
    for start in starts:  # a handful of windows; each folds every stream at once
        segment = onsets[:, start : start + window]
        position = np.floor((np.arange(segment.shape[1]) % cycle) / cycle * bins).astype(int)
        counts = np.maximum(np.bincount(position, minlength=bins), 1)
        flat = (position[None, :] + offsets).ravel()
        sums = np.bincount(flat, segment.ravel(), streams * bins).reshape(streams, bins)
        profile = sums / counts
        profile = (np.roll(profile, 1, axis=1) + profile + np.roll(profile, -1, axis=1)) / 3.0
        closed = np.concatenate([profile, profile[:, :1]], axis=1)
        sampled = closed[:, below] * (1.0 - fraction) + closed[:, below + 1] * fraction
        phase = int(np.argmax(sampled[0][:, 0::4].sum(axis=1)))
        chosen = sampled[:, phase, :]
        result += chosen / np.maximum(chosen.mean(axis=1, keepdims=True), 1e-9)
    return result / len(starts)
