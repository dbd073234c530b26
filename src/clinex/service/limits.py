"""Limits that keep one caller from holding the service: request body size and concurrent
extractions.

- :class:`BodyLimit`, a pure ASGI middleware, refuses a body above ``max_bytes`` with 413 and
  the service's error shape *before* anything parses it: at once from ``Content-Length`` when
  the request has one, and otherwise (a chunked upload) by counting the chunks as they arrive,
  so no more than the limit is ever held. The application never sees a refused request.
- :class:`ExtractionSlots` bounds the extractions running at once; a request finding every slot
  taken is refused at once with :class:`~clinex.core.errors.TooBusyError` (429 with
  ``Retry-After``) rather than queued behind them.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from clinex.core.errors import BodyTooLargeError, TooBusyError

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The body limit ``clinex serve`` applies unless configured otherwise.
DEFAULT_MAX_BODY_BYTES = 5_000_000


class BodyLimit:
    """ASGI middleware: a request body above ``max_bytes`` gets 413 before the app reads it.

    Add it outermost (``app.add_middleware(BodyLimit, max_bytes=...)`` last), so no other
    middleware reads a body first.

    Raises:
        ValueError: ``max_bytes`` is below 0.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be ≥ 0, got {max_bytes}")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            # The server holds the body to its declared length, so the header is enough: the
            # body is never read when it is too long.
            if declared > self.max_bytes:
                await self._refuse(send, declared)
            else:
                await self.app(scope, receive, send)
            return
        # No length declared (chunked): read up to the limit before the app runs, then hand the
        # app what was read. Up to max_bytes are held, as the app's own parsing would hold them.
        received: deque[Message] = deque()
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break  # the client went away; the app sees the disconnect
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(send, None)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return received.popleft() if received else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, declared: int | None) -> None:
        size = f"({declared} bytes) " if declared is not None else ""
        error = BodyTooLargeError(
            f"the request body {size}is larger than the limit of {self.max_bytes} bytes",
            hint="send less per request (split a batch of notes over several requests), or ask "
            "the operator to raise the service's body limit",
        )
        body = json.dumps(
            {"error": {"code": error.code, "message": error.message, "hint": error.hint}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The rest of the body is never read: the connection cannot carry another request.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # malformed: the server refuses it before it reaches an app
    return None


class ExtractionSlots:
    """At most ``capacity`` extractions at once; beyond them, TooBusyError at once.

    ``with slots.acquire(): ...`` holds a slot for the block. Thread-safe, and it never blocks,
    so it may be used on the event loop as well as in worker threads.

    Raises:
        ValueError: ``capacity`` is below 1 or ``retry_after`` below 0.
    """

    def __init__(self, capacity: int, retry_after: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be ≥ 1, got {capacity}")
        if retry_after < 0:
            raise ValueError(f"retry_after must be ≥ 0, got {retry_after}")
        self.capacity = capacity
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._in_use = 0

    @property
    def in_use(self) -> int:
        """Slots held now."""
        return self._in_use

    @contextmanager
    def acquire(self) -> Iterator[None]:
        """Hold one slot for the block.

        Raises:
            TooBusyError: every slot is taken (``retry_after`` says when to try again).
        """
        with self._lock:
            if self._in_use >= self.capacity:
                raise TooBusyError(
                    f"all {self.capacity} extraction slots are busy",
                    retry_after=self.retry_after,
                    hint=f"retry in {self.retry_after} s (the Retry-After header)",
                )
            self._in_use += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_use -= 1
