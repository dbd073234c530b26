"""API keys and roles: who may call the service, and what they may do.

A caller sends ``Authorization: Bearer KEY``. The key is looked up in the store
(``request.app.state.store.key_for(token)``, which compares hashes: the store never holds a
token), and the route's dependency, ``Depends(require("reviewer"))``, answers with the caller's
:class:`Principal` or refuses:

- no header, a header that is not ``Bearer <one token>``, or an unknown or revoked key →
  :class:`~clinex.core.errors.AuthenticationError` (401);
- a key whose role ranks below the route's → :class:`~clinex.core.errors.PermissionDeniedError`
  (403).

Roles rank in :data:`ROLES` order: an admin may do everything a reviewer may. A message never
repeats the key (nor any part of it), so a key pasted into the wrong place does not end up in
a log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clinex.core.errors import AuthenticationError, PermissionDeniedError

#: The roles, lowest first; each may do everything the ones before it may.
ROLES: tuple[str, ...] = ("reviewer", "admin")

_KEY_HINT = "send 'Authorization: Bearer <key>'; an admin creates keys with: clinex keys create --name N --role reviewer"

# Declared for the OpenAPI schema only (the docs' "Authorize" button); the header is parsed
# below, so that a missing and a malformed header get their own message.
_BEARER = HTTPBearer(auto_error=False, description="An API key from `clinex keys create`.")


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller a request's key belongs to: the key's name and its role."""

    name: str
    role: str

    def may(self, role: str) -> bool:
        """Whether this caller may do what ``role`` may (an admin may do a reviewer's work)."""
        # A role this version does not know (a newer store's) may do nothing, rather than fail.
        return self.role in ROLES and _rank(self.role) >= _rank(role)


class KeyRecord(Protocol):
    """What the store answers for a live key (clinex.store's ``ApiKey``)."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...


class KeyLookup(Protocol):
    """The part of the store authentication needs."""

    def key_for(self, token: str) -> KeyRecord | None: ...


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; AuthenticationError if the
    header is absent or not of that form (the message never holds the header's value)."""
    if authorization is None or not authorization.strip():
        raise AuthenticationError("this request carries no API key", hint=_KEY_HINT)
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise AuthenticationError(
            "the Authorization header is not of the form 'Bearer <key>'", hint=_KEY_HINT
        )
    return parts[1]


def authenticate(keys: KeyLookup, authorization: str | None) -> Principal:
    """The caller of an ``Authorization`` header's key, or AuthenticationError."""
    record = keys.key_for(bearer_token(authorization))
    if record is None:
        raise AuthenticationError(
            "the API key is unknown or has been revoked",
            hint="ask an admin for a new key (clinex keys create)",
        )
    return Principal(name=record.name, role=record.role)


def require(role: str) -> Callable[..., Principal]:
    """A FastAPI dependency admitting callers whose key has ``role`` or a higher one:
    ``Depends(require("admin"))``. It answers the caller's :class:`Principal`.

    Raises:
        ValueError: ``role`` is not one of :data:`ROLES` (a mistake in the route, at import).
    """
    _rank(role)

    # A plain def: FastAPI runs it in its thread pool, so the store's lookup never blocks the
    # event loop.
    def dependency(
        request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)]
    ) -> Principal:
        principal = authenticate(request.app.state.store, request.headers.get("authorization"))
        if not principal.may(role):
            raise PermissionDeniedError(
                f"key {principal.name!r} has the role {principal.role!r}; this needs {role!r}",
                hint=f"use a key with the role {role!r} (roles, lowest first: {', '.join(ROLES)})",
            )
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


def _rank(role: str) -> int:
    try:
        return ROLES.index(role)
    except ValueError:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}") from None
