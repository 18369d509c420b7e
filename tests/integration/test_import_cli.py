"""`audotics import` as a command: arguments, the printed report and exit codes.

Runs the real command (typer) in this process against the test database, with
the settings taken from the environment like every other command.
"""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner

from audotics.cli import app
from audotics.config import Settings
from audotics.services.analytics.schemas import ItemKind
from tests.conftest import TEST_SECRET
from tests.integration.analytics.support import history, interactions, make_user, user_id
from tests.support.servers import run_coroutine_blocking

T = TypeVar("T")


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    return {
        "AUDOTICS_DATA_DIR": str(settings.data_dir),
        "AUDOTICS_DATABASE_URL": settings.resolved_database_url,
        "AUDOTICS_SECRET_KEY": TEST_SECRET,
    }


def _wait(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a service read from this synchronous test (the command runs its own loop)."""
    return run_coroutine_blocking(lambda: coroutine)


def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["import", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_csv_import_prints_a_report_and_is_idempotent(
    settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "plays.csv"
    path.write_text(
        "user_id,artist,track,timestamp,count\n"
        "u1,Daft Punk,One More Time,2021-06-01T10:00:00Z,1\n"
        "u1,Daft Punk,Aerodynamic,1622541600,\n"
        "u2,Daft Punk,One More Time,,4\n"
        "u2,,Nothing,,1\n",
        encoding="utf-8",
    )
    code, out, _ = _run(env, str(path), "--format", "csv")
    assert code == 0, out
    assert "csv: 3 rows imported, 1 bad rows skipped" in out
    assert "listens: 2 new, 0 already stored" in out
    assert "line 5: missing user_id, artist or track" in out
    assert "rows/s" in out
    u1, u2 = _wait(user_id(settings, "imp-u1")), _wait(user_id(settings, "imp-u2"))
    assert len(_wait(history(settings, u1))) == 2
    (counted,) = _wait(interactions(settings, ItemKind.track, u2))
    assert counted.plays == 4

    code, out, _ = _run(env, str(path), "--format", "csv", "--batch-size", "1")
    assert code == 0
    assert "listens: 0 new, 2 already stored; play counts: 0 written, 2 unchanged" in out
    assert len(_wait(history(settings, u1))) == 2


def test_listens_go_to_the_named_user(
    settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    owner = _wait(make_user(settings, "walt"))
    path = tmp_path / "export.csv"
    path.write_text("Kraftwerk,Computer World,Computer Love,05 Jun 2021 18:30\n", encoding="utf-8")
    code, out, _ = _run(env, str(path), "-f", "scrobble-csv", "--user", "walt")
    assert code == 0, out
    (listen,) = _wait(history(settings, owner))
    assert listen.track is not None and listen.track.title == "Computer Love"
    assert listen.occurred_at.isoformat() == "2021-06-05T18:30:00+00:00"


def test_unusable_arguments_exit_2_and_store_nothing(
    settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "listens.jsonl"
    path.write_text("", encoding="utf-8")
    cases = [
        ((str(path), "--format", "spotify"), "Unknown format"),
        ((str(path), "--format", "listenbrainz"), "--user is required"),
        ((str(path), "--format", "listenbrainz", "--user", "ghost"), "No user named 'ghost'"),
        ((str(tmp_path / "nope.csv"), "--format", "csv"), "is not a file"),
    ]
    for args, message in cases:
        code, out, err = _run(env, *args)
        assert code == 2, (args, out, err)
        assert message in err
        assert out == ""


def test_a_file_of_only_bad_rows_exits_1(
    settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("user_id,artist,track,count\nu,a,t,zero\nu,a,t,-1\n", encoding="utf-8")
    code, out, _ = _run(env, str(path), "--format", "csv")
    assert code == 1
    assert "0 rows imported, 2 bad rows skipped" in out
