"""The ``audotics`` command: a composition root for everything that is not HTTP."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

from audotics.config import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Audotics platform commands.")


def _settings() -> Settings:
    return Settings()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (production)")] = 1,
) -> None:
    """Start the whole platform (API, web app, embedded jobs)."""
    import uvicorn

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    typer.echo(f"Audotics on http://{host}:{port}  (data: {settings.data_dir.resolve()})")
    uvicorn.run(
        "audotics.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
    )


@app.command()
def migrate() -> None:
    """Apply every database migration (idempotent)."""
    from audotics.infra import migrate as migrations

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(settings.resolved_database_url)
    typer.echo("database is up to date")


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs handled at once")] = 2,
) -> None:
    """Consume background jobs and events (production: from Redis Streams)."""
    from audotics.workers import run_worker_process

    asyncio.run(run_worker_process(_settings(), concurrency))


@app.command()
def demo() -> None:
    """Load the demo catalog and demo users (idempotent)."""
    from audotics.demo import load_demo

    settings = _settings()
    summary = asyncio.run(load_demo(settings))
    for line in summary:
        typer.echo(line)


@app.command()
def analyze(
    files: Annotated[list[str] | None, typer.Argument(help="Audio files to analyse")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
    all_tracks: Annotated[
        bool, typer.Option("--all", help="Re-analyse stored tracks of another analysis version")
    ] = False,
    force: Annotated[bool, typer.Option(help="With --all: every stored track")] = False,
) -> None:
    """Analyse audio files without a server, or re-analyse the stored catalog (--all)."""
    from pathlib import Path

    from audotics.commands.analyze import run
    from audotics.workers.analysis import reanalyze_stored

    paths = [Path(name) for name in files or []]
    code = run(
        _settings(),
        paths,
        all_tracks=all_tracks,
        force=force,
        as_json=as_json,
        reanalyze=reanalyze_stored,
    )
    raise typer.Exit(code)


@app.command("import")
def import_(
    path: Annotated[str, typer.Argument(help="A file, or the lastfm-hetrec folder")],
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="lastfm-hetrec | listenbrainz | scrobble-csv | csv"),
    ],
    user: Annotated[
        str | None,
        typer.Option("--user", help="Account the listens belong to (listenbrainz, scrobble-csv)"),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per commit")] = 1000,
) -> None:
    """Import listening history into the current data directory (idempotent)."""
    from audotics.importers import command

    raise typer.Exit(command(_settings(), path, fmt, user, batch_size))


@app.command("evaluate-audio")
def evaluate_audio(
    which: Annotated[str, typer.Option("--set", help="synthetic | midi | both")] = "both",
    count: Annotated[
        int | None, typer.Option(min=1, help="Clips per set (default 200 synthetic, 72 MIDI)")
    ] = None,
    json_out: Annotated[str | None, typer.Option("--json", help="Write the report here")] = None,
    keep: Annotated[str | None, typer.Option(help="Keep the generated sets in this dir")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the sets (default: fresh)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Processes for generation/analysis")] = 2,
) -> None:
    """Generate fresh ground-truth sets, analyse them and report tempo/key/loudness accuracy."""
    import json
    import random
    import tempfile
    from pathlib import Path

    from audotics.ml.audio import evaluation
    from audotics.ml.audio.analysis import analyze_file

    sets = evaluation.SETS if which == "both" else (which,)
    if not set(sets) <= set(evaluation.SETS):
        raise typer.BadParameter(f"--set must be synthetic, midi or both, not {which!r}")
    seed = random.SystemRandom().randrange(2**31) if seed is None else seed
    counts = {name: count for name in sets} if count else None
    with tempfile.TemporaryDirectory(prefix="audotics-eval-") as scratch:
        directory = Path(keep) if keep else Path(scratch)
        typer.echo(f"generating {', '.join(sets)} set(s) with seed {seed} in {directory}")
        reports = evaluation.run_sets(sets, directory, analyze_file, seed, counts, workers)
    for name, report in reports.items():
        typer.echo(
            f"\n{name}: {report.overall.clips} clips, {report.audio_seconds:.0f} s of audio "
            f"analysed in {report.wall_seconds:.1f} s"
        )
        typer.echo(report.format_table())
        typer.echo(report.format_table("genre" if name == "synthetic" else "style"))
    typer.echo("")
    for name, report in reports.items():
        typer.echo("\n".join(evaluation.target_lines(name, report)))
    if json_out:
        data = {"seed": seed, "targets": evaluation.TARGETS}
        data["sets"] = {name: report.to_dict() for name, report in reports.items()}
        Path(json_out).write_text(json.dumps(data, indent=2) + "\n")
        typer.echo(f"report written to {json_out}")


@app.command()
def evaluate(
    path: Annotated[str, typer.Argument(help="A listening-data file, or the lastfm-hetrec folder")],
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="lastfm-hetrec | listenbrainz | scrobble-csv | csv"),
    ],
    json_out: Annotated[str | None, typer.Option("--json", help="Write the report here")] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="List length of the metrics")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of the split and the models")] = 0,
    quick: Annotated[
        bool, typer.Option(help="Small grids and item caps (tests, smoke runs)")
    ] = False,
    split: Annotated[str, typer.Option(help="auto | leave-last-out | temporal | random")] = "auto",
    models: Annotated[
        str | None, typer.Option(help="Comma-separated model names (default: all registered)")
    ] = None,
) -> None:
    """Offline evaluation of every model on one split of a dataset (no server needed)."""
    from audotics.ml.datasets import FORMATS
    from audotics.ml.evaluate import evaluate_dataset
    from audotics.ml.evaluate.report import format_table, write_json

    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    names = [name.strip() for name in models.split(",") if name.strip()] if models else None
    try:
        result = evaluate_dataset(
            path,
            fmt,
            k=k,
            seed=seed,
            quick=quick,
            split=split,
            models=names,
            progress=lambda message: typer.echo(message, err=True),
        )
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(format_table(result))
    if json_out:
        write_json(result, json_out)
        typer.echo(f"report written to {json_out}")


@app.command()
def train(
    engine: Annotated[str, typer.Option(help="implicit | spark")] = "implicit",
    factors: Annotated[int, typer.Option(min=1, max=1024, help="Latent factors")] = 64,
    iterations: Annotated[int, typer.Option(min=1, max=500, help="ALS sweeps")] = 15,
    regularization: Annotated[float, typer.Option(min=0.0, help="ALS lambda")] = 0.05,
    alpha: Annotated[float, typer.Option(min=0.0, help="Confidence scale")] = 2.0,
    seed: Annotated[int, typer.Option(help="Seed of the split and the model")] = 0,
    holdout: Annotated[bool, typer.Option(help="Measure on a holdout split first")] = True,
    keep: Annotated[int, typer.Option(min=1, help="Model versions to keep")] = 5,
) -> None:
    """Train the collaborative-filtering model on the listening log and register it."""
    from audotics.commands.train import TrainOptions, command

    options = TrainOptions(
        engine=engine,
        factors=factors,
        iterations=iterations,
        regularization=regularization,
        alpha=alpha,
        seed=seed,
        holdout=holdout,
        keep=keep,
    )
    raise typer.Exit(command(_settings(), options))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    app()


if __name__ == "__main__":
    main()
