"""The content-analysis job: "audio.analyze" {track_id, audio_sha256, uploaded_at}.

upload -> job (enqueued before the upload commits) -> this handler, in the API process
(embedded) or in `audotics worker` (Redis) -> object downloaded to a temporary file ->
``analyze_file`` in a child process -> features stored, track re-indexed in search,
status "done" -> event "track.analyzed".

Failure policy (the job never crashes its worker):

* undecodable audio (``AudioDecodeError``) and analyses that exceed
  ``analysis_timeout_s`` or return unstorable results are deterministic: recorded
  "failed" with the reason at once, no retry;
* transient trouble (object store, database, the analysis process dying) is recorded
  as the track's ``analysis_error`` and raised, so the queue retries with backoff up to
  ``MAX_ATTEMPTS``; the last attempt records "failed";
* every attempt is counted on the track before it starts, so a file that kills its
  worker every time is given up on after ``MAX_ATTEMPTS`` whoever delivers it;
* a job whose audio was replaced or deleted since it was enqueued is dropped.

Analysis runs in a process pool: numpy/libsndfile work cannot stall the event loop
that serves HTTP (embedded) or heartbeats jobs (Redis), a crash or runaway in a
hostile file kills only the child, and a timeout can really stop it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import threadpoolctl

from audotics.infra.factory import Infra
from audotics.infra.objects.base import ObjectNotFound, ObjectStoreError
from audotics.infra.queue.base import Job
from audotics.services.catalog import service as catalog
from audotics.services.catalog.analysis_schemas import AnalysisTarget

logger = logging.getLogger("audotics.workers.analysis")

# Waits for an upload's transaction to commit (the job is enqueued just before it).
_COMMIT_WAITS_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.5)
_PUBLISH_TRIES = 3


class AnalysisRetry(Exception):
    """A transient failure: the queue should deliver the job again."""


@dataclass(frozen=True)
class Outcome:
    track_id: uuid.UUID
    status: str  # "done" | "failed" | "skipped" | "retry"
    reason: str | None = None
    seconds: float = 0.0


# --- the child process -----------------------------------------------------------------


def _warm_up() -> None:
    import audotics.ml.audio.analysis  # noqa: F401 - pay the imports once per child

    # One BLAS/OpenMP thread per child: there is one child per core, and the analysis is
    # mostly small matrix products, which extra threads only oversubscribe. After the
    # imports: the limit reaches only the native libraries loaded by then.
    threadpoolctl.threadpool_limits(1)


def _ready() -> bool:
    return True


def _native_threads() -> int:
    """The most threads any native thread pool of this process may use."""
    return max((pool["num_threads"] for pool in threadpoolctl.threadpool_info()), default=1)


def _analyze_in_child(path: str) -> tuple[str, Any]:
    """Runs in a pool process; returns plain tuples (exceptions may not unpickle)."""
    from audotics.ml.audio.analysis import analyze_file
    from audotics.ml.audio.decode import AudioDecodeError

    try:
        return "ok", analyze_file(path)
    except AudioDecodeError as exc:
        return "rejected", f"undecodable audio ({exc.code}): {exc.reason}"
    except (MemoryError, OSError) as exc:
        return "transient", f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # a bug or pathological input: the same bytes fail again
        return "error", f"analysis error: {type(exc).__name__}: {exc}"


class AnalysisRunner:
    """A pool of analysis processes with a per-file time limit."""

    def __init__(self, processes: int, timeout_s: float) -> None:
        self.processes = max(1, processes)
        self.timeout_s = timeout_s
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes,
                # Never fork the event loop's process: its threads and sockets don't copy.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm_up,
                max_tasks_per_child=500,
            )
        return self._pool

    def _restart(self) -> None:
        """Kill the children (a runaway analysis) and start afresh on next use."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def warm(self) -> None:
        """Start every analysis process (spawning and importing takes seconds)."""
        futures = [self._executor().submit(_ready) for _ in range(self.processes)]
        await asyncio.gather(*(asyncio.wrap_future(future) for future in futures))

    async def analyze(self, path: Path) -> tuple[str, Any]:
        """("ok", AudioFeatures) or (kind, reason) with kind rejected/transient/error/timeout."""
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor(), _analyze_in_child, str(path))
            return await asyncio.wait_for(future, self.timeout_s)
        except TimeoutError:
            self._restart()
            return "timeout", f"analysis took longer than {self.timeout_s:g} s and was stopped"
        except BrokenProcessPool:
            self._restart()
            return "transient", "the analysis process died (crash or out of memory)"

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def terminate(self) -> None:
        """Stop the children now, mid-analysis or not (their jobs are recovered later)."""
        self._restart()


_runner: AnalysisRunner | None = None


def shared_runner(infra: Infra) -> AnalysisRunner:
    """One pool per process, whatever number of apps or queues it serves."""
    global _runner
    if _runner is None:
        settings = infra.settings
        _runner = AnalysisRunner(settings.worker_concurrency, settings.analysis_timeout_s)
    return _runner


