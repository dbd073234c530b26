"""One fact and the decisions on it. A decision names the version it was made on
(``If-Match``); a decision on an older version is refused with 409 and the fact as it stands,
so two reviewers never silently overwrite each other (both attempts stay in the audit trail)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from clinex.core.errors import InputError, NotFoundError, StaleVersionError
from clinex.review import Decision, Fact, codes
from clinex.service.auth import Principal, require
from clinex.service.errors import Refused, error_body, unprocessable
from clinex.service.render import decision_json, fact_json
from clinex.service.schemas import DecisionIn
from clinex.service.state import Service, service

router = APIRouter(tags=["facts"])

Reviewer = Annotated[Principal, Depends(require("reviewer"))]
Held = Annotated[Service, Depends(service)]

# An entity tag as sent back: "3", W/"3" or a bare 3.
_VERSION = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


@router.get("/facts/{fact_id}")
def fact(fact_id: str, _: Reviewer, held: Held) -> JSONResponse:
    found = _fact(held, fact_id)
    return JSONResponse(
        content=fact_json(found, held.store.decisions(fact=fact_id)), headers={"ETag": f'"{found.version}"'}
    )


@router.post("/facts/{fact_id}/decisions")
def decide(
    fact_id: str,
    body: DecisionIn,
    who: Reviewer,
    held: Held,
    if_match: Annotated[str | None, Header(description='the version decided on, as the ETag: "3"')] = None,
) -> JSONResponse:
    """Accept, reject or correct the fact; ``changes`` holds the corrected fields."""
    current = _fact(held, fact_id)
    version = _version(if_match)
    changes: dict[str, Any] = body.changes.model_dump(exclude_unset=True) if body.changes else {}
    if body.action == "correct" and not changes:
        raise Refused(422, InputError("a correction changes no field", hint="send the fields in 'changes'"))
    if changes.get("code"):
        codes.check(changes["code"])
    try:
        decision = Decision(
            action=body.action,
            reviewer=who.name,
            index=current.position,
            changes=changes,
            comment=body.comment,
        )
    except ValueError as exc:
        raise Refused(422, InputError(str(exc), hint="accept and reject take no changes")) from None
    try:
        with unprocessable():
            after, record = held.store.decide(fact_id, expected_version=version, decision=decision)
    except StaleVersionError as stale:
        # the fact as it stands, with who decided what since: the reviewer sees why at once
        current = stale.current if isinstance(stale.current, Fact) else _fact(held, fact_id)
        refused = {**error_body(stale), "current": fact_json(current, held.store.decisions(fact=fact_id))}
        return JSONResponse(status_code=409, content=refused, headers={"ETag": f'"{current.version}"'})
    return JSONResponse(
        content={
            "fact": fact_json(after, held.store.decisions(fact=fact_id)),
            "decision": decision_json(record),
        },
        headers={"ETag": f'"{after.version}"'},
    )


def _fact(held: Service, fact_id: str) -> Fact:
    found = held.store.fact(fact_id)
    if found is None:
        raise NotFoundError(f"no fact {fact_id!r}", hint="take fact ids from GET /documents/{id}")
    return found


def _version(if_match: str | None) -> int:
    if if_match is None:
        raise Refused(
            428,
            InputError(
                "a decision needs If-Match: the version of the fact it was made on",
                hint='send the ETag of GET /facts/{id} (or the fact\'s "version") as If-Match: "3"',
            ),
        )
    match = _VERSION.match(if_match)
    if match is None:
        raise Refused(400, InputError("If-Match is not a fact version", hint='send If-Match: "3"'))
    return int(match.group(1))
