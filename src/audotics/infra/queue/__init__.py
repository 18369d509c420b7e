"""Job queue: in-process (embedded) or Redis Streams (production), at-least-once delivery."""

from audotics.infra.queue.base import DeadLetter, Job, JobHandler, JobQueue

__all__ = ["DeadLetter", "Job", "JobHandler", "JobQueue"]
