"""Short-lived signed stream URLs, for players that cannot send an Authorization header.

An ``<audio src>`` request carries no bearer token, so the URL itself proves who
may play which track until when: an HMAC over (track, user, expiry) keyed by a
key derived from the app secret (never the JWT key itself).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

STREAM_URL_TTL_S = 30 * 60
_PURPOSE = b"audotics/stream-url/v1"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def sign(secret: str, track_id: uuid.UUID, user_id: uuid.UUID, expires: int) -> str:
    message = f"{track_id}:{user_id}:{expires}".encode()
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify(
    secret: str,
    track_id: uuid.UUID,
    user_id: uuid.UUID,
    expires: int,
    signature: str,
    now: float,
) -> bool:
    """Constant-time check of the signature, then of the expiry."""
    expected = sign(secret, track_id, user_id, expires)
    return hmac.compare_digest(expected.encode(), signature.encode()) and now < expires
