"""Notes from FHIR input: a DocumentReference, or a Bundle holding DocumentReferences (and
maybe the Patients they refer to).

The note is decoded by :func:`clinex.fhir.attachments.attachment_text` (declared charset, UTF-8
by default), and a note's subject is resolved within the Bundle by :mod:`clinex.fhir.io`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clinex.core.errors import FHIRError
from clinex.fhir.attachments import attachment_text
from clinex.fhir.io import BundleEntry, References, bundle_entries
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
        return [
            _note(resource, where="DocumentReference", source=source, patients=_Patients([], source=source))
        ]
    if kind != "Bundle":
        shown = f"resourceType {str(kind)[:40]!r}" if kind else "no resourceType"
        raise FHIRError(
            f"{source}: expected a DocumentReference or a Bundle, found {shown}",
            hint="give FHIR JSON with the note as DocumentReference.content.attachment.data",
        )
    entries = bundle_entries(resource, where=source)
    patients = _Patients(entries, source=source)
    notes = [
        _note(entry.resource, where=f"entry[{entry.index}]", source=source, patients=patients)
        for entry in entries
        if entry.resource is not None and entry.resource["resourceType"] == "DocumentReference"
    ]
    if not notes:
        raise FHIRError(
            f"{source}: the Bundle holds no DocumentReference",
            hint="put each note in a DocumentReference entry with inline attachment data",
        )
    return notes


class _Patients:
    """The Patients of a Bundle a note's subject may name, each checked against FHIR R4 once."""

    def __init__(self, entries: list[BundleEntry], *, source: str) -> None:
        self.references = References(entries)
        self.source = source
        self._where = {id(e.resource): f"entry[{e.index}] (Patient)" for e in entries}
        self._checked: dict[int, dict[str, Any] | FHIRError] = {}

    def get(self, reference: str) -> dict[str, Any] | FHIRError | None:
        patient = self.references.resolve(reference)
        if patient is None or patient["resourceType"] != "Patient":
            return None
        key = id(patient)
        if key not in self._checked:
            problems = resource_problems(patient, where=self._where.get(key, "Patient"))
            self._checked[key] = patient
            if problems:
                self._checked[key] = FHIRError(
                    f"{self.source}: invalid Patient: {problems[0]}", hint="check the Patient against FHIR R4"
                )
        return self._checked[key]


def _note(resource: dict[str, Any], *, where: str, source: str, patients: _Patients) -> FhirNote | FHIRError:
    label = where if where == "DocumentReference" else f"{where} (DocumentReference)"
    problems = resource_problems(resource, where=label)
    if problems:
        return FHIRError(f"{source}: invalid FHIR: {problems[0]}", hint="check it against FHIR R4")
    try:
        text = attachment_text(resource, where=f"{source} {where}")
    except FHIRError as exc:
        return exc
    if text is None:
        return FHIRError(
            f"{source} {where}: no text/plain attachment with inline data",
            hint="put the note text base64-encoded in DocumentReference.content.attachment.data",
        )
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
    return FhirNote(id=note_id(resource), text=text, where=where, patient=patient)


def note_id(resource: dict[str, Any]) -> str | None:
    """The id a note read from a DocumentReference gets: its id, else its first identifier value."""
    if isinstance(resource.get("id"), str):
        return str(resource["id"])
    for identifier in resource.get("identifier") or []:
        if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
            return str(identifier["value"])
    return None
