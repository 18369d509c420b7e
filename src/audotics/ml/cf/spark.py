"""The same ALS model trained with Spark MLlib, from the same Parquet snapshot.

``audotics train --engine spark`` runs this when the data outgrows one machine:
Spark reads ``events.parquet`` of a snapshot (:mod:`audotics.ml.cf.snapshot`),
builds the confidences itself (so nothing but the file leaves the driver) and fits
``pyspark.ml.recommendation.ALS`` with ``implicitPrefs=True``; the factors come back
as a :class:`FactorModel` over the snapshot's id lists, indistinguishable from an
``implicit`` model to the registry and to serving. ``master`` is ``local[*]`` by
default (tests), ``AUDOTICS_SPARK_MASTER`` names a cluster; on a cluster the snapshot
directory must be on storage every executor can read.

How the weighting maps (Hu, Koren & Volinsky; :mod:`audotics.ml.cf.confidence`):

* Ours: net weight ``w`` per (user, item) from the event weights, then confidence
  ``c = 1 + alpha * log(1 + w / eps)`` for ``w > 0``; implicit is given ``c`` itself
  (its own alpha = 1) and reads unobserved cells as ``c = 1, p = 0``.
* Spark's implicit ALS takes a "rating" ``r`` and uses ``c = 1 + alpha_spark * |r|``,
  preference ``p = 1`` if ``r > 0`` else 0, unobserved cells ``c = 1, p = 0``.
* So Spark gets ``r = log(1 + w / eps)`` and ``alpha_spark = alpha``: the same ``c``
  for every cell, exactly. With ``penalize_negative`` a cell with ``w < 0`` gets
  ``r = -log(1 + |w| / eps)``: Spark's ``c = 1 + alpha * |r|, p = 0`` is implicit's
  reading of the negative value ``-(1 + alpha * log(1 + |w| / eps))``. Cells with
  ``w <= 0`` are dropped otherwise, as in :func:`~audotics.ml.cf.confidence.build_confidence`.
* Regularisation differs in form: implicit adds ``lambda * I`` to every user's (and
  item's) normal equations, Spark adds ``regParam * n_u * I`` with ``n_u`` that row's
  count of positive cells (ALS-WR). We pass ``regParam = lambda / mean(n_u)``, which
  gives the average user the same penalty (heavier users get more, lighter less);
  the model keeps ``regularization = lambda``, what :meth:`FactorModel.fold_in` uses.
* The solvers differ (implicit: three conjugate-gradient steps per solve; Spark:
  Cholesky) and so do the random starts, so the factors differ; the offline metrics
  agree (tests/unit/cf/test_spark_engine.py states the tolerance).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from audotics.ml.cf.confidence import ConfidenceWeights
from audotics.ml.cf.model import FactorModel
from audotics.ml.cf.train import ALSParams
from audotics.ml.datasets.records import EVENTS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class SparkConfig:
    master: str = "local[*]"
    app_name: str = "audotics-train"
    shuffle_partitions: int = 8
    blocks: int | None = None  # ALS user/item blocks; None: Spark's default (10)
    conf: dict[str, str] = field(default_factory=dict)  # any other spark.* setting

    @property
    def is_local(self) -> bool:
        return self.master.startswith("local")


def spark_available() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def spark_session(config: SparkConfig | None = None) -> Iterator[SparkSession]:
    """A SparkSession for training, stopped afterwards. Local masters bind to 127.0.0.1
    and run without the web UI; the SQL warehouse goes to a temporary directory."""
    from pyspark.sql import SparkSession

    config = config or SparkConfig()
    with tempfile.TemporaryDirectory(prefix="audotics-spark-") as scratch:
        builder = (
            SparkSession.builder.master(config.master)
            .appName(config.app_name)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(config.shuffle_partitions))
            .config("spark.sql.warehouse.dir", str(Path(scratch) / "warehouse"))
        )
        if config.is_local:
            # The JVM would otherwise pick the host's public address (and say so).
            os.environ.setdefault("SPARK_LOCAL_IP", LOOPBACK)
            builder = builder.config("spark.driver.host", LOOPBACK).config(
                "spark.driver.bindAddress", LOOPBACK
            )
        for key, value in config.conf.items():
            builder = builder.config(key, value)
        logging.getLogger("py4j").setLevel(logging.WARNING)  # one INFO line per connection
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        try:
            yield session
        finally:
            session.stop()


def ratings_frame(
    session: SparkSession, events_path: Path | str, weights: ConfidenceWeights
) -> DataFrame:
    """(user, item, rating) with ``rating = +-log(1 + |w| / eps)`` per cell (see above)."""
    from pyspark.sql import functions as F

    events = session.read.parquet(str(events_path))
    weight = F.element_at(
        F.array(*[F.lit(float(v)) for v in weights.event_weights()]),
        (F.col("event").cast("int") + 1),
    )
    cells = events.groupBy("user", "item").agg(
        F.sum(weight * F.col("count").cast("double")).alias("w")
    )
    magnitude = F.log1p(F.abs(F.col("w")) / F.lit(float(weights.eps)))
    if weights.penalize_negative:
        cells = cells.where(F.col("w") != 0).withColumn(
            "rating", F.when(F.col("w") > 0, magnitude).otherwise(-magnitude)
        )
    else:
        cells = cells.where(F.col("w") > 0).withColumn("rating", magnitude)
    return cells.select(
        F.col("user").cast("int").alias("user"),
        F.col("item").cast("int").alias("item"),
        F.col("rating").cast("float").alias("rating"),
    )


def _factors(frame: DataFrame, rows: int, rank: int) -> np.ndarray:
    """(rows, rank) float32 from Spark's (id, features) factor frame; absent ids are zero."""
    table = frame.toArrow()
    out = np.zeros((rows, rank), dtype=np.float32)
    if table.num_rows:
        ids = table.column("id").to_numpy()
        flat = table.column("features").combine_chunks().flatten().to_numpy()
        out[ids] = np.asarray(flat, dtype=np.float32).reshape(len(ids), rank)
    return out


