"""The synthetic generator plants the structure the tests rely on."""

from __future__ import annotations

import numpy as np

from audotics.ml.datasets import EVENT_CODE, FEATURE_NAMES, generate_synthetic


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = generate_synthetic(120, 200, seed=11)
    b = generate_synthetic(120, 200, seed=11)
    c = generate_synthetic(120, 200, seed=12)
    assert np.array_equal(a.interactions.item, b.interactions.item)
    assert np.array_equal(a.interactions.timestamp, b.interactions.timestamp)
    assert np.array_equal(a.item_features, b.item_features)
    assert not np.array_equal(a.user_cluster, c.user_cluster)


def test_items_carry_audio_features_grouped_by_cluster() -> None:
    data = generate_synthetic(50, 400, seed=1)
    assert data.item_features.shape == (400, len(FEATURE_NAMES))
    assert data.feature_names == FEATURE_NAMES
    tempo = data.item_features[:, FEATURE_NAMES.index("tempo_bpm")]
    assert tempo.min() >= 70 and tempo.max() <= 180
    # Each item is nearest (in standardised feature space) to its own cluster's centre.
    scale = data.item_features.std(axis=0)
    distance = np.linalg.norm(
        (data.item_features[:, None, :] - data.cluster_centers[None, :, :]) / scale, axis=2
    )
    assert (distance.argmin(axis=1) == data.item_cluster).mean() > 0.9
    # Artists never straddle clusters.
    for artist in np.unique(data.item_artist):
        assert len(set(data.item_cluster[data.item_artist == artist].tolist())) == 1


def test_listening_follows_taste_popularity_and_skips() -> None:
    data = generate_synthetic(400, 600, seed=2)
    log = data.interactions
    users, items, events = log.user, log.item, log.event
    on_taste = (data.item_cluster[items] == data.user_cluster[users]) | (
        data.item_cluster[items] == data.user_second_cluster[users]
    )
    listened = np.isin(events, [EVENT_CODE["play"], EVENT_CODE["complete"]])
    skipped = events == EVENT_CODE["skip"]
    assert on_taste[listened].mean() > 0.8
    assert skipped[~on_taste].mean() > 3 * skipped[on_taste].mean()
    assert (events == EVENT_CODE["like"]).sum() > 0
    assert on_taste[events == EVENT_CODE["like"]].all()
    # Zipf skew: the 10 % most popular items get far more than 10 % of the listens.
    top = np.argsort(-data.item_popularity)[: len(data.item_popularity) // 10]
    assert np.isin(items[listened], top).mean() > 0.3


def test_sessions_over_time() -> None:
    log = generate_synthetic(60, 200, seed=4, days=30).interactions
    assert np.isfinite(log.timestamp).all()
    span = np.ptp(log.timestamp)
    assert 20 * 86400 < span <= 30 * 86400 + 86400
    gaps = []
    for user in range(log.n_users):
        times = np.sort(log.timestamp[log.user == user])
        gaps.extend(np.diff(times).tolist())
    gaps_arr = np.array(gaps)
    assert (gaps_arr < 30 * 60).mean() > 0.5  # within a session
    assert (gaps_arr > 3600).sum() > log.n_users  # between sessions
