"""`clinex keys` and `clinex audit`, run as typer apps on real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from clinex.cli import audit, keys
from clinex.store import NewNote, open_store

cli = typer.Typer()
cli.add_typer(keys.app, name="keys")
cli.add_typer(audit.app, name="audit")


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env)


def last_line(output: str) -> str:
    return [line for line in output.splitlines() if line.strip()][-1]


def test_keys_create_list_and_revoke(store_url: str) -> None:
    created = invoke("keys", "create", "--name", "alice", "--role", "reviewer", "--db", store_url)
    assert created.exit_code == 0, created.output
    token = last_line(created.stdout)
    assert token.startswith("clx_") and "shown this once" in created.stderr
    store = open_store(store_url)
    try:
        key = store.key_for(token)
        assert key is not None and (key.name, key.role) == ("alice", "reviewer")
    finally:
        store.close()

    listed = invoke("keys", "list", "--db", store_url)
    assert listed.exit_code == 0 and "alice" in listed.stdout and "reviewer" in listed.stdout
    assert token not in listed.output

    revoked = invoke("keys", "revoke", "alice", "--db", store_url)
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    again = invoke("keys", "revoke", "alice", "--db", store_url)
    assert again.exit_code == 2 and "no live key named 'alice'" in again.stderr
    assert "no live keys" in invoke("keys", "list", "--db", store_url).stderr


def test_keys_create_refuses_an_unknown_role_in_one_line(tmp_path: Path) -> None:
    result = invoke("keys", "create", "--name", "x", "--role", "owner", "--db", str(tmp_path / "k.db"))
    assert result.exit_code == 2 and "unknown role 'owner'" in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_the_store_defaults_to_clinex_db_env_then_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLINEX_DB", raising=False)
    assert invoke("keys", "create", "--name", "here", "--role", "admin").exit_code == 0
    assert (tmp_path / "clinex.db").is_file()
    elsewhere = tmp_path / "elsewhere.db"
    result = invoke("keys", "create", "--name", "there", "--role", "admin", env={"CLINEX_DB": str(elsewhere)})
    assert result.exit_code == 0 and elsewhere.is_file()
    assert "there" not in invoke("keys", "list").stdout
    assert "there" in invoke("keys", "list", env={"CLINEX_DB": str(elsewhere)}).stdout


def test_audit_verify_exits_1_naming_the_first_row_changed(store_url: str) -> None:
    store = open_store(store_url)
    try:
        store.submit([NewNote(id=f"n{i}", text="x") for i in range(3)], options={}, actor="dr-a")
    finally:
        store.close()
    intact = invoke("audit", "verify", "--db", store_url)
    assert intact.exit_code == 0 and "intact: 3 rows" in intact.stdout

    raw = store_url if "://" in store_url else f"sqlite:///{store_url}"
    engine = create_engine(raw.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit SET document = 'other' WHERE seq = 2"))
    finally:
        engine.dispose()
    broken = invoke("audit", "verify", "--db", store_url)
    assert broken.exit_code == 1 and "broken at seq 2" in broken.stderr


def test_audit_verify_of_a_missing_store_is_an_error_not_an_empty_chain(tmp_path: Path) -> None:
    result = invoke("audit", "verify", "--db", str(tmp_path / "absent.db"))
    assert result.exit_code == 2 and "no review store" in result.stderr
    assert not (tmp_path / "absent.db").exists()
