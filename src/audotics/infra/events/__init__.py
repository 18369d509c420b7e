"""Event stream: in-process (embedded) or Redis Streams (production), consumer groups."""

from audotics.infra.events.base import DeadEvent, Event, EventBus, EventHandler

__all__ = ["DeadEvent", "Event", "EventBus", "EventHandler"]
