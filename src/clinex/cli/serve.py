"""`clinex serve`: run the HTTP service."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind; keep it local unless a proxy guards it."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve extraction over HTTP (POST /extract, GET /health)."""
    import uvicorn

    from clinex.service.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info", access_log=False)
