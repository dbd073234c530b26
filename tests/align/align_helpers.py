"""Helpers for the align tests: notes and coded data written to a temporary folder."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any


def write_notes(folder: Path, notes: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for note_id, text in notes.items():
        (folder / f"{note_id}.txt").write_text(text, encoding="utf-8")
    return folder


def synthea_like_bundle(note: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A Bundle as Synthea writes one: a Patient, an Encounter, its note as a DocumentReference
    and the given clinical resources, each referencing the Encounter."""
    data = base64.b64encode(note.encode()).decode()
    entries: list[dict[str, Any]] = [
        {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1"}},
        {
            "fullUrl": "urn:uuid:e1",
            "resource": {
                "resourceType": "Encounter",
                "id": "e1",
                "status": "finished",
                "class": {"code": "AMB"},
                "subject": {"reference": "urn:uuid:p1"},
            },
        },
        {
            "fullUrl": "urn:uuid:d1",
            "resource": {
                "resourceType": "DocumentReference",
                "id": "d1",
                "status": "current",
                "subject": {"reference": "urn:uuid:p1"},
                "context": {"encounter": [{"reference": "urn:uuid:e1"}]},
                "content": [{"attachment": {"contentType": "text/plain", "data": data}}],
            },
        },
    ]
    for index, resource in enumerate(resources):
        resource = {"id": f"r{index}", "subject": {"reference": "urn:uuid:p1"}, **resource}
        resource.setdefault("encounter", {"reference": "urn:uuid:e1"})
        entries.append({"fullUrl": f"urn:uuid:r{index}", "resource": resource})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