def close() -> None:
    """At the end of a serving or worker process: without this, interpreter exit waits
    for every queued analysis and a SIGTERM'd server leaves its pool processes running.
    An interrupted job is not lost: Redis redelivers it, an embedded start re-queues
    pending tracks."""
    global _runner
    if _runner is not None:
        _runner.terminate()
        _runner = None


# --- the pipeline ----------------------------------------------------------------------


class AnalysisPipeline:
    def __init__(self, infra: Infra, runner: AnalysisRunner) -> None:
        self.infra = infra
        self.runner = runner

    async def handle(self, job: Job) -> None:
        """The queue handler: raises only when the queue should retry."""
        try:
            track_id = uuid.UUID(str(job.payload["track_id"]))
            sha = str(job.payload["audio_sha256"])
            raw_time = job.payload.get("uploaded_at")
            uploaded_at = datetime.fromisoformat(raw_time) if raw_time else None
        except (KeyError, ValueError, TypeError) as exc:
            logger.error("dropping malformed analysis job %s: %r (%s)", job.id, job.payload, exc)
            return
        outcome = await self.run(
            track_id,
            sha,
            uploaded_at,
            max_attempts=catalog.ANALYSIS_MAX_ATTEMPTS,
            last_delivery=job.attempt >= job.max_attempts,
        )
        if outcome.status == "retry":
            raise AnalysisRetry(outcome.reason or "transient failure")

    async def run(
        self,
        track_id: uuid.UUID,
        sha: str,
        uploaded_at: datetime | None = None,
        *,
        max_attempts: int | None = catalog.ANALYSIS_MAX_ATTEMPTS,
        last_delivery: bool = True,
        force: bool = False,
        retry_failed: bool = False,
    ) -> Outcome:
        """Analyse one track's audio end to end; never raises for the audio's sake."""
        started = time.perf_counter()
        begin, target = await self._begin(
            track_id, sha, uploaded_at, max_attempts, force=force, retry_failed=retry_failed
        )
        if begin is catalog.Begin.not_committed and not last_delivery:
            return Outcome(track_id, "retry", "the upload has not committed yet")
        if begin is catalog.Begin.gave_up:
            return Outcome(track_id, "failed", "attempts spent")
        if begin is not catalog.Begin.start or target is None:
            logger.info("analysis of track %s skipped: %s", track_id, begin.value)
            return Outcome(track_id, "skipped", begin.value)
        try:
            kind, result = await self._analyze(target)
            if kind == "ok":
                return await self._store(target, result, started)
        except (ObjectStoreError, OSError) as exc:
            kind, result = "transient", f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # e.g. the analysis processes cannot start: retry, bounded
            logger.exception("analysis of track %s broke", track_id)
            kind, result = "transient", f"{type(exc).__name__}: {exc}"
        final = last_delivery or kind not in ("transient",)
        await self._record_failure(target, str(result), final=final)
        seconds = time.perf_counter() - started
        logger.warning("analysis of track %s failed (%s): %s", track_id, kind, result)
        return Outcome(track_id, "failed" if final else "retry", str(result), seconds=seconds)

    async def _begin(
        self,
        track_id: uuid.UUID,
        sha: str,
        uploaded_at: datetime | None,
        max_attempts: int | None,
        *,
        force: bool,
        retry_failed: bool,
    ) -> tuple[catalog.Begin, AnalysisTarget | None]:
        begin, target = catalog.Begin.stale, None
        for delay in (*_COMMIT_WAITS_S, None):
            async with self.infra.db.session() as session:
                begin, target = await catalog.begin_analysis(
                    session,
                    track_id,
                    sha,
                    uploaded_at,
                    max_attempts=max_attempts,
                    force=force,
                    retry_failed=retry_failed,
                )
            if begin is not catalog.Begin.not_committed or delay is None:
                break
            await asyncio.sleep(delay)
        return begin, target

    async def _analyze(self, target: AnalysisTarget) -> tuple[str, Any]:
        suffix = PurePosixPath(target.audio_key).suffix[:8] or ".audio"
        with tempfile.TemporaryDirectory(prefix="audotics-analysis-") as folder:
            path = Path(folder) / f"audio{suffix}"
            try:
                await self._download(target.audio_key, path)
            except ObjectNotFound:
                return "missing", "the stored audio file is missing"
            return await self.runner.analyze(path)

    async def _download(self, key: str, path: Path) -> None:
        with path.open("wb") as handle:
            async for chunk in self.infra.objects.stream(key):
                await asyncio.to_thread(handle.write, chunk)

    async def _store(self, target: AnalysisTarget, features: Any, started: float) -> Outcome:
        try:
            async with self.infra.db.session() as session:
                event = await catalog.store_analysis(
                    session, target.track_id, target.audio_sha256, features
                )
        except catalog.InvalidFeatures as exc:
            await self._record_failure(target, str(exc), final=True)
            return Outcome(target.track_id, "failed", str(exc))
        if event is None:
            return Outcome(target.track_id, "skipped", "stale")
        await self._publish(event)
        seconds = time.perf_counter() - started
        logger.info("analysed track %s in %.2f s", target.track_id, seconds)
        return Outcome(target.track_id, "done", None, seconds)

    async def _record_failure(self, target: AnalysisTarget, reason: str, *, final: bool) -> None:
        async with self.infra.db.session() as session:
            await catalog.record_analysis_failure(
                session, target.track_id, target.audio_sha256, reason, final=final
            )

    async def _publish(self, event: dict[str, Any]) -> None:
        """The features are committed; a lost event only delays other consumers."""
        for attempt in range(1, _PUBLISH_TRIES + 1):
            try:
                await self.infra.events.publish(catalog.ANALYZED_EVENT, event)
                return
            except Exception:  # the bus is down: try a little, never undo the analysis
                if attempt == _PUBLISH_TRIES:
                    logger.exception("could not publish %s", catalog.ANALYZED_EVENT)
                    return
                await asyncio.sleep(0.2 * attempt)


