"""A user's taste profile, computed from their events and item-side arrays (no DB, no web).

Inputs are plain arrays so the same code runs in the API, in a worker and offline:

- :class:`UserEvents`: parallel arrays of item indices, event codes (indices into
  :data:`audotics.ml.datasets.records.EVENTS`) and UTC epoch seconds;
- :class:`ItemMetadata`: per item, the artist index, a genre membership matrix,
  named audio features (NaN = unknown), sound embeddings with a mask, and global
  popularity (play counts).

Engagement weighting (one number per distinct track, the sum over its events):
``play`` +1, ``complete`` +2, ``like`` +3, ``unlike`` -3, ``skip`` -1
(:data:`EVENT_WEIGHTS`). A track whose net engagement is <= 0 (mostly skipped, or
liked then unliked) is excluded from every weighted statistic (centroid, spread,
top artists/genres, diversity, novelty); it still counts in the raw counts and the
time histograms, which describe *when* the user listens, not what they like.

Statistics:

- audio features: weighted mean, weighted std and weighted quantiles
  (:data:`QUANTILES`) per feature over the tracks with a known value;
- embedding centroid: weighted mean of the masked sound embeddings;
- top artists/genres: engagement mass per artist/genre, normalised to sum to 1
  (a track with several genres splits its weight evenly);
- diversity: Shannon entropy (nats) of the artist and genre distributions and the
  mean pairwise cosine distance between the embeddings of distinct engaged tracks;
- novelty: engagement-weighted mean self-information ``-log2 p(i)`` with ``p(i)``
  the item's share of global plays (add-one smoothed, so unseen items are finite);
- CF factors: the model's row for a known user, else ``FactorModel.fold_in`` over
  the engaged items with their engagement as confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from audotics.ml.cf.model import FactorModel
from audotics.ml.datasets.records import EVENTS

EVENT_WEIGHTS: dict[str, float] = {
    "play": 1.0,
    "complete": 2.0,
    "like": 3.0,
    "unlike": -3.0,
    "skip": -1.0,
}
QUANTILES: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)
_CODE_WEIGHTS = np.array([EVENT_WEIGHTS[name] for name in EVENTS])
_PLAY_CODES = np.array([EVENTS.index("play"), EVENTS.index("complete")])


@dataclass(frozen=True)
class UserEvents:
    items: np.ndarray  # (n,) int item indices into ItemMetadata
    events: np.ndarray  # (n,) int codes into EVENTS
    timestamps: np.ndarray  # (n,) float UTC epoch seconds

    @classmethod
    def empty(cls) -> UserEvents:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))


@dataclass(frozen=True)
class ItemMetadata:
    artist: np.ndarray  # (m,) int artist index per item
    n_artists: int
    genres: np.ndarray  # (m, g) bool
    features: np.ndarray  # (m, k) float, NaN = unknown
    feature_names: tuple[str, ...]
    embeddings: np.ndarray  # (m, d) float
    embedding_mask: np.ndarray  # (m,) bool
    popularity: np.ndarray  # (m,) global play counts
    total_plays: float | None = None  # over the whole catalogue; None = popularity.sum()


@dataclass(frozen=True)
class FeatureStats:
    mean: float
    std: float
    quantiles: dict[float, float]
    n_tracks: int


@dataclass(frozen=True)
class TasteProfile:
    plays: int
    events: int
    distinct_tracks: int
    distinct_artists: int
    first_listen: datetime | None
    last_listen: datetime | None
    features: dict[str, FeatureStats]
    embedding_centroid: np.ndarray | None
    top_artists: list[tuple[int, float]]  # (artist index, weight), weights sum to 1 over all
    top_genres: list[tuple[int, float]]
    hour_histogram: np.ndarray  # (24,) event counts by UTC hour
    weekday_histogram: np.ndarray  # (7,) Monday = 0
    artist_entropy: float
    genre_entropy: float
    embedding_diversity: float | None
    novelty: float | None
    cf_factors: np.ndarray | None = field(default=None)

    @property
    def is_empty(self) -> bool:
        return self.events == 0


def engagement_weights(events: UserEvents, n_items: int) -> np.ndarray:
    """Net engagement per item (the documented event weights summed)."""
    weights = np.zeros(n_items)
    if events.items.size:
        np.add.at(weights, events.items, _CODE_WEIGHTS[events.events])
    return weights


def _entropy(weights: np.ndarray) -> float:
    total = weights.sum()
    if total <= 0:
        return 0.0
    p = weights[weights > 0] / total
    return float(-(p * np.log(p)).sum())


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w) - 0.5 * w
    return float(np.interp(q * w.sum(), cum, v))


def _feature_stats(values: np.ndarray, weights: np.ndarray) -> FeatureStats | None:
    known = np.isfinite(values)
    if not known.any():
        return None
    v, w = values[known], weights[known]
    mean = float(np.average(v, weights=w))
    std = float(np.sqrt(np.average((v - mean) ** 2, weights=w)))
    quantiles = {q: _weighted_quantile(v, w, q) for q in QUANTILES}
    return FeatureStats(mean=mean, std=std, quantiles=quantiles, n_tracks=int(known.sum()))


def _top(mass: np.ndarray, k: int) -> list[tuple[int, float]]:
    total = mass.sum()
    if total <= 0:
        return []
    order = np.argsort(-mass, kind="stable")[:k]
    return [(int(i), float(mass[i] / total)) for i in order if mass[i] > 0]


def _mean_pairwise_cosine_distance(vectors: np.ndarray) -> float | None:
    if len(vectors) < 2:
        return None
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    sims = unit @ unit.T
    n = len(unit)
    mean_sim = (sims.sum() - np.trace(sims)) / (n * (n - 1))
    return float(1.0 - mean_sim)


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def build_taste_profile(
    events: UserEvents,
    items: ItemMetadata,
    *,
    model: FactorModel | None = None,
    user_index: int | None = None,
    model_items: np.ndarray | None = None,
    top_k: int = 10,
) -> TasteProfile:
    """The profile of one user. ``model_items`` maps item index -> model item index (-1 =
    not in the model) when the model's item order differs from ``items``."""
    n_items = len(items.artist)
    ts = events.timestamps.astype(np.float64)
    hours = np.zeros(24, np.int64)
    weekdays = np.zeros(7, np.int64)
    if ts.size:
        days = np.floor(ts / 86400.0)
        np.add.at(hours, ((ts - days * 86400.0) // 3600).astype(np.int64) % 24, 1)
        np.add.at(weekdays, ((days + 3) % 7).astype(np.int64), 1)  # 1970-01-01 was a Thursday

    net = engagement_weights(events, n_items)
    engaged = np.flatnonzero(net > 0)
    w = net[engaged]

    features: dict[str, FeatureStats] = {}
    for j, name in enumerate(items.feature_names):
        stats = _feature_stats(items.features[engaged, j], w) if engaged.size else None
        if stats is not None:
            features[name] = stats

    centroid = None
    diversity = None
    with_vec = engaged[items.embedding_mask[engaged]] if engaged.size else engaged
    if with_vec.size:
        centroid = np.average(items.embeddings[with_vec], axis=0, weights=net[with_vec])
        diversity = _mean_pairwise_cosine_distance(items.embeddings[with_vec])

    artist_mass = np.zeros(items.n_artists)
    np.add.at(artist_mass, items.artist[engaged], w)
    genre_mass = np.zeros(items.genres.shape[1])
    if engaged.size and genre_mass.size:
        g = items.genres[engaged].astype(np.float64)
        per_track = g.sum(axis=1, keepdims=True)
        genre_mass = (g / np.where(per_track > 0, per_track, 1.0) * w[:, None]).sum(axis=0)

    novelty = None
    if engaged.size:
        pop = items.popularity.astype(np.float64) + 1.0
        total = pop.sum() if items.total_plays is None else items.total_plays + n_items
        info = -np.log2(pop[engaged] / total)
        novelty = float(np.average(info, weights=w))

    factors = None
    if model is not None:
        if user_index is not None:
            factors = np.asarray(model.user_factors[user_index], dtype=np.float32)
        else:
            mapped = engaged if model_items is None else model_items[engaged]
            keep = mapped >= 0
            factors = model.fold_in(mapped[keep].tolist(), w[keep].tolist())

    distinct = np.unique(events.items)
    return TasteProfile(
        plays=int(np.isin(events.events, _PLAY_CODES).sum()),
        events=int(events.items.size),
        distinct_tracks=int(distinct.size),
        distinct_artists=int(np.unique(items.artist[distinct]).size),
        first_listen=_moment(float(ts.min())) if ts.size else None,
        last_listen=_moment(float(ts.max())) if ts.size else None,
        features=features,
        embedding_centroid=centroid,
        top_artists=_top(artist_mass, top_k),
        top_genres=_top(genre_mass, top_k),
        hour_histogram=hours,
        weekday_histogram=weekdays,
        artist_entropy=_entropy(artist_mass),
        genre_entropy=_entropy(genre_mass),
        embedding_diversity=diversity,
        novelty=novelty,
        cf_factors=factors,
    )
