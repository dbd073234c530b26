"""Document → FHIR R4 Bundle (a JSON-ready dict); registered as exporter ``fhir.v1``.

Every resource gets a deterministic id, ``uuid5(namespace, "<document id>/<role>")``, so the same
input gives the same bundle; entries have ``urn:uuid:<id>`` fullUrls and refer to each other by
them (in ``collection`` and ``transaction`` bundles alike). In a ``transaction`` bundle each
entry is a ``POST`` of its resource type, except a Patient given with an id in the input, which
is a ``PUT Patient/<id>`` so that loading twice does not duplicate the patient. A Patient known
only by id (``{"resourceType": "Patient", "id": ...}``, as read from a DocumentReference's
subject) gets no entry: resources refer to ``Patient/<id>`` directly.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import uuid
from typing import Any

from clinex.core.errors import ConfigError
from clinex.core.types import Document, Entity
from clinex.fhir import resources
from clinex.fhir.extensions import NOTE_ID_SYSTEM, TAG_SYSTEM, evidence_extensions
from clinex.fhir.oncology import tumor_resources

BUNDLE_TYPES = ("collection", "transaction")
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://clinex.dev/fhir")


def document_to_bundle(doc: Document, *, bundle_type: str = "collection") -> dict[str, Any]:
    """A FHIR R4 Bundle holding the note, the patient and one resource (or more) per entity."""
    if bundle_type not in BUNDLE_TYPES:
        raise ConfigError(
            f"unknown bundle type {bundle_type!r}", hint=f"choose one of: {', '.join(BUNDLE_TYPES)}"
        )
    builder = _Builder(doc)
    entries = builder.build()
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": _uuid(doc.id, "bundle"),
        "type": bundle_type,
        "entry": [],
    }
    for full_url, resource in entries:
        entry: dict[str, Any] = {"fullUrl": full_url, "resource": resource}
        if bundle_type == "transaction":
            entry["request"] = _request(resource, given_patient_id=builder.given_patient_id)
        bundle["entry"].append(entry)
    return bundle


def _uuid(doc_id: str, role: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{doc_id}/{role}"))


def _request(resource: dict[str, Any], *, given_patient_id: str | None) -> dict[str, str]:
    kind = resource["resourceType"]
    if kind == "Patient" and given_patient_id is not None:
        return {"method": "PUT", "url": f"Patient/{given_patient_id}"}
    return {"method": "POST", "url": kind}


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.entries: list[tuple[str, dict[str, Any]]] = []
        self.given_patient_id: str | None = None

    def build(self) -> list[tuple[str, dict[str, Any]]]:
        patient = self.doc.patient
        if patient is not None and _reference_only(patient):
            # Only an id (from a DocumentReference's subject): refer to the patient where it lives;
            # an entry would overwrite it with an empty Patient when loaded.
            patient_url = f"Patient/{patient['id']}"
        else:
            patient_url = self._add("patient", self._patient())
        note_url = self._add("note", self._document_reference(patient_url))
        refs = resources.Refs(patient=patient_url, note=note_url)
        for index, entity in enumerate(self.doc.entities):
            for full_url, resource in self._entity_resources(index, entity, refs):
                resource["id"] = full_url.removeprefix("urn:uuid:")
                resource["extension"] = evidence_extensions(entity, note_url, resource["resourceType"])
                self.entries.append((full_url, _ordered(resource)))
        return self.entries

    def _add(self, role: str, resource: dict[str, Any]) -> str:
        resource_id = _uuid(self.doc.id, role)
        resource.setdefault("id", resource_id)
        full_url = f"urn:uuid:{resource_id}"
        self.entries.append((full_url, resource))
        return full_url

    def _patient(self) -> dict[str, Any]:
        if self.doc.patient is None:
            return {
                "resourceType": "Patient",
                "meta": {"tag": [{"system": TAG_SYSTEM, "code": "placeholder", "display": "placeholder"}]},
            }
        patient = copy.deepcopy(self.doc.patient)
        self.given_patient_id = patient.get("id")
        return patient

    def _document_reference(self, patient_url: str) -> dict[str, Any]:
        data = self.doc.text.encode("utf-8")
        return {
            "resourceType": "DocumentReference",
            "identifier": [{"system": NOTE_ID_SYSTEM, "value": self.doc.id}],
            "status": "current",
            "subject": {"reference": patient_url},
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "data": base64.b64encode(data).decode("ascii"),
                        "size": len(data),
                        # Attachment.hash is SHA-1 in R4: an integrity check, not security.
                        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),
                    }
                }
            ],
        }

    def _entity_resources(
        self, index: int, entity: Entity, refs: resources.Refs
    ) -> list[tuple[str, dict[str, Any]]]:
        def url(role: str) -> str:
            return f"urn:uuid:{_uuid(self.doc.id, f'entity-{index}/{role}')}"

        if entity.assertion.family:
            return [(url("family"), resources.family_member_history(entity, refs, self.doc.text))]
        if entity.type == "tumor":
            return tumor_resources(entity, refs, url)
        mapper = {
            "condition": resources.condition,
            "medication": resources.medication_statement,
            "lab": resources.lab_observation,
            "procedure": resources.procedure,
        }[entity.type]
        return [(url(entity.type), mapper(entity, refs))]


def _reference_only(patient: dict[str, Any]) -> bool:
    return isinstance(patient.get("id"), str) and set(patient) <= {"resourceType", "id"}


def _ordered(resource: dict[str, Any]) -> dict[str, Any]:
    """resourceType, id and extension first, as FHIR JSON is usually read."""
    head = {key: resource[key] for key in ("resourceType", "id", "extension") if key in resource}
    return head | {key: value for key, value in resource.items() if key not in head}
