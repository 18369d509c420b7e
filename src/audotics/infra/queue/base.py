"""The durable job queue interface shared by both backends.

A job is a name (which handler runs it) plus a JSON payload. Delivery is at least once:
a handler may see the same job again after a crash, so handlers must be idempotent.
A handler that raises is retried with exponential backoff until ``max_attempts``
deliveries, then the job is kept as a dead letter with the error text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger("audotics.queue")


@dataclass(frozen=True)
class Job:
    id: str
    name: str
    payload: dict[str, Any]
    attempt: int  # 1-based: which delivery of this job the handler is seeing
    max_attempts: int
    enqueued_at: datetime


@dataclass(frozen=True)
class DeadLetter:
    job: Job  # as last attempted
    reason: str
    failed_at: datetime


JobHandler = Callable[[Job], Awaitable[None]]


class JobQueue(ABC):
    backend: str = "abstract"

    def __init__(self, *, retry_backoff_s: float = 0.5, max_backoff_s: float = 60.0) -> None:
        self._handlers: dict[str, JobHandler] = {}
        self._retry_backoff_s = retry_backoff_s
        self._max_backoff_s = max_backoff_s

    def register(self, name: str, handler: JobHandler) -> None:
        """Route jobs called ``name`` to ``handler`` in this process's workers."""
        if name in self._handlers and self._handlers[name] is not handler:
            raise ValueError(f"a handler for job {name!r} is already registered")
        self._handlers[name] = handler

    @abstractmethod
    async def enqueue(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        max_attempts: int = 3,
        job_id: str | None = None,
    ) -> str:
        """Add a job; returns its id (``job_id`` or a new one)."""

    @abstractmethod
    async def run_worker(
        self, stop: asyncio.Event, *, consumer: str | None = None, concurrency: int = 1
    ) -> None:
        """Run jobs with ``concurrency`` parallel slots until ``stop`` is set.

        In-flight jobs finish before this returns; cancelling the task instead abandons
        them, and they are delivered again (Redis: after the visibility timeout).
        """

    @abstractmethod
    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Jobs that exhausted their attempts, oldest first."""

    @abstractmethod
    async def stats(self) -> dict[str, int]:
        """``pending`` (not finished, including in flight), ``in_flight``, ``dead``."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise if the backend is unreachable."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and timers."""

    # --- shared by the backends --------------------------------------------------------

    def backoff_s(self, failed_attempt: int) -> float:
        """Delay before retrying after ``failed_attempt`` failed: doubles each time."""
        delay: float = self._retry_backoff_s * 2 ** (failed_attempt - 1)
        return min(delay, self._max_backoff_s)

    async def _run_handler(self, job: Job) -> str | None:
        """Run the job's handler; returns the failure reason, or None on success."""
        handler = self._handlers.get(job.name)
        if handler is None:
            return f"no handler registered for job {job.name!r}"
        try:
            await handler(job)
        except Exception as exc:  # any handler failure is a failed attempt
            logger.warning(
                "job %s (%s) failed on attempt %d/%d",
                job.id,
                job.name,
                job.attempt,
                job.max_attempts,
                exc_info=True,
            )
            return f"{type(exc).__name__}: {exc}"
        return None


def new_job_id() -> str:
    return uuid.uuid4().hex


def validate_job(name: str, payload: dict[str, Any], max_attempts: int) -> str:
    """Check the arguments of ``enqueue`` and return the payload as JSON."""
    if not name:
        raise ValueError("a job needs a name")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    return json.dumps(payload, separators=(",", ":"))


def consumer_name() -> str:
    """A default consumer name unique to this process and call."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def now() -> datetime:
    return datetime.now(UTC)
