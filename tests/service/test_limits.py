"""The body limit and the extraction slots (clinex.service.limits): in-process through httpx's
ASGI transport, and against a real uvicorn server on 127.0.0.1 with raw sockets, so that what
the server had received when it answered is under the test's control."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request

from clinex.core.errors import BodyTooLargeError, TooBusyError
from clinex.service.limits import DEFAULT_MAX_BODY_BYTES, BodyLimit, ExtractionSlots
from local_ports import free_port

MB = 1_000_000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Counting:
    """A FastAPI app whose one route reads the whole body; ``calls`` counts how often it ran."""

    def __init__(self) -> None:
        self.calls = 0
        self.app = FastAPI()

        @self.app.post("/notes")
        async def notes(request: Request) -> dict[str, Any]:
            self.calls += 1
            body = await request.body()
            return {"bytes": len(body), "head": body[:8].decode()}

        @self.app.get("/health")
        def health() -> dict[str, str]:
            return {"status": "ok"}


def assert_413(body: dict[str, Any], limit: int) -> None:
    error = body["error"]
    assert set(error) == {"code", "message", "hint"}
    assert error["code"] == BodyTooLargeError.code
    assert f"limit of {limit} bytes" in error["message"]
    assert error["hint"]


# -- in-process -------------------------------------------------------------------------------
@pytest.fixture
async def limited() -> AsyncIterator[tuple[Counting, httpx.AsyncClient]]:
    inner = Counting()
    transport = httpx.ASGITransport(app=BodyLimit(inner.app, max_bytes=1000))
    async with httpx.AsyncClient(transport=transport, base_url="http://clinex.test") as client:
        yield inner, client


class Chunks:
    """A request body sent chunked (no Content-Length); ``sent`` counts the chunks pulled."""

    def __init__(self, count: int, size: int) -> None:
        self.count, self.size, self.sent = count, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for number in range(self.count):
            self.sent += 1
            yield bytes([ord("a") + number % 26]) * self.size


@pytest.mark.anyio
async def test_a_declared_length_above_the_limit_is_413_unread(
    limited: tuple[Counting, httpx.AsyncClient],
) -> None:
    inner, client = limited
    response = await client.post("/notes", content=b"x" * 1001)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert_413(response.json(), 1000)
    assert "(1001 bytes)" in response.json()["error"]["message"]
    assert inner.calls == 0


@pytest.mark.anyio
async def test_a_body_at_the_limit_passes_whole(limited: tuple[Counting, httpx.AsyncClient]) -> None:
    inner, client = limited
    response = await client.post("/notes", content=b"y" * 1000)
    assert response.status_code == 200 and response.json()["bytes"] == 1000
    assert (await client.get("/health")).status_code == 200
    assert inner.calls == 1


@pytest.mark.anyio
async def test_a_chunked_body_above_the_limit_is_413_once_it_passes_the_limit(
    limited: tuple[Counting, httpx.AsyncClient],
) -> None:
    inner, client = limited
    chunks = Chunks(count=60, size=100)
    response = await client.post("/notes", content=chunks)
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413
    assert_413(response.json(), 1000)
    assert inner.calls == 0
    assert chunks.sent == 11  # read up to the first byte past the limit, and no further


@pytest.mark.anyio
async def test_a_chunked_body_within_the_limit_reaches_the_app_whole(
    limited: tuple[Counting, httpx.AsyncClient],
) -> None:
    inner, client = limited
    response = await client.post("/notes", content=Chunks(count=10, size=100))
    assert response.status_code == 200
    assert response.json() == {"bytes": 1000, "head": "a" * 8}
    assert inner.calls == 1


@pytest.mark.anyio
async def test_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def never() -> Any:
        raise AssertionError("the middleware must not read a non-HTTP scope")

    await BodyLimit(app, max_bytes=0)({"type": "lifespan"}, never, None)  # type: ignore[arg-type]
    assert seen == ["lifespan"]


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="-1"):
        BodyLimit(FastAPI(), max_bytes=-1)


# -- a real server ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Counting, int]]:
    inner = Counting()
    port = free_port()
    config = uvicorn.Config(
        BodyLimit(inner.app, max_bytes=DEFAULT_MAX_BODY_BYTES),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield inner, port
    running.should_exit = True
    thread.join(30)


def read_response(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of the one response on ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
        try:
            piece = sock.recv(65536)
        except ConnectionResetError:
            break  # the server closed with our unread body in its buffer; what it sent is read
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def send_until_answered(sock: socket.socket, payload: bytes) -> int:
    """Send ``payload`` in pieces until the server answers (or it is all sent); bytes sent."""
    sock.setblocking(False)
    sent = 0
    try:
        while sent < len(payload):
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable:
                break
            if writable:
                try:
                    sent += sock.send(payload[sent : sent + 65536])
                except (BlockingIOError, InterruptedError):
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    break
        select.select([sock], [], [], 30)  # the answer, now or after all was sent
    finally:
        sock.setblocking(True)
    return sent


def test_a_real_server_refuses_6_mb_with_content_length_before_the_body_arrives(
    server: tuple[Counting, int],
) -> None:
    inner, port = server
    size = 6 * MB
    head = (
        f"POST /notes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # The head and the first 64 kB only: the rest of the 6 MB is never sent, so the answer
        # cannot have waited for it.
        sock.sendall(head + b"x" * 65536)
        status, body = read_response(sock)
    assert status == 413
    assert_413(body, DEFAULT_MAX_BODY_BYTES)
    assert f"({size} bytes)" in body["error"]["message"]
    assert inner.calls == 0


def test_a_real_server_refuses_a_chunked_6_mb_upload_before_its_end(server: tuple[Counting, int]) -> None:
    inner, port = server
    piece = 64 * 1024
    chunk = f"{piece:x}\r\n".encode() + b"z" * piece + b"\r\n"
    chunks = 6 * MB // piece + 1  # just over 6 MB
    # Everything but the last chunk and the terminator: the upload is never complete.
    payload = chunk * (chunks - 1)
    head = b"POST /notes HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        sent = send_until_answered(sock, payload)
        status, body = read_response(sock)
    assert status == 413
    assert_413(body, DEFAULT_MAX_BODY_BYTES)
    assert sent > DEFAULT_MAX_BODY_BYTES  # it counted past the limit before answering
    assert inner.calls == 0


def test_a_real_server_still_serves_bodies_within_the_limit(server: tuple[Counting, int]) -> None:
    inner, port = server
    calls = inner.calls
    url = f"http://127.0.0.1:{port}/notes"
    whole = httpx.post(url, content=b"w" * (4 * MB), timeout=60)
    assert whole.status_code == 200 and whole.json()["bytes"] == 4 * MB
    streamed = httpx.post(url, content=(b"v" * MB for _ in range(4)), timeout=60)
    assert streamed.status_code == 200 and streamed.json()["bytes"] == 4 * MB
    assert inner.calls == calls + 2


# -- extraction slots -------------------------------------------------------------------------
def test_slots_refuse_beyond_their_capacity_and_free_on_exit() -> None:
    slots = ExtractionSlots(2, retry_after=5)
    with slots.acquire(), slots.acquire():
        assert slots.in_use == 2
        with pytest.raises(TooBusyError) as busy, slots.acquire():
            pass
        assert busy.value.retry_after == 5 and busy.value.code == TooBusyError.code
        assert "2 extraction slots" in busy.value.message and "5 s" in (busy.value.hint or "")
        assert slots.in_use == 2  # a refusal holds nothing
    assert slots.in_use == 0
    with pytest.raises(RuntimeError), slots.acquire():
        raise RuntimeError("an extraction failed")
    assert slots.in_use == 0  # released on an error too


def test_slots_never_let_more_than_capacity_run_at_once() -> None:
    slots = ExtractionSlots(3, retry_after=1)
    lock = threading.Lock()
    running = peak = refused = done = 0
    start = threading.Barrier(12)

    def client() -> None:
        nonlocal running, peak, refused, done
        start.wait(30)
        for _ in range(200):
            try:
                with slots.acquire():
                    with lock:
                        running += 1
                        peak = max(peak, running)
                    time.sleep(0.0005)
                    with lock:
                        running -= 1
                        done += 1
            except TooBusyError:
                with lock:
                    refused += 1

    threads = [threading.Thread(target=client) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert peak == 3  # reached and never passed
    assert done + refused == 12 * 200 and refused > 0
    assert slots.in_use == 0


@pytest.mark.parametrize(("capacity", "retry_after"), [(0, 1), (1, -1)])
def test_bad_slot_settings_are_refused(capacity: int, retry_after: int) -> None:
    with pytest.raises(ValueError):
        ExtractionSlots(capacity, retry_after)
