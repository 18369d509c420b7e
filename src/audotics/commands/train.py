"""``audotics train``: snapshot the listening log, train, evaluate, register.

``audotics train [--engine implicit|spark] [--factors N] [--iterations N] ...`` runs
against the database and object store the settings name (embedded: SQLite and the
data directory; production: PostgreSQL and S3):

1. **snapshot** -- :func:`analytics.training_log` reads every track event; it is
   written as Parquet under ``<data dir>/snapshots/<content hash>/``
   (:mod:`audotics.ml.cf.snapshot`), the file both engines read;
2. **holdout** -- the same configuration is trained on a split of the snapshot
   (leave-last-out when the log has times, else a 20 % random holdout) and measured
   with :func:`audotics.ml.evaluate.run_evaluation` next to the popularity baseline:
   nDCG@10, recall@10, coverage@10 become the model's metrics;
3. **fit** -- the model is trained on the whole snapshot (``implicit`` ALS in this
   process, or Spark MLlib ALS, :mod:`audotics.ml.cf.spark`);
4. **register** -- :class:`ModelRegistry.publish` stores it as a new version, makes it
   current and keeps the newest ``--keep`` versions; serving processes pick it up
   (:class:`~audotics.ml.cf.registry.ModelHolder`).

Exit codes: 0 registered, 1 nothing to train on, 2 unusable arguments (unknown
engine, pyspark missing).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import typer

from audotics.config import Settings
from audotics.infra import migrate
from audotics.infra.factory import Infra, build_infra
from audotics.ml.cf.confidence import ConfidenceWeights, build_confidence
from audotics.ml.cf.model import FactorModel
from audotics.ml.cf.registry import ModelMeta, ModelRegistry
from audotics.ml.cf.snapshot import Snapshot, prune_snapshots, write_snapshot
from audotics.ml.cf.train import ALSParams, train_als
from audotics.ml.datasets.interactions import Interactions
from audotics.ml.evaluate.models import ModelOptions, TrainData, build_models
from audotics.ml.evaluate.runner import make_split, run_evaluation
from audotics.services.analytics import service as analytics

ENGINES = ("implicit", "spark")
KEPT_SNAPSHOTS = 3


class TrainError(Exception):
    """Arguments or environment that cannot train (reported with exit code 2)."""


@dataclass(frozen=True)
class TrainOptions:
    engine: str = "implicit"
    factors: int = 64
    iterations: int = 15
    regularization: float = 0.05
    alpha: float = 2.0
    seed: int = 0
    threads: int = 1
    holdout: bool = True
    k: int = 10
    keep: int = 5
    spark_master: str | None = None  # default: settings.spark_master
    spark_conf: dict[str, str] = field(default_factory=dict)
    spark_shuffle_partitions: int = 8
    spark_blocks: int | None = None

    def als_params(self) -> ALSParams:
        return ALSParams(
            factors=self.factors,
            regularization=self.regularization,
            iterations=self.iterations,
            seed=self.seed,
            threads=self.threads,
        )

    def weights(self) -> ConfidenceWeights:
        return ConfidenceWeights(alpha=self.alpha)


@dataclass
class TrainReport:
    meta: ModelMeta
    snapshot: dict[str, Any]
    phases: dict[str, float]

    def lines(self) -> list[str]:
        meta, snap = self.meta, self.snapshot
        metrics = meta.metrics
        out = [
            f"registered model {meta.version} ({meta.engine} {meta.kind}, "
            f"{meta.params.get('factors')} factors, {meta.params.get('iterations')} iterations)",
            f"snapshot {snap['id']}: {snap['users']} users, {snap['items']} items, "
            f"{snap['events']} events",
        ]
        if "ndcg@10" in metrics:
            out.append(
                f"holdout ({meta.evaluation.get('split')}, "
                f"{meta.evaluation.get('users_evaluated')} users): "
                f"ndcg@10 {metrics['ndcg@10']:.4f}, recall@10 {metrics['recall@10']:.4f}, "
                f"coverage@10 {metrics['coverage@10']:.4f}; popularity ndcg@10 "
                f"{metrics['popularity_ndcg@10']:.4f}, recall@10 "
                f"{metrics['popularity_recall@10']:.4f}"
            )
        out.append(
            f"fit {meta.train_seconds:.2f} s; "
            + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.phases.items())
        )
        return out


# --- engines --------------------------------------------------------------------------------

Fit = Callable[[Snapshot], FactorModel]


def fit_implicit(snapshot: Snapshot, options: TrainOptions) -> FactorModel:
    """The confidence matrix of the snapshot, then implicit's ALS (this process)."""
    weights = options.weights()
    log = snapshot.interactions
    return train_als(
        build_confidence(log, weights),
        options.als_params(),
        item_ids=log.item_ids,
        user_ids=log.user_ids,
        extra_params=weights.to_dict(),
    )


@contextmanager
def engine(options: TrainOptions, settings: Settings) -> Iterator[Fit]:
    """The fit function of the chosen engine (a Spark session lives as long as the block)."""
    if options.engine == "implicit":
        yield lambda snapshot: fit_implicit(snapshot, options)
        return
    if options.engine != "spark":
        raise TrainError(f"unknown engine {options.engine!r}: use one of {', '.join(ENGINES)}")
    from audotics.ml.cf import spark

    if not spark.spark_available():
        raise TrainError("the spark engine needs pyspark: pip install 'audotics[spark]'")
    config = spark.SparkConfig(
        master=options.spark_master or settings.spark_master,
        shuffle_partitions=options.spark_shuffle_partitions,
        blocks=options.spark_blocks,
        conf=options.spark_conf,
    )
    with spark.spark_session(config) as session:
        yield lambda snapshot: spark.train_spark_als(
            session,
            snapshot.events_path,
            user_ids=snapshot.interactions.user_ids,
            item_ids=snapshot.interactions.item_ids,
            params=options.als_params(),
            weights=options.weights(),
            blocks=config.blocks,
        )