def train_spark_als(
    session: SparkSession,
    events_path: Path | str,
    *,
    user_ids: tuple[str, ...],
    item_ids: tuple[str, ...],
    params: ALSParams | None = None,
    weights: ConfidenceWeights | None = None,
    blocks: int | None = None,
) -> FactorModel:
    """Fit Spark MLlib's implicit ALS on a snapshot's events; factors over its id lists."""
    from pyspark.ml.recommendation import ALS

    params = params or ALSParams()
    weights = weights or ConfidenceWeights()
    started = time.perf_counter()
    ratings = ratings_frame(session, events_path, weights).cache()
    positive = ratings.where("rating > 0")
    n_positive, n_rows = positive.count(), positive.select("user").distinct().count()
    reg_param = params.regularization / max(n_positive / max(n_rows, 1), 1.0)
    options: dict[str, Any] = {}
    if blocks is not None:
        options = {"numUserBlocks": blocks, "numItemBlocks": blocks}
    als = ALS(
        rank=params.factors,
        maxIter=params.iterations,
        regParam=reg_param,
        implicitPrefs=True,
        alpha=float(weights.alpha),
        userCol="user",
        itemCol="item",
        ratingCol="rating",
        seed=params.seed,
        nonnegative=False,
        **options,
    )
    fitted = als.fit(ratings)
    user_factors = _factors(fitted.userFactors, len(user_ids), params.factors)
    item_factors = _factors(fitted.itemFactors, len(item_ids), params.factors)
    ratings.unpersist()
    elapsed = time.perf_counter() - started
    return FactorModel(
        user_factors=user_factors,
        item_factors=item_factors,
        item_ids=item_ids,
        user_ids=user_ids,
        params={
            **weights.to_dict(),
            **params.to_dict(),
            "spark_reg_param": reg_param,
            "spark_master": session.sparkContext.master,
            "events_vocabulary": list(EVENTS),
        },
        metrics={"train_seconds": elapsed},
        kind="als",
    )
