"""`audotics train` end to end: import a listening history, train, find the model registered.

A synthetic history (planted taste clusters) goes in through the real importer
(`audotics import --format csv`, with skip/like/complete events), then the real
command trains on the database the settings name (SQLite and PostgreSQL; the
object store locally, and once on S3). The registry must then hold a loadable model
whose items are exactly the catalog's tracks that were listened to, and whose
holdout metrics are in range and beat popularity.
"""

from __future__ import annotations

import csv
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audotics.cli import app
from audotics.config import Settings
from audotics.infra.factory import build_objects
from audotics.ml.cf.registry import ModelRegistry
from audotics.ml.cf.snapshot import read_snapshot
from audotics.ml.datasets import generate_synthetic
from audotics.ml.datasets.records import EVENTS
from audotics.services.analytics.schemas import ItemKind
from audotics.services.catalog import service as catalog
from tests.conftest import TEST_SECRET
from tests.integration.analytics.support import interactions, session_of
from tests.integration.objects.conftest import unique_bucket
from tests.support.seaweed import SeaweedServer
from tests.support.servers import run_coroutine_blocking

TRAIN_ARGS = ["train", "--factors", "16", "--iterations", "6", "--regularization", "1.0"]


def write_history(path: Path) -> int:
    data = generate_synthetic(120, 150, seed=11, mean_events=30)
    log = data.interactions
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["user_id", "artist", "track", "timestamp", "event"])
        for user, item, moment, event in zip(
            log.user, log.item, log.timestamp, log.event, strict=True
        ):
            artist = f"Artist {data.item_artist[item]}"
            stamp = datetime.fromtimestamp(float(moment), tz=UTC).isoformat()
            out.writerow([log.user_ids[user], artist, f"Track {item}", stamp, EVENTS[event]])
    return len(log)


def env_of(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        "AUDOTICS_DATA_DIR": str(settings.data_dir),
        "AUDOTICS_DATABASE_URL": settings.resolved_database_url,
        "AUDOTICS_SECRET_KEY": TEST_SECRET,
        **extra,
    }


def import_and_train(settings: Settings, env: dict[str, str], tmp_path: Path) -> str:
    history = tmp_path / "history.csv"
    rows = write_history(history)
    runner = CliRunner()
    imported = runner.invoke(app, ["import", str(history), "--format", "csv"], env=env)
    assert imported.exit_code == 0, imported.output
    assert f"csv: {rows} rows imported, 0 bad rows" in imported.stdout
    trained = runner.invoke(app, TRAIN_ARGS, env=env)
    assert trained.exit_code == 0, trained.output
    assert "registered model" in trained.stdout and "ndcg@10" in trained.stdout
    return trained.stdout


def check_registered(settings: Settings, output: str) -> None:
    async def read() -> None:
        registry = ModelRegistry(build_objects(settings))
        try:
            model, meta = await registry.load()
        finally:
            await registry.store.close()
        assert f"registered model {meta.version}" in output
        assert meta.engine == "implicit" and meta.kind == "als"
        assert meta.params["factors"] == 16 and meta.params["alpha"] == 2.0
        assert meta.params["like"] == 4.0  # the confidence weights are recorded
        # Items are catalog track ids: exactly the listened tracks, all in the catalog.
        listened = {row.item_id for row in await interactions(settings, ItemKind.track)}
        item_ids = {uuid.UUID(item) for item in model.item_ids}
        assert item_ids == listened and len(item_ids) == model.n_items > 100
        async with session_of(settings) as session:
            found = await catalog.get_tracks(session, sorted(item_ids), None)
        assert set(found) == item_ids
        assert meta.snapshot["items"] == model.n_items and meta.snapshot["users"] == 120
        snapshot = read_snapshot(settings.data_dir / "snapshots" / meta.snapshot["id"])
        assert snapshot.interactions.item_ids == model.item_ids
        # Metrics: in range, better than popularity, and stored with the model itself.
        metrics = meta.metrics
        assert 0 < metrics["ndcg@10"] <= 1 and 0 < metrics["recall@10"] <= 1
        assert metrics["ndcg@10"] > 1.5 * metrics["popularity_ndcg@10"]
        assert metrics["recall@10"] > metrics["popularity_recall@10"]
        assert meta.evaluation["split"].startswith("leave-last-out")
        assert meta.evaluation["users_evaluated"] > 80
        assert model.metrics["ndcg@10"] == pytest.approx(metrics["ndcg@10"])
        assert meta.train_seconds > 0

    run_coroutine_blocking(read)


def test_import_train_register(settings: Settings, tmp_path: Path) -> None:
    env = env_of(settings)
    output = import_and_train(settings, env, tmp_path)
    check_registered(settings, output)
    # Same data again: same snapshot, a second version, the newest one current.
    again = CliRunner().invoke(app, [*TRAIN_ARGS, "--no-holdout", "--keep", "1"], env=env)
    assert again.exit_code == 0, again.output

    async def versions() -> list[str]:
        registry = ModelRegistry(build_objects(settings))
        try:
            return await registry.versions()
        finally:
            await registry.store.close()

    kept = run_coroutine_blocking(versions)
    assert len(kept) == 1 and f"registered model {kept[0]}" in again.stdout
    assert len(list((settings.data_dir / "snapshots").iterdir())) == 1


@pytest.mark.s3
def test_train_registers_on_s3(tmp_path: Path, seaweed_server: SeaweedServer) -> None:
    """Embedded SQLite (made by the commands themselves), models in a fresh S3 bucket."""
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        s3_endpoint_url=seaweed_server.endpoint_url,
        s3_bucket=unique_bucket("train"),
        s3_region=seaweed_server.region,
        s3_access_key_id=seaweed_server.access_key,
        s3_secret_access_key=seaweed_server.secret_key,  # type: ignore[arg-type]
    )
    assert settings.uses_s3
    env = env_of(
        settings,
        AUDOTICS_S3_ENDPOINT_URL=seaweed_server.endpoint_url,
        AUDOTICS_S3_BUCKET=str(settings.s3_bucket),
        AUDOTICS_S3_REGION=seaweed_server.region,
        AUDOTICS_S3_ACCESS_KEY_ID=seaweed_server.access_key,
        AUDOTICS_S3_SECRET_ACCESS_KEY=seaweed_server.secret_key,
    )
    output = import_and_train(settings, env, tmp_path)
    check_registered(settings, output)
    assert not (settings.objects_dir / "models").exists()  # nothing went to the local store


def test_nothing_to_train_on_and_bad_engine(settings: Settings) -> None:
    env = env_of(settings)
    empty = CliRunner().invoke(app, ["train"], env=env)
    assert empty.exit_code == 1 and "nothing to train on" in empty.stderr
    unknown = CliRunner().invoke(app, ["train", "--engine", "mahout"], env=env)
    assert unknown.exit_code == 2 and "unknown engine" in unknown.stderr
