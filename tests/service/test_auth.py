"""API keys and roles (clinex.service.auth) in a small FastAPI app of the test's own, with keys
in a real SQLite store, driven in-process through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from clinex.core.errors import AuthenticationError, ClinexError, PermissionDeniedError
from clinex.service.auth import ROLES, Principal, bearer_token, require
from clinex.store import Store, open_store
from clinex.store import keys as store_keys

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(str(tmp_path / "review.sqlite")) as opened:
        yield opened


@pytest.fixture
def tokens(store: Store) -> dict[str, str]:
    made = {
        name: store.create_key(name=name, role=role)
        for name, role in [("ann", "reviewer"), ("root", "admin")]
    }
    made["gone"] = store.create_key(name="gone", role="admin")
    assert store.revoke_key("gone")
    return made


def build_app(store: Store) -> FastAPI:
    app = FastAPI()
    app.state.store = store
    status: dict[type[ClinexError], int] = {AuthenticationError: 401, PermissionDeniedError: 403}

    @app.exception_handler(ClinexError)
    async def refuse(_: Request, exc: ClinexError) -> JSONResponse:
        body = {"error": {"code": exc.code, "message": exc.message, "hint": exc.hint}}
        return JSONResponse(status_code=status.get(type(exc), 500), content=body)

    @app.get("/read")
    def read(who: Annotated[Principal, Depends(require("reviewer"))]) -> dict[str, Any]:
        return {"name": who.name, "role": who.role}

    @app.get("/admin")
    def admin(who: Annotated[Principal, Depends(require("admin"))]) -> dict[str, Any]:
        return {"name": who.name, "role": who.role}

    return app


@pytest.fixture
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://clinex.test") as opened:
        yield opened


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_reviewer_key_reads_and_is_refused_admin_work(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    response = await client.get("/read", headers=bearer(tokens["ann"]))
    assert response.status_code == 200
    assert response.json() == {"name": "ann", "role": "reviewer"}

    refused = await client.get("/admin", headers=bearer(tokens["ann"]))
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == PermissionDeniedError.code
    assert "'ann'" in error["message"] and "'reviewer'" in error["message"] and "'admin'" in error["message"]
    assert error["hint"]
    assert tokens["ann"] not in refused.text


async def test_an_admin_key_may_do_what_a_reviewer_may(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    for path in ("/read", "/admin"):
        response = await client.get(path, headers=bearer(tokens["root"]))
        assert response.status_code == 200
        assert response.json() == {"name": "root", "role": "admin"}


async def test_the_scheme_is_case_insensitive(client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    response = await client.get("/read", headers={"Authorization": f"bearer  {tokens['ann']}"})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/read", "/admin"])
async def test_no_key_is_401(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == AuthenticationError.code
    assert "no API key" in error["message"] and "Bearer" in error["hint"]


@pytest.mark.parametrize(
    "header",
    ["Basic {token}", "{token}", "Bearer", "Bearer {token} {token}", "Token {token}", "   "],
)
async def test_a_malformed_header_is_401_and_never_echoed(
    client: httpx.AsyncClient, tokens: dict[str, str], header: str
) -> None:
    value = header.format(token=tokens["root"])
    response = await client.get("/read", headers={"Authorization": value})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == AuthenticationError.code
    assert tokens["root"] not in response.text
    assert tokens["root"][4:12] not in response.text  # not even a part of it


async def test_an_unknown_or_revoked_key_is_401_and_never_echoed(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    unknown = store_keys.new_token()
    for token in (unknown, tokens["gone"], tokens["ann"] + "x", "not-a-clinex-key"):
        response = await client.get("/read", headers=bearer(token))
        assert response.status_code == 401, token
        error = response.json()["error"]
        assert error["message"] == "the API key is unknown or has been revoked"
        assert token not in response.text


async def test_a_role_the_service_does_not_know_may_do_nothing(store: Store) -> None:
    assert not Principal("x", "superuser").may("reviewer")
    assert Principal("x", "admin").may("reviewer") and not Principal("x", "reviewer").may("admin")


def test_a_route_asking_for_an_unknown_role_fails_at_once() -> None:
    with pytest.raises(ValueError, match="'owner'"):
        require("owner")


def test_the_roles_are_the_stores() -> None:
    assert ROLES == store_keys.ROLES


def test_bearer_token_takes_the_one_token() -> None:
    assert bearer_token("Bearer clx_abc") == "clx_abc"
    with pytest.raises(AuthenticationError):
        bearer_token(None)


def test_the_openapi_document_declares_the_bearer_scheme(store: Store) -> None:
    schema = build_app(store).openapi()
    schemes = schema["components"]["securitySchemes"]
    assert [scheme["scheme"] for scheme in schemes.values()] == ["bearer"]
    assert schema["paths"]["/admin"]["get"]["security"] == [{name: []} for name in schemes]
