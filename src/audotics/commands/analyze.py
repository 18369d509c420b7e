"""`audotics analyze`: analyse audio files without a server, or re-analyse stored tracks.

``audotics analyze FILE... [--json]`` prints one line per file, in order; with
``--json`` each line is a JSON object with the file name and every feature
(``tempo_bpm``, ``key``, ``mode``, ``loudness_lufs``, ``duration_s``, ``embedding``,
...), or ``{"file", "error", "code"}`` for a file that could not be analysed. The
exit code is 1 when any file failed, after every file has been tried.

``audotics analyze --all [--force]`` re-analyses, in this process, the stored tracks
whose features are missing or of another analysis version (every track with
``--force``), against the configured database and object store, with a progress bar
on stderr. cli.py passes in the pipeline (``reanalyze``), which lives with the workers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from audotics.config import Settings
from audotics.infra import migrate
from audotics.infra.factory import Infra, build_infra

Reanalyze = Callable[..., Awaitable[list[Any]]]


def _json_safe(value: Any) -> Any:
    """Non-finite floats become null, so every line is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def _describe(path: Path, features: Any) -> str:
    tempo = f"{features.tempo_bpm:.1f} BPM" if features.tempo_bpm else "no tempo"
    key = f"{features.key} {features.mode}" if features.key else "no key"
    loudness = (
        f"{features.loudness_lufs:.1f} LUFS" if features.loudness_lufs is not None else "silent"
    )
    return f"{path}: {tempo}, {key}, {loudness}, {features.duration_s:.1f} s"


def analyze_files(paths: Sequence[Path], *, as_json: bool) -> int:
    """Analyse each file in turn; returns the exit code (1 if any failed)."""
    from audotics.ml.audio.analysis import analyze_file
    from audotics.ml.audio.decode import AudioDecodeError

    failed = 0
    for path in paths:
        error: dict[str, Any] | None = None
        try:
            features = analyze_file(path)
        except AudioDecodeError as exc:
            error = {"file": str(path), "error": exc.reason, "code": exc.code}
        except Exception as exc:  # one bad file must not stop the others
            error = {"file": str(path), "error": f"{type(exc).__name__}: {exc}", "code": "error"}
        if error is not None:
            failed += 1
            if as_json:
                typer.echo(json.dumps(error))
            else:
                typer.echo(f"{path}: error: {error['error']}", err=True)
            continue
        if as_json:
            record = {"file": str(path), **features.to_dict()}
            typer.echo(json.dumps(_json_safe(record), allow_nan=False))
        else:
            typer.echo(_describe(path, features))
    return 1 if failed else 0


async def _reanalyze_all(
    settings: Settings, reanalyze: Reanalyze, *, force: bool, as_json: bool
) -> int:
    infra: Infra = build_infra(settings)
    # One line per track is the progress bar's job; keep warnings and errors.
    logging.getLogger("audotics.workers.analysis").setLevel(logging.WARNING)
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("analysing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeRemainingColumn(),
        console=console,
        redirect_stdout=False,  # --json lines go to stdout, the bar to stderr
    )
    task = progress.add_task("analyse", total=None, failed=0)
    failures = 0

    def on_total(total: int) -> None:
        progress.update(task, total=total)

    def on_done(target: Any, outcome: Any) -> None:
        nonlocal failures
        failures += outcome.status == "failed"
        progress.update(task, advance=1, failed=failures)
        if as_json:
            line = {"track_id": str(outcome.track_id), "status": outcome.status}
            if outcome.reason:
                line["reason"] = outcome.reason
            typer.echo(json.dumps(line))
        elif outcome.status == "failed":
            progress.console.print(f"track {outcome.track_id}: {outcome.reason}", highlight=False)

    try:
        with progress:
            outcomes = await reanalyze(infra, force=force, on_total=on_total, on_done=on_done)
    finally:
        await infra.close()
    done = sum(outcome.status == "done" for outcome in outcomes)
    skipped = len(outcomes) - done - failures
    console.print(f"analysed {done} track(s), {failures} failed, {skipped} skipped")
    return 1 if failures else 0


def run(
    settings: Settings,
    files: Sequence[Path],
    *,
    all_tracks: bool,
    force: bool,
    as_json: bool,
    reanalyze: Reanalyze,
) -> int:
    """The command's body; returns the exit code."""
    if all_tracks and files:
        typer.echo("give either FILE... or --all, not both", err=True)
        return 2
    if force and not all_tracks:
        typer.echo("--force only applies to --all", err=True)
        return 2
    if not all_tracks:
        if not files:
            typer.echo("nothing to analyse: give audio files, or --all", err=True)
            return 2
        return analyze_files(files, as_json=as_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.auto_migrate:
        migrate.upgrade(settings.resolved_database_url)
    return asyncio.run(_reanalyze_all(settings, reanalyze, force=force, as_json=as_json))
