"""Settings for every process, read from ``AUDOTICS_*`` environment variables.

The defaults are the embedded mode: everything lives under ``data_dir`` and
needs no external server. Setting ``database_url``, ``redis_url`` or
``s3_endpoint_url`` switches that concern to its production backend.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUDOTICS_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path(".audotics")

    # Database: SQLite file in data_dir unless a URL is given.
    database_url: str | None = None
    database_echo: bool = False
    database_pool_size: int = Field(default=10, ge=1, le=200)

    # Redis: when set, cache, rate limits, queue and events use it.
    redis_url: str | None = None
    # Run job/event consumers inside the API process; default: only without Redis.
    embedded_worker: bool | None = None
    worker_concurrency: int = Field(default=2, ge=1, le=64)
    # A job whose worker has not sent a heartbeat for this long is handed to another.
    queue_visibility_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    # Content analysis of one file gets this long before it is stopped and recorded failed.
    analysis_timeout_s: float = Field(default=300.0, gt=0, le=3600)
    cache_max_entries: int = Field(default=10_000, ge=1)
    cache_default_ttl_s: float = Field(default=300.0, gt=0)

    # Object storage: local directory unless an S3 endpoint or bucket is given.
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_addressing_style: Literal["path", "virtual", "auto"] = "path"

    # Security.
    secret_key: SecretStr | None = None  # generated and kept in data_dir when unset
    access_token_ttl_s: int = Field(default=15 * 60, ge=30)
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, ge=60)
    password_min_length: int = Field(default=10, ge=8)
    # argon2id cost (RFC 9106 low-memory profile by default); tests lower it for speed.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8)

    # Request bodies: audio uploads, and everything else (JSON, forms).
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)

    # Spark master of `audotics train --engine spark` (a cluster URL in production).
    spark_master: str = "local[*]"

    auto_migrate: bool = True  # production runs `audotics migrate` as a release step

    # HTTP.
    cors_origins: list[str] = []
    public_url: str | None = None

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'audotics.db').resolve()}"

    @property
    def uses_redis(self) -> bool:
        return bool(self.redis_url)

    @property
    def runs_embedded_worker(self) -> bool:
        return (not self.redis_url) if self.embedded_worker is None else self.embedded_worker

    @property
    def uses_s3(self) -> bool:
        return bool(self.s3_endpoint_url or self.s3_bucket)

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"


def get_settings() -> Settings:
    return Settings()
