"""`clinex serve`: run the HTTP service."""

from __future__ import annotations

from typing import Annotated

import typer

from clinex.cli._errors import user_errors
from clinex.core.errors import ConfigError


def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind; keep it local unless a proxy guards it.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    extractor: Annotated[
        str | None,
        typer.Option(
            "--extractor",
            "-e",
            help="Extractor for requests that name none, loaded at startup (/health says 'loading' "
            "until it is ready). Default: encoder.",
        ),
    ] = None,
) -> None:
    """Serve extraction over HTTP (POST /extract, GET /health)."""
    with user_errors():
        try:
            import uvicorn

            from clinex.service.app import create_app
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"clinex serve needs the package {exc.name!r}, which is not installed",
                hint="pip install 'clinex[service]'",
            ) from None
        app = create_app(extractor=extractor)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
