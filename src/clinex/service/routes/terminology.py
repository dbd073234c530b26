"""The code picker's type-ahead: codes by prefix or by words, with their displays."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from clinex.review import codes
from clinex.service.auth import Principal, require

router = APIRouter(tags=["terminology"])


@router.get("/terminology/search")
def search(
    _: Annotated[Principal, Depends(require("reviewer"))],
    q: Annotated[str, Query(min_length=1, max_length=200)],
    system: str = "icd10cm",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    return {"results": codes.search(system, q, limit=limit)}
