"""Document → FHIR R4 Bundle (a JSON-ready dict); registered as exporter ``fhir.v1``.

Every resource gets a deterministic id, ``uuid5(namespace, "<document id>/<role>")``, so the same
input gives the same bundle; entries have ``urn:uuid:<id>`` fullUrls and refer to each other by
them (in ``collection`` and ``transaction`` bundles alike). The Document's ``meta`` becomes a
Provenance of the extracted resources and the Device it names (:mod:`clinex.fhir.provenance`),
the last two entries; the Device's id is ``uuid5(namespace, "device/<meta as JSON>")``, shared by
every note of one run (the note's plausibility findings, ``meta["checks"]``, are on the
Provenance and on the resources they are about, not in the Device). In a ``transaction`` bundle
each entry is a ``POST`` of its resource type, except a Patient given with an id in the input and
the Device, which are ``PUT <Type>/<id>`` so that loading twice (or many notes of one run) does
not duplicate them. A Patient known only by id (``{"resourceType": "Patient", "id": ...}``, as
read from a DocumentReference's subject) gets no entry: resources refer to ``Patient/<id>``
directly.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import uuid
from typing import Any

from clinex.core.errors import ConfigError
from clinex.core.types import Document, Entity
from clinex.fhir import provenance, resources
from clinex.fhir.extensions import NOTE_ID_SYSTEM, TAG_SYSTEM, evidence_extensions, finding_extension
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
            put = builder.puts.get(full_url)
            entry["request"] = (
                {"method": "PUT", "url": put} if put else {"method": "POST", "url": resource["resourceType"]}
            )
        bundle["entry"].append(entry)
    return bundle


def entity_urls(doc: Document) -> list[list[str]]:
    """The fullUrls of each entity's resources in ``document_to_bundle(doc)``, entity by entity
    (one for most, several for a tumour's staging Observations): how a reader of the bundle,
    such as the review, finds a fact's resources without guessing their naming."""
    builder = _Builder(doc)
    # The references shape the resources' content, never their fullUrls.
    refs = resources.Refs(patient="urn:uuid:patient", note="urn:uuid:note")
    return [[url for url, _ in builder._entity_resources(i, e, refs)] for i, e in enumerate(doc.entities)]


def _uuid(doc_id: str, role: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{doc_id}/{role}"))


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.entries: list[tuple[str, dict[str, Any]]] = []
        #: fullUrl → ``Type/id`` of the entries a transaction PUTs rather than POSTs.
        self.puts: dict[str, str] = {}

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
        extracted: list[str] = []
        made: dict[int, list[tuple[str, dict[str, Any]]]] = {}
        for index, entity in enumerate(self.doc.entities):
            for full_url, resource in self._entity_resources(index, entity, refs):
                resource["id"] = full_url.removeprefix("urn:uuid:")
                resource["extension"] = evidence_extensions(entity, note_url, resource["resourceType"])
                self.entries.append((full_url, _ordered(resource)))
                made.setdefault(index, []).append(self.entries[-1])
                extracted.append(full_url)
        _add_findings(self.doc.meta.get(provenance.CHECKS) or [], made)
        if self.doc.meta:
            self._provenance(note_url, extracted)
        return self.entries

    def _provenance(self, note_url: str, targets: list[str]) -> None:
        run = provenance.run_json(self.doc.meta, doc_id=self.doc.id)
        device_id = str(uuid.uuid5(_NAMESPACE, f"device/{run}"))
        device_url = f"urn:uuid:{device_id}"
        self.entries.append(
            (device_url, _ordered({"id": device_id, **provenance.device(self.doc.meta, run)}))
        )
        self.puts[device_url] = f"Device/{device_id}"
        record = provenance.provenance(
            device_url=device_url,
            note_url=note_url,
            targets=targets,
            checks=self.doc.meta.get(provenance.CHECKS),
            stats=self.doc.meta.get(provenance.EXTRACTOR_STATS),
        )
        record_id = _uuid(self.doc.id, "provenance")
        self.entries.append((f"urn:uuid:{record_id}", _ordered({"id": record_id, **record})))

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
        if patient.get("id") is not None:
            self.puts[f"urn:uuid:{_uuid(self.doc.id, 'patient')}"] = f"Patient/{patient['id']}"
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


def _add_findings(checks: list[dict[str, Any]], made: dict[int, list[tuple[str, dict[str, Any]]]]) -> None:
    """A plausibility-finding extension on each resource of the entity each finding is about."""
    for finding in checks:
        entity = finding.get("entity")
        if entity is None:
            continue  # about the note as a whole: on the Provenance only
        related = [made[i][0][0] for i in finding.get("related") or [] if i in made]
        for _, resource in made.get(entity, []):
            resource["extension"].append(finding_extension(finding, related))


def _reference_only(patient: dict[str, Any]) -> bool:
    return isinstance(patient.get("id"), str) and set(patient) <= {"resourceType", "id"}


def _ordered(resource: dict[str, Any]) -> dict[str, Any]:
    """resourceType, id and extension first, as FHIR JSON is usually read."""
    head = {key: resource[key] for key in ("resourceType", "id", "extension") if key in resource}
    return head | {key: value for key, value in resource.items() if key not in head}
