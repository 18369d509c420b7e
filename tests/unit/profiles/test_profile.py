"""Taste profiles on planted structure: the statistics recover what was planted."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from audotics.ml.cf.model import FactorModel
from audotics.ml.datasets.records import EVENTS
from audotics.ml.profiles import ItemMetadata, UserEvents, build_taste_profile

N_CLUSTERS, PER_CLUSTER, DIM = 4, 25, 16
RNG = np.random.default_rng(7)
CENTRES = RNG.normal(size=(N_CLUSTERS, DIM)) * 5
N_ITEMS = N_CLUSTERS * PER_CLUSTER
CLUSTER = np.repeat(np.arange(N_CLUSTERS), PER_CLUSTER)
EMB = CENTRES[CLUSTER] + RNG.normal(size=(N_ITEMS, DIM)) * 0.3
TEMPO = np.where(CLUSTER == 0, 80.0, 140.0) + RNG.normal(size=N_ITEMS)
ITEMS = ItemMetadata(
    artist=np.arange(N_ITEMS) // 5,  # 5 tracks per artist, 5 artists per cluster
    n_artists=N_ITEMS // 5,
    genres=np.eye(N_CLUSTERS, dtype=bool)[CLUSTER],
    features=TEMPO[:, None],
    feature_names=("tempo_bpm",),
    embeddings=EMB,
    embedding_mask=np.ones(N_ITEMS, dtype=bool),
    popularity=np.where(np.arange(N_ITEMS) % 2 == 0, 1000, 1),
)
T0 = datetime(2024, 3, 4, tzinfo=UTC).timestamp()  # a Monday, 00:00 UTC


def events(items: list[int], event: str = "play", hour: int = 21) -> UserEvents:
    code = EVENTS.index(event)
    return UserEvents(
        items=np.array(items),
        events=np.full(len(items), code),
        timestamps=T0 + hour * 3600 + np.arange(len(items)) * 60.0,
    )


def concat(*parts: UserEvents) -> UserEvents:
    return UserEvents(
        np.concatenate([p.items for p in parts]),
        np.concatenate([p.events for p in parts]),
        np.concatenate([p.timestamps for p in parts]),
    )


def test_centroid_sits_at_the_planted_cluster_and_hours_are_binned() -> None:
    cluster_two = list(range(2 * PER_CLUSTER, 3 * PER_CLUSTER))
    profile = build_taste_profile(events(cluster_two), ITEMS)
    assert profile.embedding_centroid is not None
    distances = np.linalg.norm(CENTRES - profile.embedding_centroid, axis=1)
    assert int(distances.argmin()) == 2 and distances[2] < 0.5
    assert profile.hour_histogram[21] == PER_CLUSTER and profile.hour_histogram.sum() == 25
    assert profile.weekday_histogram[0] == PER_CLUSTER
    assert profile.top_genres == [(2, 1.0)]
    assert profile.distinct_artists == 5 and profile.plays == 25


def test_skips_are_excluded_and_likes_weigh_more() -> None:
    liked = events([0, 1], "like")  # cluster 0, tempo ~80
    played = events([30, 31])  # cluster 1, tempo ~140
    skipped = events([60, 61, 62], "skip")
    profile = build_taste_profile(concat(liked, played, skipped), ITEMS)
    tempo = profile.features["tempo_bpm"]
    assert tempo.n_tracks == 4  # skipped tracks do not count
    assert 80 < tempo.mean < 110  # likes (weight 3) pull toward 80 more than plays (1)
    assert tempo.quantiles[0.1] < tempo.quantiles[0.9]
    assert tempo.std > 20
    assert all(artist != 12 for artist, _ in profile.top_artists)
    assert profile.distinct_tracks == 7 and profile.plays == 2


def test_wide_listener_has_higher_entropy_and_diversity() -> None:
    narrow = build_taste_profile(events(list(range(5))), ITEMS)
    wide = build_taste_profile(events(list(range(0, N_ITEMS, 5))), ITEMS, top_k=20)
    assert wide.artist_entropy > narrow.artist_entropy
    assert wide.genre_entropy > narrow.genre_entropy == 0.0
    assert wide.embedding_diversity is not None and narrow.embedding_diversity is not None
    assert wide.embedding_diversity > narrow.embedding_diversity
    assert abs(sum(weight for _, weight in wide.top_artists) - 1.0) < 1e-9


def test_novelty_is_higher_for_rare_items() -> None:
    popular = build_taste_profile(events([0, 2, 4]), ITEMS)
    rare = build_taste_profile(events([1, 3, 5]), ITEMS)
    assert rare.novelty is not None and popular.novelty is not None
    assert rare.novelty > popular.novelty + 5


def test_empty_history_is_a_valid_empty_profile() -> None:
    profile = build_taste_profile(UserEvents.empty(), ITEMS)
    assert profile.is_empty and profile.first_listen is None
    assert profile.features == {} and profile.top_artists == []
    assert profile.embedding_centroid is None and profile.hour_histogram.sum() == 0


def test_cf_factors_come_from_the_model_or_fold_in() -> None:
    model = FactorModel(
        user_factors=RNG.normal(size=(3, 4)).astype(np.float32),
        item_factors=RNG.normal(size=(N_ITEMS, 4)).astype(np.float32),
        params={"regularization": 0.1},
    )
    known = build_taste_profile(events([0]), ITEMS, model=model, user_index=1)
    assert known.cf_factors is not None
    assert np.allclose(known.cf_factors, model.user_factors[1])
    folded = build_taste_profile(events([0, 1, 2]), ITEMS, model=model)
    assert folded.cf_factors is not None and folded.cf_factors.shape == (4,)
    assert np.allclose(folded.cf_factors, model.fold_in([0, 1, 2], [1.0, 1.0, 1.0]))
