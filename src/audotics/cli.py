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
        "audotics.app:create_app",
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


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    app()


if __name__ == "__main__":
    main()
