"""Notes from FHIR input: a DocumentReference, or a Bundle holding DocumentReferences (and
maybe the Patients they refer to).

The note is the first ``content.attachment`` with inline ``data`` and a ``text/*`` content type
(or none), decoded with its declared charset (UTF-8 when none is declared). Attachments given
only by ``url`` are not fetched: clinex never reaches out to the network.
"""

from __future__ import annotations

import base64
import binascii
import codecs
from dataclasses import dataclass
from typing import Any

from clinex.core.errors import FHIRError
from clinex.fhir.validate import resource_problems


@dataclass(frozen=True, slots=True)
class FhirNote:
    """A note read from a DocumentReference; ``where`` locates it in the input (e.g. ``entry[2]``);
    ``id`` is the resource id (else its first identifier value), None if it has neither."""

    id: str | None
    text: str
    where: str
    patient: dict[str, Any] | None = None


def notes_from_fhir(resource: Any, *, source: str) -> list[FhirNote | FHIRError]:
    """The notes in one FHIR JSON value, or an error per unusable DocumentReference.

    Raises FHIRError when the value as a whole is not a DocumentReference or a Bundle of them.
    """
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if kind == "DocumentReference":
        return [_note(resource, where="DocumentReference", source=source, patients={})]
    if kind != "Bundle":
        shown = f"resourceType {str(kind)[:40]!r}" if kind else "no resourceType"
        raise FHIRError(
            f"{source}: expected a DocumentReference or a Bundle, found {shown}",
            hint="give FHIR JSON with the note as DocumentReference.content.attachment.data",
        )
    entries = resource.get("entry") or []
    if not isinstance(entries, list):
        raise FHIRError(f"{source}: Bundle.entry is not a list", hint="check the Bundle against FHIR R4")
    patients = _patients(entries, source=source)
    notes: list[FhirNote | FHIRError] = []
    for index, entry in enumerate(entries):
        item = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(item, dict) and item.get("resourceType") == "DocumentReference":
            notes.append(_note(item, where=f"entry[{index}]", source=source, patients=patients))
    if not notes:
        raise FHIRError(
            f"{source}: the Bundle holds no DocumentReference",
            hint="put each note in a DocumentReference entry with inline attachment data",
        )
    return notes


def _patients(entries: list[Any], *, source: str) -> dict[str, dict[str, Any] | FHIRError]:
    """Patients by every reference that may name them: fullUrl and ``Patient/<id>``."""
    found: dict[str, dict[str, Any] | FHIRError] = {}
    for index, entry in enumerate(entries):
        item = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(item, dict) or item.get("resourceType") != "Patient":
            continue
        problems = resource_problems(item, where=f"entry[{index}] (Patient)")
        value: dict[str, Any] | FHIRError = item
        if problems:
            value = FHIRError(
                f"{source}: invalid Patient: {problems[0]}", hint="check the Patient against FHIR R4"
            )
        if isinstance(entry.get("fullUrl"), str):
            found[entry["fullUrl"]] = value
        if isinstance(item.get("id"), str):
            found[f"Patient/{item['id']}"] = value
    return found


def _note(
    resource: dict[str, Any], *, where: str, source: str, patients: dict[str, dict[str, Any] | FHIRError]
) -> FhirNote | FHIRError:
    label = where if where == "DocumentReference" else f"{where} (DocumentReference)"
    problems = resource_problems(resource, where=label)
    if problems:
        return FHIRError(f"{source}: invalid FHIR: {problems[0]}", hint="check it against FHIR R4")
    note_id = _note_id(resource)
    text = _attachment_text(resource, where=f"{source} {where}")
    if isinstance(text, FHIRError):
        return text
    patient: dict[str, Any] | None = None
    reference = (resource.get("subject") or {}).get("reference")
    if isinstance(reference, str):
        known = patients.get(reference)
        if isinstance(known, FHIRError):
            return known
        if known is not None:
            patient = known
        elif reference.startswith("Patient/") and reference.count("/") == 1:
            # The Patient lives on a server: keep its id so the output refers to the same patient.
            patient = {"resourceType": "Patient", "id": reference.removeprefix("Patient/")}
    return FhirNote(id=note_id, text=text, where=where, patient=patient)


def _note_id(resource: dict[str, Any]) -> str | None:
    if isinstance(resource.get("id"), str):
        return str(resource["id"])
    for identifier in resource.get("identifier") or []:
        if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
            return str(identifier["value"])
    return None


def _attachment_text(resource: dict[str, Any], *, where: str) -> str | FHIRError:
    for content in resource.get("content") or []:
        attachment = content.get("attachment") or {}
        media_type, _, parameters = (attachment.get("contentType") or "text/plain").partition(";")
        if not media_type.strip().lower().startswith("text/"):
            continue
        if "data" not in attachment:
            continue
        charset = "utf-8"
        for parameter in parameters.split(";"):
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        try:
            codecs.lookup(charset)
        except LookupError:
            return FHIRError(f"{where}: unknown charset {charset[:40]!r}", hint="declare charset=utf-8")
        try:
            raw = base64.b64decode(attachment["data"], validate=True)
        except (binascii.Error, ValueError):
            return FHIRError(
                f"{where}: attachment data is not valid base64", hint="base64-encode the note text"
            )
        try:
            # utf-8-sig also drops a byte-order mark, which is not part of the note.
            return raw.decode("utf-8-sig" if codecs.lookup(charset).name == "utf-8" else charset)
        except UnicodeDecodeError as exc:
            return FHIRError(
                f"{where}: attachment data is not valid {charset} (byte {exc.start})",
                hint="re-encode the note as UTF-8 and declare charset=utf-8",
            )
    return FHIRError(
        f"{where}: no text/plain attachment with inline data",
        hint="put the note text base64-encoded in DocumentReference.content.attachment.data",
    )
