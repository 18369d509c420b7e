"""Password hashing (argon2id), password strength, JWTs and API-key material."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from audotics.problems import Unauthorized, Unprocessable

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "audotics"
API_KEY_PREFIX = "adk_"

_COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "passw0rd",
        "123456789",
        "1234567890",
        "qwertyuiop",
        "iloveyou",
        "letmein123",
        "welcome123",
        "admin12345",
        "abc1234567",
        "trustno1",
        "football",
        "baseball",
        "sunshine",
        "princess",
        "starwars",
        "monkey123",
        "dragon123",
        "qwerty123",
        "1q2w3e4r5t",
        "zaq12wsx",
        "superman",
        "whatever",
    }
)


@lru_cache(maxsize=8)
def password_hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def check_password_strength(password: str, *, min_length: int, avoid: tuple[str, ...]) -> None:
    """Reject passwords that are short, common, repetitive or contain the user's own names."""
    problems = []
    if len(password) < min_length:
        problems.append(f"at least {min_length} characters")
    lowered = password.lower()
    if lowered in _COMMON_PASSWORDS or lowered.rstrip("0123456789!") in _COMMON_PASSWORDS:
        problems.append("not a commonly used password")
    if len(set(password)) < 5:
        problems.append("at least 5 different characters")
    classes = sum(
        bool(re.search(pattern, password))
        for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    if classes < 2 and len(password) < 16:
        problems.append("a mix of letters, digits or symbols (or 16+ characters)")
    for word in avoid:
        if word and len(word) >= 3 and word.lower() in lowered:
            problems.append("not containing your username or email")
            break
    if problems:
        raise Unprocessable(
            "Password too weak: needs " + "; ".join(problems) + ".",
            title="Weak password",
            errors=[{"field": "password", "message": p} for p in problems],
        )


def hash_password(hasher: PasswordHasher, password: str) -> str:
    return hasher.hash(password)


def verify_password(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# A real hash to verify against when the user does not exist, so a failed
# sign-in takes the same time whether or not the account exists.
_DUMMY_PASSWORD = "not-a-real-password-" + secrets.token_hex(8)


def dummy_hash(hasher: PasswordHasher) -> str:
    return _dummy_hash_cached(hasher)


@lru_cache(maxsize=8)
def _dummy_hash_cached(hasher: PasswordHasher) -> str:
    return hasher.hash(_DUMMY_PASSWORD)


# --- JWT --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    token_type: str
    jti: uuid.UUID
    role: str | None
    version: int | None
    family_id: uuid.UUID | None
    expires_at: datetime


def encode_token(
    secret: str,
    *,
    user_id: uuid.UUID,
    token_type: str,
    ttl_s: int,
    jti: uuid.UUID | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[str, uuid.UUID, datetime]:
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl_s)
    token_id = jti or uuid.uuid4()
    claims: dict[str, Any] = {
        "iss": JWT_ISSUER,
        "sub": str(user_id),
        "typ": token_type,
        "jti": str(token_id),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    claims.update(extra or {})
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM), token_id, expires


def decode_token(secret: str, token: str, expected_type: str) -> TokenClaims:
    """Verify signature, expiry, issuer and type; only HS256 is accepted (never ``none``).

    A token that verified once is remembered (bounded, keyed by the secret too): its
    signature and claims cannot change, so a repeat only has its expiry checked again,
    the one check that depends on the time. Revocation is the caller's check (the
    token version against the user row), made on every request as before.
    """
    claims = _verified_claims(secret, token, expected_type)
    # PyJWT's own test (leeway 0): expired once int(exp) <= now.
    if int(claims.expires_at.timestamp()) <= time.time():
        raise Unauthorized("Token has expired.", title="Token expired")
    return claims


@lru_cache(maxsize=4096)
def _verified_claims(secret: str, token: str, expected_type: str) -> TokenClaims:
    """The full verification (exceptions are not cached: a bad token is checked each time)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "typ", "jti", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Token has expired.", title="Token expired") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"Invalid token: {exc}.", title="Invalid token") from None
    if claims.get("typ") != expected_type:
        raise Unauthorized(f"Expected a {expected_type} token.", title="Invalid token")
    try:
        return TokenClaims(
            user_id=uuid.UUID(claims["sub"]),
            token_type=claims["typ"],
            jti=uuid.UUID(claims["jti"]),
            role=claims.get("role"),
            version=claims.get("ver"),
            family_id=uuid.UUID(claims["fam"]) if claims.get("fam") else None,
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (ValueError, TypeError):
        raise Unauthorized("Malformed token claims.", title="Invalid token") from None


# --- API keys ---------------------------------------------------------------------------


def new_api_key() -> tuple[str, str, str]:
    """Returns (full key, lookup prefix, sha256 hex of the key)."""
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_api_key(key)


def hash_api_key(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough (no brute-force risk).
    return hashlib.sha256(key.encode()).hexdigest()


def parse_api_key(key: str) -> str | None:
    """The lookup prefix of a well-formed key, or None."""
    match = re.fullmatch(rf"{API_KEY_PREFIX}([0-9a-f]{{12}})_[A-Za-z0-9_-]{{20,}}", key)
    return match.group(1) if match else None


def api_key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), stored_hash)
