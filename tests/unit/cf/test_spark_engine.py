"""Spark MLlib ALS and implicit ALS, same snapshot, same weighting: the same offline quality.

One Spark session (local[2], loopback, no UI, 2 shuffle partitions) trains on the
Parquet snapshot of a synthetic log; implicit trains on the same log. Both are
measured by the same runner on the same leave-last-out split. Tolerance: the
engines' nDCG@10 and recall@10 agree within 10 % of the larger value (different
solvers and random starts; the measured gap is about 3 %), and both beat
popularity by at least 1.5x.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from audotics.commands.train import TrainOptions, engine, evaluate_holdout, fit_implicit
from audotics.config import Settings
from audotics.ml.cf.confidence import ConfidenceWeights
from audotics.ml.cf.snapshot import write_snapshot
from audotics.ml.cf.spark import SparkConfig, ratings_frame, spark_session
from audotics.ml.datasets import generate_synthetic

TOLERANCE = 0.10  # relative gap allowed between the engines' metrics
OPTIONS = TrainOptions(
    factors=16,
    iterations=6,
    regularization=1.0,
    alpha=2.0,
    spark_master="local[2]",
    spark_shuffle_partitions=2,
    spark_blocks=2,
)


def test_spark_and_implicit_agree_on_the_same_split(tmp_path: Path) -> None:
    log = generate_synthetic(500, 600, seed=3, mean_events=50).interactions
    snapshot = write_snapshot(log, tmp_path / "snapshots")
    settings = Settings(data_dir=tmp_path / "data")
    implicit_metrics, evaluation = evaluate_holdout(
        log, lambda snap: fit_implicit(snap, OPTIONS), OPTIONS
    )
    spark_options = replace(OPTIONS, engine="spark")
    with engine(spark_options, settings) as fit:
        spark_metrics, spark_evaluation = evaluate_holdout(log, fit, spark_options)
        full = fit(snapshot)
    assert evaluation["split"] == spark_evaluation["split"] == "leave-last-out(n=1)"
    assert evaluation["users_evaluated"] == spark_evaluation["users_evaluated"] > 300
    print("implicit", implicit_metrics, "\nspark", spark_metrics)
    for name in ("ndcg@10", "recall@10"):
        ours, theirs = implicit_metrics[name], spark_metrics[name]
        assert abs(ours - theirs) <= TOLERANCE * max(ours, theirs), (name, ours, theirs)
        baseline = implicit_metrics[f"popularity_{name}"]
        assert min(ours, theirs) >= 1.5 * baseline, (name, ours, theirs, baseline)
    # The full model covers the snapshot's id lists; users/items with factors are scored.
    assert full.item_ids == log.item_ids and full.user_ids == log.user_ids
    assert full.item_factors.shape == (log.n_items, 16)
    assert np.isfinite(full.user_factors).all()
    assert full.params["spark_master"] == "local[2]" and full.params["alpha"] == 2.0


def test_spark_ratings_carry_the_same_confidence(tmp_path: Path) -> None:
    """Spark's c = 1 + alpha * |r| equals the confidence matrix implicit trains on."""
    from audotics.ml.cf.confidence import build_confidence

    log = generate_synthetic(40, 60, seed=1, mean_events=20).interactions
    weights = ConfidenceWeights(alpha=3.0, eps=2.0, penalize_negative=True)
    snapshot = write_snapshot(log, tmp_path)
    expected = build_confidence(log, weights).tocoo()
    config = SparkConfig(master="local[1]", shuffle_partitions=2)
    with spark_session(config) as session:
        rows = ratings_frame(session, snapshot.events_path, weights).collect()
    got = {(r.user, r.item): r.rating for r in rows}
    assert len(got) == expected.nnz
    for user, item, value in zip(expected.row, expected.col, expected.data, strict=True):
        rating = got[(int(user), int(item))]
        assert math.copysign(1 + weights.alpha * abs(rating), rating) == pytest.approx(
            value, rel=1e-5
        )
