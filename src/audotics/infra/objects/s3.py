"""Object store on any S3-compatible server (AWS S3, SeaweedFS, MinIO, Ceph, R2, ...).

boto3 is synchronous: every call runs in a worker thread (``asyncio.to_thread``).
botocore errors become ``ObjectNotFound`` or an ``ObjectStoreError`` subclass
that names the endpoint, bucket and operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from audotics.infra.objects.base import (
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreAccessDenied,
    ObjectStoreError,
    ObjectStoreUnavailable,
    check_range_start,
    validate_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from audotics.config import Settings

T = TypeVar("T")

DEFAULT_BUCKET = "audotics"
MiB = 1024 * 1024

# HeadObject/HeadBucket answer 404/403 without a body, so only the status code is there.
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_NO_BUCKET_CODES = frozenset({"NoSuchBucket"})
_ACCESS_DENIED_CODES = frozenset(
    {
        "403",
        "AccessDenied",
        "Forbidden",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
    }
)
_ALREADY_EXISTS_CODES = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})


class S3BucketMissing(ObjectStoreError):
    """The configured bucket does not exist (yet): see ``S3ObjectStore.ensure_bucket``."""


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _client_config(
    *,
    addressing_style: str,
    connect_timeout_s: float,
    read_timeout_s: float,
    max_attempts: int,
    max_pool_connections: int,
) -> Config:
    options: dict[str, Any] = {
        "s3": {"addressing_style": addressing_style},
        "signature_version": "s3v4",
        "connect_timeout": connect_timeout_s,
        "read_timeout": read_timeout_s,
        "retries": {"mode": "standard", "total_max_attempts": max_attempts},
        "max_pool_connections": max_pool_connections,
    }
    # botocore >= 1.36 adds CRC checksums to every upload by default, which several
    # S3-compatible servers reject; send them only where the API requires one.
    checksums: dict[str, Any] = {
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
    }
    try:
        return Config(**options, **checksums)
    except TypeError:  # older botocore: no such options, and no default checksums either
        return Config(**options)


class S3ObjectStore(ObjectStore):
    """Objects live in ``bucket`` under ``key_prefix`` (so several stores can share a bucket).

    The bucket is created on the first write that finds it missing, or up front with
    :meth:`ensure_bucket`; :meth:`ping` only checks, so a missing bucket means "not ready".
    """

    backend = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        addressing_style: Literal["path", "virtual", "auto"] = "path",
        key_prefix: str = "",
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 30.0,
        max_attempts: int = 3,  # per request, the first try included
        multipart_threshold_bytes: int = 16 * MiB,
        multipart_chunk_bytes: int = 8 * MiB,
        upload_concurrency: int = 4,
    ) -> None:
        if not bucket:
            raise ValueError("S3 bucket name is required")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.key_prefix = validate_key(key_prefix.strip("/")) + "/" if key_prefix.strip("/") else ""
        self._transfer_config = TransferConfig(
            multipart_threshold=multipart_threshold_bytes,
            multipart_chunksize=multipart_chunk_bytes,
            max_concurrency=upload_concurrency,
        )
        # A private session: boto3's default session is shared and not thread-safe,
        # while a client, once built, may be used from any worker thread.
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )

        def make_client(**timeouts: Any) -> S3Client:
            config = _client_config(
                addressing_style=addressing_style,
                max_pool_connections=max(10, upload_concurrency * 2),
                **timeouts,
            )
            return session.client("s3", endpoint_url=endpoint_url, config=config)

        self._client = make_client(
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            max_attempts=max_attempts,
        )
        # Readiness probes answer within the app's 3 s budget: short timeouts, no retries
        # (a retrying probe would outlive the budget and leave a thread behind).
        self._probe_client = make_client(
            connect_timeout_s=min(connect_timeout_s, 1.0),
            read_timeout_s=min(read_timeout_s, 2.0),
            max_attempts=1,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3ObjectStore:
        secret = settings.s3_secret_access_key
        return cls(
            settings.s3_bucket or DEFAULT_BUCKET,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            addressing_style=settings.s3_addressing_style,
        )

    def __repr__(self) -> str:
        return (
            f"S3ObjectStore(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r}, "
            f"key_prefix={self.key_prefix!r})"
        )

    # --- helpers -------------------------------------------------------------------------

    def _full_key(self, key: str) -> str:
        return self.key_prefix + validate_key(key)

    def _where(self) -> str:
        return f"bucket {self.bucket!r} at {self.endpoint_url or 'AWS S3'}"

    def _translate_client_error(
        self, error: ClientError, operation: str, key: str | None
    ) -> Exception:
        code = _error_code(error)
        if key is not None and code in _NOT_FOUND_CODES | _NO_BUCKET_CODES:
            return ObjectNotFound(key)  # reading from a missing bucket: nothing stored yet
        if code in _ACCESS_DENIED_CODES:
            return ObjectStoreAccessDenied(
                f"S3 {operation} refused by {self._where()} ({code}): "
                "check the access key, secret and bucket permissions"
            )
        if code in _NO_BUCKET_CODES or (key is None and code in _NOT_FOUND_CODES):
            return S3BucketMissing(f"S3 {self._where()} does not exist")
        message = error.response.get("Error", {}).get("Message", "")
        return ObjectStoreError(
            f"S3 {operation} failed on {self._where()}: {code} {message}".rstrip()
        )

    @contextmanager
    def _translate_errors(self, operation: str, key: str | None = None) -> Iterator[None]:
        try:
            yield
        except ClientError as error:
            raise self._translate_client_error(error, operation, key) from error
        except BotoCoreError as error:
            raise ObjectStoreUnavailable(
                f"S3 {operation} could not reach {self._where()}: {error}"
            ) from error
        except Boto3Error as error:
            # upload_file re-raises a ClientError as S3UploadFailedError (implicitly chained).
            inner = error.__cause__ or error.__context__
            if isinstance(inner, ClientError):
                raise self._translate_client_error(inner, operation, key) from error
            raise ObjectStoreError(f"S3 {operation} failed on {self._where()}: {error}") from error

    async def _run(self, operation: str, key: str | None, call: Callable[[], T]) -> T:
        def translated() -> T:
            with self._translate_errors(operation, key):
                return call()

        return await asyncio.to_thread(translated)

    async def _write(self, operation: str, key: str, upload: Callable[[], object]) -> ObjectInfo:
        """Run an upload, creating the bucket once if it does not exist yet."""
        try:
            await self._run(operation, None, upload)
        except S3BucketMissing:
            await self.ensure_bucket()
            await self._run(operation, None, upload)
        return await self.head(key)

    @staticmethod
    def _content_type(key: str, content_type: str | None) -> str:
        return content_type or mimetypes.guess_type(key)[0] or "application/octet-stream"

    @staticmethod
    def _info(
        key: str, size: int, etag: str, content_type: str | None, modified: datetime
    ) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=int(size),
            etag=etag.strip('"'),
            content_type=content_type,
            last_modified=modified,
        )

    # --- bucket --------------------------------------------------------------------------

    async def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (idempotent)."""

        def create() -> None:
            try:
                self._client.head_bucket(Bucket=self.bucket)
                return
            except ClientError as error:
                if _error_code(error) not in _NOT_FOUND_CODES | _NO_BUCKET_CODES:
                    raise
            options: dict[str, Any] = {"Bucket": self.bucket}
            if self.region != "us-east-1":  # us-east-1 rejects an explicit constraint
                options["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            try:
                self._client.create_bucket(**options)
            except ClientError as error:
                if _error_code(error) not in _ALREADY_EXISTS_CODES:  # lost a harmless race
                    raise

        await self._run("CreateBucket", None, create)

    # --- ObjectStore ---------------------------------------------------------------------

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        full_key = self._full_key(key)
        body = bytes(data)
        ctype = self._content_type(key, content_type)
        return await self._write(
            "PutObject",
            key,
            lambda: self._client.put_object(
                Bucket=self.bucket, Key=full_key, Body=body, ContentType=ctype
            ),
        )

    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> ObjectInfo:
        """Stream a file; above the multipart threshold it goes up in parallel parts."""
        full_key = self._full_key(key)
        ctype = self._content_type(key, content_type)
        filename = str(Path(path))
        return await self._write(
            "UploadFile",
            key,
            lambda: self._client.upload_file(
                filename,
                self.bucket,
                full_key,
                ExtraArgs={"ContentType": ctype},
                Config=self._transfer_config,
            ),
        )

    async def get(self, key: str) -> bytes:
        full_key = self._full_key(key)

        def read() -> bytes:
            return self._client.get_object(Bucket=self.bucket, Key=full_key)["Body"].read()

        return await self._run("GetObject", key, read)

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        check_range_start(start)
        full_key = self._full_key(key)
        if end < start:
            # Still answer ObjectNotFound for a missing key, like the local store.
            await self.head(key)
            return b""

        def read() -> bytes:
            try:
                response = self._client.get_object(
                    Bucket=self.bucket, Key=full_key, Range=f"bytes={start}-{end}"
                )
            except ClientError as error:
                if _error_code(error) == "InvalidRange":  # start at or past the end
                    return b""
                raise
            return response["Body"].read()

        return await self._run("GetObject", key, read)

    async def stream(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        """One ranged GetObject whose body is read chunk by chunk in worker threads."""
        check_range_start(start)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        full_key = self._full_key(key)
        if end is not None and end < start:
            await self.head(key)
            return
        byte_range = f"bytes={start}-" if end is None else f"bytes={start}-{end}"

        def open_body() -> Any:
            try:
                response = self._client.get_object(
                    Bucket=self.bucket, Key=full_key, Range=byte_range
                )
            except ClientError as error:
                if _error_code(error) == "InvalidRange":
                    return None
                raise
            return response["Body"]

        body = await self._run("GetObject", key, open_body)
        if body is None:
            return
        try:
            while True:
                chunk: bytes = await self._run("GetObject", key, lambda: body.read(chunk_size))
                if not chunk:
                    break
                yield chunk
        finally:
            body.close()  # an abandoned stream must not keep its connection checked out

    async def head(self, key: str) -> ObjectInfo:
        full_key = self._full_key(key)
        response = await self._run(
            "HeadObject", key, lambda: self._client.head_object(Bucket=self.bucket, Key=full_key)
        )
        return self._info(
            key,
            response["ContentLength"],
            response["ETag"],
            response.get("ContentType"),
            response["LastModified"],
        )

    async def delete(self, key: str) -> None:
        full_key = self._full_key(key)
        # S3 answers 204 for a missing key; some servers say NoSuchKey instead.
        with contextlib.suppress(ObjectNotFound):
            await self._run(
                "DeleteObject",
                key,
                lambda: self._client.delete_object(Bucket=self.bucket, Key=full_key),
            )

    async def list(self, prefix: str = "") -> list[ObjectInfo]:
        full_prefix = self.key_prefix + prefix

        def collect() -> list[ObjectInfo]:
            found: list[ObjectInfo] = []
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.key_prefix) :]
                    try:
                        validate_key(key)
                    except ValueError:
                        continue  # written by another tool ("dir/" markers, odd names)
                    found.append(
                        self._info(key, item["Size"], item["ETag"], None, item["LastModified"])
                    )
            return sorted(found, key=lambda info: info.key)

        try:
            return await self._run("ListObjectsV2", None, collect)
        except S3BucketMissing:
            return []  # no bucket yet: nothing stored yet

    async def presigned_url(self, key: str, expires_s: int = 3600) -> str | None:
        if not 1 <= expires_s <= 7 * 24 * 3600:  # SigV4 presigned URLs last at most 7 days
            raise ValueError(f"expires_s must be 1..604800, got {expires_s}")
        full_key = self._full_key(key)
        # Signing is local computation: no request is made.
        url: str = self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": full_key}, ExpiresIn=expires_s
        )
        return url

    async def ping(self) -> None:
        """Check that the bucket exists and the credentials are accepted; never creates."""
        await self._run(
            "HeadBucket", None, lambda: self._probe_client.head_bucket(Bucket=self.bucket)
        )

    async def close(self) -> None:
        self._client.close()
        self._probe_client.close()
