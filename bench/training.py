"""ALS training through the ``audotics train`` code path vs a bare ``implicit`` fit.

``python -m bench training [--users N] [--items N] [--factors F] [--iterations I]
[--repeats R] [--full-users N]``

Same synthetic log, same matrix, same parameters, same run, interleaved repeats
(median of each):

* **train path** -- what the command runs for the final model on the snapshot it
  took: :func:`audotics.commands.train.fit_implicit` (confidence matrix from the
  log, ``train_als``: CSR conversion, one BLAS thread, fit, ``FactorModel`` with the
  id lists);
* **bare implicit** -- ``implicit.cpu.als.AlternatingLeastSquares(...).fit`` on the
  prebuilt confidence matrix, under ``threadpool_limits(1, "blas")`` as implicit
  recommends, nothing else.

The ratio (goal <= 1.1x) is printed, and beside it the two steps around the fit
that are not ALS: reading the Parquet snapshot back (what the Spark engine and a
re-run read) and ``FactorModel.to_bytes`` (what the registry stores). With
``--full-users N`` (default 2000; 0 skips it) the whole command also runs once on a
SQLite database filled through the analytics service with an N-user log, and its
phases are printed (snapshot from the
database, holdout training and evaluation, final fit, registration), so the cost
around the fit is visible too. Figures go to ``bench/results/training.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from audotics.commands.train import TrainOptions, fit_implicit, run_train
from audotics.config import Settings
from audotics.infra import migrate
from audotics.infra.db import Database
from audotics.ml.cf.confidence import build_confidence
from audotics.ml.cf.model import FactorModel
from audotics.ml.cf.snapshot import Snapshot, read_snapshot, write_snapshot
from audotics.ml.datasets import generate_synthetic
from audotics.ml.datasets.interactions import Interactions
from audotics.ml.datasets.records import EVENTS
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import ListenEvent, NewListen

RESULTS = Path(__file__).parent / "results" / "training.json"
GOAL = 1.1


def bare_fit(matrix: Any, options: TrainOptions) -> float:
    from implicit.cpu.als import AlternatingLeastSquares

    started = time.perf_counter()
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=options.factors,
            regularization=options.regularization,
            alpha=1.0,
            iterations=options.iterations,
            use_cg=True,
            num_threads=options.threads,
            random_state=options.seed,
        )
        model.fit(matrix, show_progress=False)
    return time.perf_counter() - started


def path_fit(snapshot: Snapshot, options: TrainOptions) -> tuple[float, FactorModel]:
    started = time.perf_counter()
    model = fit_implicit(snapshot, options)
    return time.perf_counter() - started, model


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


async def fill_database(settings: Settings, log: Interactions) -> None:
    migrate.upgrade(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    users = [uuid.uuid4() for _ in log.user_ids]
    tracks = [uuid.uuid4() for _ in log.item_ids]
    try:
        for start in range(0, len(log), 20_000):
            rows = []
            for row in range(start, min(start + 20_000, len(log))):
                track = tracks[int(log.item[row])]
                moment = datetime.fromtimestamp(float(log.timestamp[row]), tz=UTC)
                event = ListenEvent(EVENTS[int(log.event[row])])
                rows.append(
                    NewListen(
                        user_id=users[int(log.user[row])],
                        track_id=track,
                        artist_id=None,
                        event=event,
                        occurred_at=moment,
                        play_duration_s=None,
                        source="bench",
                        dedup_key=analytics.dedup_key(track, event, moment, occurrence=row),
                    )
                )
            async with database.session() as session:
                await analytics.store_listens(session, rows)
                await session.commit()
    finally:
        await database.dispose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench training")
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--mean-events", type=float, default=60.0)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument(
        "--repeats", type=int, default=5
    )  # medians of 3 moved 10 % on a shared machine
    parser.add_argument("--full-users", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    options = TrainOptions(factors=args.factors, iterations=args.iterations, seed=args.seed)
    log = generate_synthetic(args.users, args.items, args.seed, mean_events=args.mean_events)
    log_i = log.interactions
    report: dict[str, Any] = {
        "users": log_i.n_users,
        "items": log_i.n_items,
        "events": len(log_i),
        "factors": args.factors,
        "iterations": args.iterations,
        "repeats": args.repeats,
    }
    with tempfile.TemporaryDirectory(prefix="bench-training-") as scratch:
        snapshot = write_snapshot(log_i, Path(scratch) / "snapshots")
        matrix = build_confidence(log_i, options.weights())
        matrix.sort_indices()
        report["nnz"] = int(matrix.nnz)
        print(
            f"{log_i.n_users} users, {log_i.n_items} items, {len(log_i)} events, "
            f"{matrix.nnz} cells; {args.factors} factors, {args.iterations} iterations",
            flush=True,
        )
        bare_fit(matrix, options)  # warm-up: imports, first allocation
        bare, ours = [], []
        for _ in range(args.repeats):
            bare.append(bare_fit(matrix, options))
            seconds, model = path_fit(snapshot, options)
            ours.append(seconds)
        ratio = statistics.median(ours) / statistics.median(bare)
        read_s = timed(lambda: read_snapshot(snapshot.path, verify=False))
        bytes_s = timed(model.to_bytes)
        report.update(
            bare_seconds=bare,
            train_path_seconds=ours,
            ratio=ratio,
            goal=GOAL,
            met=ratio <= GOAL,
            read_snapshot_seconds=read_s,
            to_bytes_seconds=bytes_s,
        )
        print(
            f"bare implicit fit  median {statistics.median(bare):.3f} s  {bare}\n"
            f"audotics train path median {statistics.median(ours):.3f} s  {ours}\n"
            f"ratio {ratio:.3f}x (goal <= {GOAL}x): {'met' if ratio <= GOAL else 'NOT met'}\n"
            f"around the fit: read the snapshot back {read_s:.3f} s, "
            f"FactorModel.to_bytes {bytes_s:.3f} s",
            flush=True,
        )
        if args.full_users:
            small = generate_synthetic(
                args.full_users, max(args.full_users, 500), args.seed, mean_events=60
            ).interactions
            settings = Settings(environment="test", data_dir=Path(scratch) / "data")
            settings.data_dir.mkdir(parents=True)
            started = time.perf_counter()
            asyncio.run(fill_database(settings, small))
            filled = time.perf_counter() - started
            result = asyncio.run(run_train(settings, options))
            assert result is not None
            report["full"] = {
                "users": small.n_users,
                "events": len(small),
                "fill_seconds": filled,
                "phases": result.phases,
                "metrics": result.meta.metrics,
            }
            print(f"\nwhole command on SQLite ({small.n_users} users, {len(small)} listens):")
            for line in result.lines():
                print(f"  {line}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return 0
