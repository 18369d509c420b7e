"""Object storage: a local directory (embedded) or any S3-compatible server."""

from audotics.infra.objects.base import (
    InvalidObjectKey,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreAccessDenied,
    ObjectStoreError,
    ObjectStoreUnavailable,
    validate_key,
)

__all__ = [
    "InvalidObjectKey",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectStoreAccessDenied",
    "ObjectStoreError",
    "ObjectStoreUnavailable",
    "validate_key",
]