# --- wiring ----------------------------------------------------------------------------

# The start-up work scheduled by ``register``, with the infrastructure it uses.
_starts: dict[asyncio.Task[None], Infra] = {}


async def requeue_pending(infra: Infra) -> int:
    """Enqueue the tracks still waiting for analysis; returns how many.

    The in-process queue forgets its jobs when the process stops, and `audotics demo`
    stores audio without a queue: an embedded start re-queues what is pending.
    """
    async with infra.db.session() as session:
        waiting = await catalog.pending_analysis(session)
    for target in waiting:
        await infra.queue.enqueue(
            catalog.ANALYZE_JOB,
            catalog.analysis_job_payload(
                target.track_id, target.audio_sha256, target.audio_uploaded_at
            ),
            max_attempts=catalog.ANALYSIS_MAX_ATTEMPTS,
        )
    return len(waiting)


def register(infra: Infra) -> None:
    """Handle "audio.analyze"; in the background, start the analysis processes and then
    (in-process queue only: Redis keeps its jobs) re-queue what is pending."""
    runner = shared_runner(infra)
    infra.queue.register(catalog.ANALYZE_JOB, AnalysisPipeline(infra, runner).handle)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    task = loop.create_task(_start(infra, runner), name="audotics-analysis-start")
    _starts[task] = infra
    task.add_done_callback(lambda done: _starts.pop(done, None))


async def wait_for_sweeps() -> None:
    """Until the start-up work scheduled by ``register`` has finished (tests)."""
    while _starts:
        await asyncio.gather(*list(_starts), return_exceptions=True)


async def stop(infra: Infra) -> None:
    """Cancel ``infra``'s start-up work and wait until it has let go of the database.

    Called before ``infra`` closes: left running, the re-queue's session outlived the
    engine's dispose() and its pooled connection was never closed (its aiosqlite thread
    then died on a closed event loop when garbage collected). A cancelled re-queue is
    redone at the next start.
    """
    mine = [task for task, owner in _starts.items() if owner is infra]
    for task in mine:
        task.cancel()
    await asyncio.gather(*mine, return_exceptions=True)


async def _start(infra: Infra, runner: AnalysisRunner) -> None:
    try:
        await runner.warm()
    except Exception:  # the first job will try again, and record what goes wrong
        logger.warning("could not start the analysis processes", exc_info=True)
    if infra.queue.backend != "memory":
        return
    try:
        count = await requeue_pending(infra)
    except Exception:  # a missing table or a closed database: nothing to re-queue
        logger.warning("could not re-queue pending analyses", exc_info=True)
        return
    if count:
        logger.info("re-queued %d track(s) waiting for analysis", count)


async def reanalyze_stored(
    infra: Infra,
    *,
    force: bool = False,
    on_total: Callable[[int], None] | None = None,
    on_done: Callable[[AnalysisTarget, Outcome], None] | None = None,
) -> list[Outcome]:
    """`audotics analyze --all`: analyse, in this process, every stored track whose features
    are missing or of another ANALYSIS_VERSION (every track with ``force``)."""
    async with infra.db.session() as session:
        targets = await catalog.tracks_needing_analysis(session, force=force)
    if on_total is not None:
        on_total(len(targets))
    runner = shared_runner(infra)
    pipeline = AnalysisPipeline(infra, runner)
    pending = iter(targets)  # shared: each target goes to exactly one lane
    outcomes: list[Outcome] = []

    async def lane() -> None:
        for target in pending:
            outcome = await pipeline.run(
                target.track_id,
                target.audio_sha256,
                max_attempts=None,
                force=force,
                retry_failed=True,
            )
            outcomes.append(outcome)
            if on_done is not None:
                on_done(target, outcome)

    await asyncio.gather(*(lane() for _ in range(runner.processes)))
    return outcomes
