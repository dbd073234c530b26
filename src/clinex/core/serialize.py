"""JSON (JSONL line) form of the core types, as fixed in DESIGN.md."""

from __future__ import annotations

from typing import Any

from clinex.core.errors import InputError
from clinex.core.types import ASSERTION_FLAGS, Assertion, Code, Document, Entity


def entity_to_dict(entity: Entity) -> dict[str, Any]:
    code = entity.code
    return {
        "type": entity.type,
        "text": entity.text,
        "start": entity.start,
        "end": entity.end,
        "alignment": entity.alignment,
        "assertion": {name: getattr(entity.assertion, name) for name in ASSERTION_FLAGS},
        "code": None if code is None else {"system": code.system, "code": code.code, "display": code.display},
        "attributes": dict(entity.attributes),
        "confidence": round(entity.confidence, 4),
    }


def entity_from_dict(data: dict[str, Any]) -> Entity:
    """Parse one entity; raises InputError naming the bad field."""
    try:
        assertion = data.get("assertion") or {}
        unknown = set(assertion) - set(ASSERTION_FLAGS)
        if unknown:
            raise ValueError(f"unknown assertion flag(s) {sorted(unknown)}")
        code = data.get("code")
        return Entity(
            type=data["type"],
            text=data["text"],
            start=data.get("start"),
            end=data.get("end"),
            alignment=data.get("alignment", "exact" if data.get("start") is not None else "none"),
            assertion=Assertion(**{k: bool(v) for k, v in assertion.items()}),
            code=None
            if not code
            else Code(system=code["system"], code=str(code["code"]), display=code.get("display")),
            attributes={str(k): str(v) for k, v in (data.get("attributes") or {}).items() if v is not None},
            confidence=float(data.get("confidence", 1.0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        field_name = exc.args[0] if isinstance(exc, KeyError) else exc
        raise InputError(
            f"malformed entity: {field_name}",
            hint="each entity needs at least 'type' and 'text' (see DESIGN.md, JSONL output)",
        ) from None


def document_to_record(doc: Document) -> dict[str, Any]:
    """``{"id", "entities", "meta"}``: ``meta`` is ``Document.meta`` — what produced the record
    (extractor, model, assertion, terminologies, calibration, clinex version) and the note's
    plausibility findings (``checks``) — left out where it is empty."""
    record: dict[str, Any] = {"id": doc.id, "entities": [entity_to_dict(e) for e in doc.entities]}
    if doc.meta:
        record["meta"] = doc.meta
    return record


def document_from_record(record: dict[str, Any], *, text: str = "") -> Document:
    if not isinstance(record, dict) or "id" not in record:
        raise InputError("record has no 'id'", hint='each line must be {"id": ..., "entities": [...]}')
    entities = record.get("entities") or []
    if not isinstance(entities, list):
        raise InputError(f"record {record['id']!r}: 'entities' is not a list")
    meta = record.get("meta")
    return Document(
        id=str(record["id"]),
        text=record.get("text", text),
        entities=[entity_from_dict(e) for e in entities],
        meta=dict(meta) if isinstance(meta, dict) else {},
    )
