"""A real PostgreSQL server for tests (tests/ is on sys.path via conftest): initdb into a
temporary folder, listening on 127.0.0.1 at a free port, stopped and removed afterwards.

initdb refuses to run as root, so where the tests run as root the server runs as the
``postgres`` user (``runuser``). Use :func:`postgres_server` as a context manager from a
session fixture; :func:`missing` says why no server can start here (then skip).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local_ports import free_port

#: Where Debian puts the server binaries; CLINEX_PG_BIN overrides.
PG_BIN = Path(os.environ.get("CLINEX_PG_BIN", "/usr/lib/postgresql/15/bin"))
_USER = "postgres"


def missing() -> str | None:
    """Why a server cannot start here, or None where it can."""
    for binary in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / binary).exists():
            return f"PostgreSQL server binaries not found in {PG_BIN} (set CLINEX_PG_BIN)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root, and runuser (to start PostgreSQL as another user) is absent"
    return None


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server, yield the URL of a fresh database on it, stop it at the end."""
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="clinex-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    as_root = os.geteuid() == 0
    user = _USER if as_root else os.environ.get("USER", "postgres")
    if as_root:
        shutil.chown(root, _USER)
        shutil.chown(sockets, _USER)
        root.chmod(0o700)

    def run(*args: str) -> None:
        command = ["runuser", "-u", _USER, "--", *args] if as_root else list(args)
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    pg_ctl = str(PG_BIN / "pg_ctl")
    run(str(PG_BIN / "initdb"), "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8", "--no-sync")
    options = f"-k {sockets} -h 127.0.0.1 -p {port} -c fsync=off -c max_connections=100"
    run(pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "-t", "60", "start")
    try:
        database = f"clinex_{uuid.uuid4().hex[:8]}"
        run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, database)
        yield f"postgresql://{user}@127.0.0.1:{port}/{database}"
    finally:
        try:
            run(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(root, ignore_errors=True)


def fresh_database(url: str) -> str:
    """A new empty database on the server of ``url`` (one per test keeps tests apart)."""
    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"clinex_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"
