"""The review UI: the review page (``/ui``), the adjudication page (``/ui/agreement``: two
reviewers' disagreements side by side), and their scripts and style (``/ui/static/``)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["ui"], include_in_schema=False)

#: The packaged folder of the page's files.
STATIC = resources.files("clinex.service") / "ui"


@router.get("/ui", response_class=HTMLResponse)
def page() -> HTMLResponse:
    return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))


@router.get("/ui/agreement", response_class=HTMLResponse)
def agreement_page() -> HTMLResponse:
    return HTMLResponse((STATIC / "agreement.html").read_text(encoding="utf-8"))
