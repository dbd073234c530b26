"""API key tokens: made from the OS's random source, stored only as their sha256.

A token is ``clx_`` and 32 random bytes (urlsafe base64); the prefix lets secret scanners
and people tell a clinex key at a glance. The store keeps the hash, so a copy of the database
holds no usable key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "clx_"
ROLES: tuple[str, ...] = ("reviewer", "admin")


def new_token() -> str:
    """A fresh token: ``clx_`` + 32 random bytes, urlsafe base64."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The sha256 (hex) of ``token``: what the store keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def matches(token: str, stored_hash: str) -> bool:
    """Whether ``token`` hashes to ``stored_hash``, in time independent of where they differ."""
    return hmac.compare_digest(hash_token(token), stored_hash)