class _EngineRecommender:
    """An engine as a :class:`~audotics.ml.evaluate.models.Recommender` for the runner; the
    training part of the split is written as a snapshot of its own (Spark reads files)."""

    def __init__(self, name: str, fit: Fit, scratch: Path) -> None:
        self.name = name
        self._fit = fit
        self._scratch = scratch
        self.model: FactorModel | None = None

    def fit(self, data: TrainData) -> None:
        self.model = self._fit(write_snapshot(data.interactions, self._scratch))

    def score(self, users: np.ndarray) -> np.ndarray:
        assert self.model is not None, "fit first"
        return self.model.score_users(users).astype(np.float32, copy=False)

    def describe(self) -> dict[str, Any]:
        return {}


def evaluate_holdout(
    log: Interactions, fit: Fit, options: TrainOptions, scratch_root: Path | None = None
) -> tuple[dict[str, float], dict[str, Any]]:
    """Metrics of the configuration on a holdout split, and what the evaluation was.

    The split's training part is written under ``scratch_root`` (the snapshot
    directory: on a Spark cluster, storage the executors can read) and removed after.
    """
    split = make_split(log, "auto", options.seed)
    k = options.k
    if scratch_root is not None:
        scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".holdout-", dir=scratch_root) as scratch:
        model = _EngineRecommender("model", fit, Path(scratch))
        popularity = build_models(["popularity"], ModelOptions(seed=options.seed, k=k))[0]
        result = run_evaluation(
            log, split, [model, popularity], k, weights=options.weights(), seed=options.seed
        )
    ours, baseline = result.models["model"].metrics, result.models["popularity"].metrics
    metrics = {name: ours[f"{name}@{k}"] for name in ("ndcg", "recall", "coverage")}
    metrics = {f"{name}@{k}": value for name, value in metrics.items()}
    metrics[f"popularity_ndcg@{k}"] = baseline[f"ndcg@{k}"]
    metrics[f"popularity_recall@{k}"] = baseline[f"recall@{k}"]
    evaluation = {
        "split": result.split,
        "k": k,
        "users_evaluated": result.n_users_evaluated,
        "train_events": result.n_train_events,
        "test_events": result.n_test_events,
        "seconds": result.total_seconds,
    }
    return metrics, evaluation


# --- the command ----------------------------------------------------------------------------


def snapshot_root(settings: Settings) -> Path:
    return settings.data_dir / "snapshots"


async def take_snapshot(infra: Infra, root: Path) -> Snapshot:
    async with infra.db.session() as session:
        log = await analytics.training_log(session)
    return await asyncio.to_thread(write_snapshot, log, root)


async def run_train(
    settings: Settings,
    options: TrainOptions,
    *,
    progress: Callable[[str], None] | None = None,
) -> TrainReport | None:
    """Snapshot, holdout, fit, register; None when there is nothing to train on."""
    say = progress or (lambda message: None)
    if options.engine not in ENGINES:
        raise TrainError(f"unknown engine {options.engine!r}: use one of {', '.join(ENGINES)}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.resolved_database_url)
    infra = build_infra(settings)
    phases: dict[str, float] = {}
    try:
        started = time.perf_counter()
        say("reading the listening log")
        snapshot = await take_snapshot(infra, snapshot_root(settings))
        phases["snapshot"] = time.perf_counter() - started
        if snapshot.interactions.n_users == 0 or snapshot.interactions.n_items == 0:
            return None
        with engine(options, settings) as fit:
            metrics: dict[str, float] = {}
            evaluation: dict[str, Any] = {}
            if options.holdout:
                say("training and measuring on a holdout split")
                mark = time.perf_counter()
                metrics, evaluation = await asyncio.to_thread(
                    evaluate_holdout,
                    snapshot.interactions,
                    fit,
                    options,
                    snapshot_root(settings),
                )
                phases["holdout"] = time.perf_counter() - mark
            say(f"training on the whole snapshot ({options.engine})")
            mark = time.perf_counter()
            model = await asyncio.to_thread(fit, snapshot)
            phases["fit"] = time.perf_counter() - mark
        train_seconds = float(model.metrics.get("train_seconds", phases["fit"]))
        model.metrics = {**metrics, "train_seconds": train_seconds}
        mark = time.perf_counter()
        registry = ModelRegistry(infra.objects)
        meta = await registry.publish(
            model,
            engine=options.engine,
            snapshot=snapshot.describe(),
            train_seconds=train_seconds,
            evaluation=evaluation,
            keep=options.keep,
        )
        phases["register"] = time.perf_counter() - mark
        await asyncio.to_thread(
            prune_snapshots, snapshot_root(settings), KEPT_SNAPSHOTS, protect=(snapshot.id,)
        )
        phases["total"] = time.perf_counter() - started
        return TrainReport(meta=meta, snapshot=snapshot.describe(), phases=phases)
    finally:
        await infra.close()


def command(settings: Settings, options: TrainOptions) -> int:
    """``audotics train``: prints the version and figures; see the module docstring."""
    try:
        report = asyncio.run(
            run_train(settings, options, progress=lambda message: typer.echo(message, err=True))
        )
    except TrainError as exc:
        typer.echo(f"train failed: {exc}", err=True)
        return 2
    if report is None:
        typer.echo("nothing to train on: no listens or play counts of tracks yet", err=True)
        return 1
    for line in report.lines():
        typer.echo(line)
    return 0
