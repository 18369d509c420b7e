"""Cache: an in-process LRU with TTL (embedded) or Redis (production)."""

from audotics.infra.cache.base import Cache

__all__ = ["Cache"]
