"""Synthetic listening histories with planted structure, for tests and benchmarks.

The generative story (all vectorised, deterministic for a seed):

* ``n_clusters`` taste clusters, each with a centre in audio-feature space
  (:data:`FEATURE_NAMES`: tempo, energy, valence, danceability, acousticness,
  loudness). Artists belong to one cluster; each item (track) belongs to one artist,
  so to that artist's cluster, and its features are the centre plus noise.
* Popularity is Zipf-skewed: a random rank per item, weight ``rank ** -zipf_exponent``.
* Each user has a primary cluster (``user_cluster``, the ground truth for tests) and,
  with probability ``second_taste``, a secondary one taking 30 % of their taste.
  Each user keeps a small library of favourite items from their clusters.
* A user's events: ``library_share`` repeat plays from the library (favourites
  first), ``discovery_share`` new items from their clusters by popularity, the rest
  off-taste items from the whole catalogue (radio, shuffle).
* Off-taste listens are mostly skips; on-taste ones mostly completions, some partial
  plays, few skips; some on-taste listens also get a like.
* Times: events fall into sessions (about ``session_length`` listens each, ~3.5 min
  apart) spread over ``days`` days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audotics.ml.datasets.interactions import EVENT_CODE, Interactions

FEATURE_NAMES: tuple[str, ...] = (
    "tempo_bpm",
    "energy",
    "valence",
    "danceability",
    "acousticness",
    "loudness_lufs",
)
_LOW = np.array([70.0, 0.0, 0.0, 0.0, 0.0, -20.0])
_HIGH = np.array([180.0, 1.0, 1.0, 1.0, 1.0, -4.0])
_NOISE = np.array([6.0, 0.06, 0.06, 0.06, 0.06, 1.2])
_START = 1_700_000_000.0  # 2023-11-14, a fixed origin keeps the data reproducible


@dataclass(frozen=True, eq=False)
class SyntheticData:
    interactions: Interactions
    item_features: np.ndarray  # (n_items, len(FEATURE_NAMES)) float32
    feature_names: tuple[str, ...]
    item_cluster: np.ndarray  # int32 per item
    item_artist: np.ndarray  # int32 per item
    item_popularity: np.ndarray  # float64 planted popularity (sums to 1)
    item_duration_s: np.ndarray  # float32
    user_cluster: np.ndarray  # int32 primary taste cluster per user (ground truth)
    user_second_cluster: np.ndarray  # int32 (== user_cluster when the user has one taste)
    cluster_centers: np.ndarray  # (n_clusters, n_features)
    n_clusters: int


def generate_synthetic(
    n_users: int,
    n_items: int,
    seed: int = 0,
    *,
    n_clusters: int = 8,
    items_per_artist: int = 8,
    zipf_exponent: float = 1.0,
    mean_events: float = 60.0,
    library_size: float = 15.0,
    library_share: float = 0.6,
    discovery_share: float = 0.25,
    second_taste: float = 0.4,
    like_rate: float = 0.08,
    session_length: float = 8.0,
    days: float = 90.0,
) -> SyntheticData:
    """Generate users, items with audio features, and their listening log."""
    if n_users < 1 or n_items < n_clusters or n_clusters < 1:
        raise ValueError("need n_users >= 1 and n_items >= n_clusters >= 1")
    rng = np.random.default_rng(seed)
    k = n_clusters

    # Items: artists in clusters, features around cluster centres, Zipf popularity.
    centers = rng.uniform(_LOW, _HIGH, size=(k, len(FEATURE_NAMES)))
    n_artists = max(k, n_items // max(1, items_per_artist))
    artist_cluster = rng.integers(0, k, size=n_artists)
    artist_cluster[:k] = np.arange(k)
    item_artist = rng.integers(0, n_artists, size=n_items)
    item_artist[:n_artists] = np.arange(min(n_artists, n_items))
    item_cluster = artist_cluster[item_artist]
    features = centers[item_cluster] + rng.normal(size=(n_items, len(FEATURE_NAMES))) * _NOISE
    features = np.clip(features, _LOW, _HIGH).astype(np.float32)
    popularity = (rng.permutation(n_items) + 1.0) ** -zipf_exponent
    popularity /= popularity.sum()
    duration = rng.uniform(140.0, 330.0, size=n_items).astype(np.float32)

    members = [np.flatnonzero(item_cluster == c) for c in range(k)]
    member_cdf = [np.cumsum(popularity[m]) / popularity[m].sum() for m in members]
    global_cdf = np.cumsum(popularity)

    def draw_in_clusters(clusters: np.ndarray) -> np.ndarray:
        out = np.empty(len(clusters), dtype=np.int64)
        for c in range(k):
            where = np.flatnonzero(clusters == c)
            if where.size:
                picks = np.searchsorted(member_cdf[c], rng.random(where.size), side="right")
                out[where] = members[c][np.minimum(picks, len(members[c]) - 1)]
        return out

    # Users: primary and optional secondary cluster; a library of favourites.
    user_cluster = rng.integers(0, k, size=n_users)
    second = np.where(rng.random(n_users) < second_taste, rng.integers(0, k, n_users), user_cluster)

    def taste_clusters(users: np.ndarray) -> np.ndarray:
        return np.where(rng.random(len(users)) < 0.7, user_cluster[users], second[users])

    lib_len = np.maximum(3, rng.poisson(library_size, size=n_users))
    lib_offset = np.concatenate([[0], np.cumsum(lib_len)])
    lib_users = np.repeat(np.arange(n_users), lib_len)
    library = draw_in_clusters(taste_clusters(lib_users))

    # Events.
    sigma = 0.6
    n_events = np.maximum(
        5, np.round(rng.lognormal(np.log(mean_events) - sigma**2 / 2, sigma, n_users))
    ).astype(np.int64)
    ev_user = np.repeat(np.arange(n_users), n_events)
    total = len(ev_user)
    choice = rng.random(total)
    favourite = np.floor(lib_len[ev_user] * rng.random(total) ** 2).astype(np.int64)
    ev_item = library[lib_offset[ev_user] + favourite]
    discover = (choice >= library_share) & (choice < library_share + discovery_share)
    ev_item[discover] = draw_in_clusters(taste_clusters(ev_user[discover]))
    off = choice >= library_share + discovery_share
    ev_item[off] = np.minimum(
        np.searchsorted(global_cdf, rng.random(int(off.sum())), side="right"), n_items - 1
    )
    on_taste = (item_cluster[ev_item] == user_cluster[ev_user]) | (
        item_cluster[ev_item] == second[ev_user]
    )
    roll = rng.random(total)
    event = np.where(
        on_taste,
        np.where(
            roll < 0.05,
            EVENT_CODE["skip"],
            np.where(roll < 0.7, EVENT_CODE["complete"], EVENT_CODE["play"]),
        ),
        np.where(roll < 0.7, EVENT_CODE["skip"], EVENT_CODE["play"]),
    ).astype(np.int8)

    # Sessions over time.
    n_sessions = np.maximum(1, np.ceil(n_events / session_length)).astype(np.int64)
    session_offset = np.concatenate([[0], np.cumsum(n_sessions)])
    session_start = _START + rng.uniform(0.0, days * 86400.0, size=int(session_offset[-1]))
    ev_session = session_offset[ev_user] + np.floor(rng.random(total) * n_sessions[ev_user]).astype(
        np.int64
    )
    order = np.argsort(ev_session, kind="stable")
    sorted_session = ev_session[order]
    first_of_session = np.searchsorted(sorted_session, sorted_session, side="left")
    position = np.empty(total, dtype=np.int64)
    position[order] = np.arange(total) - first_of_session
    timestamp = session_start[ev_session] + position * 210.0 + rng.uniform(0.0, 20.0, total)

    # Likes: an extra event one second after some on-taste, non-skipped listens.
    liked = on_taste & (event != EVENT_CODE["skip"]) & (rng.random(total) < like_rate)
    user_col = np.concatenate([ev_user, ev_user[liked]]).astype(np.int32)
    item_col = np.concatenate([ev_item, ev_item[liked]]).astype(np.int32)
    time_col = np.concatenate([timestamp, timestamp[liked] + 1.0])
    event_col = np.concatenate(
        [event, np.full(int(liked.sum()), EVENT_CODE["like"], dtype=np.int8)]
    )
    chrono = np.lexsort((time_col, user_col))
    interactions = Interactions(
        user_ids=tuple(f"u{u:06d}" for u in range(n_users)),
        item_ids=tuple(f"t{i:07d}" for i in range(n_items)),
        user=user_col[chrono],
        item=item_col[chrono],
        count=np.ones(len(chrono), dtype=np.float32),
        timestamp=time_col[chrono],
        event=event_col[chrono],
        item_names=tuple(f"Artist {a} - Track {i}" for i, a in enumerate(item_artist.tolist())),
    )
    return SyntheticData(
        interactions=interactions,
        item_features=features,
        feature_names=FEATURE_NAMES,
        item_cluster=item_cluster.astype(np.int32),
        item_artist=item_artist.astype(np.int32),
        item_popularity=popularity,
        item_duration_s=duration,
        user_cluster=user_cluster.astype(np.int32),
        user_second_cluster=second.astype(np.int32),
        cluster_centers=centers,
        n_clusters=k,
    )
