"""Training fixtures: the object-store pair (local directory and real S3 on SeaweedFS)."""

from tests.integration.objects.conftest import object_store, shared_bucket

__all__ = ["object_store", "shared_bucket"]
