"""Builds the backends the settings ask for: the one place that picks embedded or production."""

from __future__ import annotations

from dataclasses import dataclass

from audotics.config import Settings
from audotics.infra.cache.base import Cache
from audotics.infra.db import Database
from audotics.infra.events.base import EventBus
from audotics.infra.objects.base import ObjectStore
from audotics.infra.queue.base import JobQueue


@dataclass
class Infra:
    settings: Settings
    db: Database
    cache: Cache
    objects: ObjectStore
    queue: JobQueue
    events: EventBus

    async def close(self) -> None:
        await self.queue.close()
        await self.events.close()
        await self.cache.close()
        await self.objects.close()
        await self.db.dispose()


def build_cache(settings: Settings) -> Cache:
    if settings.redis_url:
        from audotics.infra.cache.redis import RedisCache

        return RedisCache(settings.redis_url, default_ttl_s=settings.cache_default_ttl_s)
    from audotics.infra.cache.memory import MemoryCache

    return MemoryCache(settings.cache_max_entries, settings.cache_default_ttl_s)


def build_objects(settings: Settings) -> ObjectStore:
    if settings.uses_s3:
        from audotics.infra.objects.s3 import S3ObjectStore

        return S3ObjectStore.from_settings(settings)
    from audotics.infra.objects.local import LocalObjectStore

    return LocalObjectStore(settings.objects_dir)


def build_queue(settings: Settings) -> JobQueue:
    if settings.redis_url:
        from audotics.infra.queue.redis_streams import RedisStreamsJobQueue

        return RedisStreamsJobQueue(
            settings.redis_url, visibility_timeout_s=settings.queue_visibility_timeout_s
        )
    from audotics.infra.queue.memory import MemoryJobQueue

    return MemoryJobQueue()


def build_events(settings: Settings) -> EventBus:
    if settings.redis_url:
        from audotics.infra.events.redis_streams import RedisStreamsEventBus

        return RedisStreamsEventBus(settings.redis_url)
    from audotics.infra.events.memory import MemoryEventBus

    return MemoryEventBus()


def build_infra(settings: Settings) -> Infra:
    return Infra(
        settings=settings,
        db=Database(
            settings.resolved_database_url,
            echo=settings.database_echo,
            pool_size=settings.database_pool_size,
        ),
        cache=build_cache(settings),
        objects=build_objects(settings),
        queue=build_queue(settings),
        events=build_events(settings),
    )
