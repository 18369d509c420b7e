"""The event stream interface shared by both backends.

Topics carry domain events ("track.played", "user.deleted", ...) as JSON payloads.
Subscribers join a *group*: every group receives each event published to the topic,
and within a group each event is handled once (by one consumer), at least once:
an event whose handler fails or whose consumer dies is delivered again, up to
``max_deliveries`` times, then kept as a dead letter. Handlers must be idempotent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger("audotics.events")

# Topic and group names: no ':' (Redis key separator), nothing that starts with '_'
# (reserved for the bus's own keys).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}")


@dataclass(frozen=True)
class Event:
    id: str
    topic: str
    payload: dict[str, Any]
    published_at: datetime


@dataclass(frozen=True)
class DeadEvent:
    event: Event
    group: str
    reason: str
    failed_at: datetime


EventHandler = Callable[[Event], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    topic: str
    group: str
    handler: EventHandler


class EventBus(ABC):
    backend: str = "abstract"

    def __init__(self, *, max_deliveries: int = 5) -> None:
        if max_deliveries < 1:
            raise ValueError("max_deliveries must be at least 1")
        self._subscriptions: dict[tuple[str, str], Subscription] = {}
        self._max_deliveries = max_deliveries
        # Set while run() is consuming, once every subscribed group exists: from then on
        # each group receives every event published to its topic.
        self.ready = asyncio.Event()

    def subscribe(self, topic: str, group: str, handler: EventHandler) -> None:
        """Handle ``topic`` events as member ``group``; takes effect in ``run``.

        One handler per (topic, group) and bus; run more processes to share a group's load.
        """
        check_name("topic", topic)
        check_name("group", group)
        if (topic, group) in self._subscriptions:
            raise ValueError(f"group {group!r} already subscribes to {topic!r} on this bus")
        subscription = Subscription(topic, group, handler)
        self._subscriptions[(topic, group)] = subscription
        self._subscribed(subscription)

    def _subscribed(self, subscription: Subscription) -> None:  # noqa: B027 - optional hook
        """Backend hook called by ``subscribe``."""

    @abstractmethod
    async def publish(self, topic: str, payload: dict[str, Any]) -> str:
        """Append an event to ``topic``; returns its id."""

    @abstractmethod
    async def run(self, stop: asyncio.Event) -> None:
        """Consume every subscription until ``stop`` is set."""

    @abstractmethod
    async def dead_letters(self, limit: int = 100) -> list[DeadEvent]:
        """Events some group gave up on, oldest first."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise if the backend is unreachable."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and timers."""

    async def _deliver(self, subscription: Subscription, event: Event, delivery: int) -> str | None:
        """Run the handler; returns the failure reason, or None on success."""
        try:
            await subscription.handler(event)
        except Exception as exc:  # any handler failure means "deliver again"
            logger.warning(
                "event %s on %s failed in group %s (delivery %d/%d)",
                event.id,
                event.topic,
                subscription.group,
                delivery,
                self._max_deliveries,
                exc_info=True,
            )
            return f"{type(exc).__name__}: {exc}"
        return None


def check_name(kind: str, name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError(f"invalid {kind} name {name!r}: use letters, digits, '.', '_', '-'")


def encode_payload(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


def now() -> datetime:
    return datetime.now(UTC)
