"""`clinex serve`: run the review service (jobs API, review UI, export) over HTTP."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from clinex.cli._errors import stderr, user_errors
from clinex.core.errors import ConfigError


def serve(
    db: Annotated[
        str | None,
        typer.Option(
            help="Database: a SQLite file (default clinex.db, or $CLINEX_DB) or a postgresql:// URL."
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to bind; keep it local unless a proxy guards it.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    extractor: Annotated[
        str | None,
        typer.Option(
            "--extractor", "-e", help="Extractor every job runs, loaded once per worker. Default: encoder."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Extraction processes (each loads the model). Default: 1.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML service settings (review policy, limits); flags override it.")
    ] = None,
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="override a setting: --set review.review_below=0.6")
    ] = None,
) -> None:
    """Serve the review service: POST /jobs, GET /documents, decisions, /export, the UI at /ui."""
    import os

    with user_errors():
        try:
            import uvicorn

            from clinex.service.app import create_app
            from clinex.service.settings import load_settings
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"clinex serve needs the package {exc.name!r}, which is not installed",
                hint="pip install 'clinex[service]'",
            ) from None
        settings = load_settings(
            config,
            overrides or (),
            db=db or os.environ.get("CLINEX_DB"),
            extractor=extractor,
            workers=workers,
        )
        app = create_app(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stderr.print(f"clinex review service on http://{host}:{port}/ui (database {_shown(settings.db)})")
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def _shown(url: str) -> str:
    """The database URL without its password."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        credentials, where = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{where}"
    return url
