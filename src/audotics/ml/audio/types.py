"""Plain records passed between the audio decoders, analysers and their callers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# Bump when any feature's definition changes: `audotics analyze --all` re-analyses
# every track whose stored version differs.
ANALYSIS_VERSION = "1"
ANALYSIS_SAMPLE_RATE = 22_050
EMBEDDING_DIM = 64


@dataclass(frozen=True)
class DecodedAudio:
    """Mono float32 samples at ``sample_rate`` covering ``[window_start_s, window_end_s)``."""

    samples: np.ndarray
    sample_rate: int
    duration_s: float  # of the whole file
    channels: int
    source_sample_rate: int
    format: str
    window_start_s: float
    window_end_s: float
    # What decoding noticed (sanitised NaNs, clipping, truncation, very short audio, ...).
    warnings: tuple[str, ...] = ()
    # BS.1770 loudness input measured before mixdown and resampling: the channel-weighted
    # sum of K-weighted mean squares over each consecutive 100 ms of the window, at the
    # source rate (see loudness.power_steps). None: measure from ``samples`` instead.
    loudness_power: np.ndarray | None = None


@dataclass
class AudioFeatures:
    """Everything content analysis says about one track (column names of the catalog)."""

    analysis_version: str
    duration_s: float
    window: dict[str, float]  # {"start_s", "end_s"} of the analysed excerpt
    tempo_bpm: float | None
    tempo_confidence: float
    key: str | None  # "C", "C#", ... "B"
    mode: str | None  # "major" | "minor"
    key_confidence: float
    loudness_lufs: float | None  # None for digital silence
    dynamic_range_db: float | None  # loudness range (LRA-style), LU
    energy: float
    danceability: float
    acousticness: float
    instrumentalness: float
    valence: float
    onset_rate: float  # onsets per second
    spectral_centroid: float  # Hz
    spectral_rolloff: float  # Hz
    spectral_flatness: float
    spectral_bandwidth: float  # Hz
    zero_crossing_rate: float
    chroma: list[float] = field(default_factory=list)  # 12 values, sum 1
    mfcc_mean: list[float] = field(default_factory=list)
    mfcc_var: list[float] = field(default_factory=list)
    embedding: list[float] = field(default_factory=list)  # EMBEDDING_DIM, L2-normalised
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
