"""Composition root for background work: job handlers and event consumers.

The same handlers run inside the API process in embedded mode (in-process
queue and events) and in ``audotics worker`` processes against Redis.
Each module named in ``HANDLER_MODULES`` provides ``register(infra)``, which
calls ``infra.queue.register(...)`` / ``infra.events.subscribe(...)``, and may
provide ``async stop(infra)``, awaited before ``infra`` closes (work that ``register``
started must not outlive the database it uses), and ``close()``, called once when the
process stops serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import socket

from audotics.config import Settings
from audotics.infra.factory import Infra, build_infra

logger = logging.getLogger("audotics.workers")

# Filled by the issues that add background work (content analysis, profiling, ...).
HANDLER_MODULES: tuple[str, ...] = ("audotics.workers.analysis",)


def register_handlers(infra: Infra) -> list[str]:
    registered = []
    for name in HANDLER_MODULES:
        importlib.import_module(name).register(infra)
        registered.append(name)
    return registered


async def stop_handlers(infra: Infra) -> None:
    """Before ``infra`` closes: end what the handler modules started for it (``stop``)."""
    for name in HANDLER_MODULES:
        stop = getattr(importlib.import_module(name), "stop", None)
        if stop is not None:
            await stop(infra)


def close_handlers() -> None:
    """Release what handler modules hold for the whole process (``close()``, optional)."""
    for name in HANDLER_MODULES:
        close = getattr(importlib.import_module(name), "close", None)
        if close is not None:
            close()


#: How long cancelled jobs get to unwind at shutdown.
CANCEL_GRACE_S = 5.0


class BackgroundWork:
    """Runs the queue consumer and event subscriptions until stopped."""

    def __init__(self, infra: Infra, *, concurrency: int = 1, consumer: str | None = None) -> None:
        self.infra = infra
        self.concurrency = concurrency
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(
                self.infra.queue.run_worker(
                    self.stop, consumer=self.consumer, concurrency=self.concurrency
                ),
                name="audotics-jobs",
            ),
            asyncio.create_task(self.infra.events.run(self.stop), name="audotics-events"),
        ]

    async def wait(self) -> None:
        await asyncio.gather(*self._tasks)

    async def shutdown(self, timeout_s: float | None = None) -> None:
        """Stop taking work; give in-flight jobs ``timeout_s`` to finish, then cancel them
        and wait (at most :data:`CANCEL_GRACE_S`) until they have unwound.

        By default 30 s on Redis (an abandoned job is redelivered to another worker) and
        2 s in-process, where queued jobs die with the process anyway: handlers recover
        their work at the next start (content analysis re-queues "pending" tracks).
        """
        if timeout_s is None:
            timeout_s = 2.0 if self.infra.queue.backend == "memory" else 30.0
        self.stop.set()
        if not self._tasks:
            return
        done, pending = await asyncio.wait(self._tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            # Let the cancelled jobs unwind (their finally blocks close their sessions)
            # before the caller closes the database; bounded, as a handler may swallow it.
            await asyncio.wait(pending, timeout=CANCEL_GRACE_S)
        for task in (*done, *pending):
            with contextlib.suppress(asyncio.CancelledError):
                exc = task.exception() if task.done() and not task.cancelled() else None
                if exc is not None:
                    logger.error("background task %s failed: %r", task.get_name(), exc)


async def run_worker_process(settings: Settings, concurrency: int = 1) -> None:
    """``audotics worker``: consume jobs and events until SIGINT/SIGTERM."""
    infra = build_infra(settings)
    modules = register_handlers(infra)
    work = BackgroundWork(infra, concurrency=concurrency)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, work.stop.set)
    logger.info(
        "worker %s consuming (%s queue, handlers: %s)",
        work.consumer,
        infra.queue.backend,
        ", ".join(modules) or "none yet",
    )
    work.start()
    try:
        await work.wait()
    finally:
        await stop_handlers(infra)
        await work.shutdown()
        close_handlers()
        await infra.close()
