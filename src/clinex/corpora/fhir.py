"""FHIR R4 Bundles (``clinex extract --format fhir``) read back into entities.

Resources are compared by type + code + assertion status, and by span where they carry the
``derivation-reference`` extension (offset and length into the note's DocumentReference).
Mapping (FHIR R4): Condition → condition (``verificationStatus`` refuted → negated;
provisional/differential/unconfirmed → uncertain, since FHIR cannot tell hypothetical apart;
``clinicalStatus`` inactive/resolved/remission → historical; a ``stage`` → tumor with ``tnm``,
and Observations whose ``focus`` is that Condition give ``histology`` (LOINC 59847-4) and
``grade`` (21858-6) instead of lab results);
FamilyMemberHistory.condition → family condition; MedicationStatement → medication
(``not-taken`` → negated; completed/stopped → historical); Observation → lab; Procedure
(``not-done`` → negated). Extensions whose URL ends in ``assertion`` add their ``valueCode``
flag (so hypothetical and family survive where no status element can hold them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clinex.core.errors import FHIRError
from clinex.core.types import ASSERTION_FLAGS, Assertion, Code, Document, Entity, EntityType
from clinex.corpora._text import note_text
from clinex.corpora.corpus import Corpus
from clinex.corpora.problems import Problems
from clinex.fhir.attachments import attachment_text
from clinex.fhir.extensions import DERIVATION_REFERENCE
from clinex.fhir.io import JsonProblem, read_json_file

_UNCERTAIN = {"provisional", "differential", "unconfirmed"}
_HISTORICAL = {"inactive", "resolved", "remission"}
#: LOINC codes of tumour detail Observations and the clinex attribute each fills.
_TUMOUR_LOINC = {"59847-4": "histology", "21858-6": "grade"}


def read_fhir(path: Path, *, text_dir: Path | None = None) -> Corpus:
    """Read Bundles from a ``.json`` file, an NDJSON file (one a line) or a folder of ``.json``."""
    problems = Problems(path.name)
    documents: dict[str, Document] = {}
    locations: dict[str, str] = {}
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    for item in (item for file in files for item in read_json_file(file)):
        if isinstance(item, JsonProblem):
            problems.add(item.where, item.reason)
            continue
        where, resource = item.where, item.value
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if kind != "Bundle":
            problems.add(where, f"resourceType {kind!r}, expected Bundle")
            continue
        inner = [e.get("resource", {}) for e in resource.get("entry") or []]
        nested = [r for r in inner if r.get("resourceType") == "Bundle"]
        for bundle in nested or [resource]:
            try:
                doc = bundle_to_document(bundle, default_id=Path(where.split(":")[0]).stem)
            except FHIRError as exc:
                problems.add(where, exc.message)
                continue
            except (KeyError, TypeError, ValueError) as exc:
                problems.add(where, f"malformed resource: {exc}")
                continue
            if doc.id in documents:
                problems.add(where, f"id {doc.id!r} repeats {locations[doc.id]}")
                continue
            doc.text = doc.text or note_text(text_dir, doc.id)
            documents[doc.id] = doc
            locations[doc.id] = where
    problems.raise_if_any(hint="give FHIR R4 Bundles as written by `clinex extract --format fhir`")
    return Corpus(documents=documents, source=path.name, format="fhir", locations=locations)


def bundle_to_document(bundle: dict[str, Any], *, default_id: str) -> Document:
    """One Bundle as a Document: the note from its DocumentReference, entities from the rest."""
    entries = [e for e in bundle.get("entry") or [] if "resource" in e]
    resources = [e["resource"] for e in entries]
    doc_ref = next((r for r in resources if r.get("resourceType") == "DocumentReference"), None)
    doc_id, note = default_id, ""
    if doc_ref is not None:
        identifiers = [i.get("value") for i in doc_ref.get("identifier") or [] if i.get("value")]
        master = (doc_ref.get("masterIdentifier") or {}).get("value")
        doc_id = str(master or (identifiers[0] if identifiers else None) or doc_ref.get("id") or default_id)
        note = attachment_text(doc_ref, where="DocumentReference") or ""
    details = _tumour_details(entries)
    entities: list[Entity] = []
    for resource in resources:
        if resource.get("resourceType") == "Observation" and resource.get("focus"):
            continue  # a detail of the condition it is about (read below), not a lab result
        entities.extend(_entities(resource, note, details.get(id(resource), {})))
    return Document(text=note, id=doc_id, entities=entities)


def _tumour_details(entries: list[dict[str, Any]]) -> dict[int, dict[str, str]]:
    """Histology and grade from Observations whose ``focus`` is a Condition (mCODE style)."""
    by_reference: dict[str, dict[str, Any]] = {}
    for entry in entries:
        resource = entry["resource"]
        if entry.get("fullUrl"):
            by_reference[entry["fullUrl"]] = resource
        if resource.get("id"):
            by_reference[f"{resource.get('resourceType')}/{resource['id']}"] = resource
    details: dict[int, dict[str, str]] = {}
    for resource in (e["resource"] for e in entries):
        if resource.get("resourceType") != "Observation":
            continue
        attribute = next((_TUMOUR_LOINC[c] for c in _codes(resource.get("code")) if c in _TUMOUR_LOINC), None)
        value = _concept_text(resource.get("valueCodeableConcept")) or str(resource.get("valueString") or "")
        for focus in resource.get("focus") or []:
            target = by_reference.get(str(focus.get("reference")))
            if target is not None and attribute and value:
                details.setdefault(id(target), {})[attribute] = value
    return details


def _entities(resource: dict[str, Any], note: str, details: dict[str, str]) -> list[Entity]:
    kind = resource.get("resourceType")
    if kind == "Condition":
        verification = _codes(resource.get("verificationStatus"))
        clinical = _codes(resource.get("clinicalStatus"))
        assertion = Assertion(
            negated="refuted" in verification,
            uncertain=bool(verification & _UNCERTAIN),
            historical=bool(clinical & _HISTORICAL),
        )
        stage = resource.get("stage") or []
        attributes = dict(details)
        summary = _concept_text(stage[0].get("summary")) if stage else ""
        if summary:
            attributes["tnm"] = summary
        entity_type: EntityType = "tumor" if stage or details else "condition"
        return [_entity(entity_type, resource, resource.get("code"), note, assertion, attributes)]
    if kind == "FamilyMemberHistory":
        return [
            _entity("condition", resource, item.get("code"), note, Assertion(family=True), {}, span_of=item)
            for item in resource.get("condition") or []
        ]
    if kind == "MedicationStatement":
        status = resource.get("status")
        assertion = Assertion(negated=status == "not-taken", historical=status in ("completed", "stopped"))
        return [
            _entity(
                "medication",
                resource,
                resource.get("medicationCodeableConcept"),
                note,
                assertion,
                _dosage(resource),
            )
        ]
    if kind == "Observation":
        attributes = {}
        quantity = resource.get("valueQuantity")
        if quantity:
            attributes["value"] = _number(quantity.get("value"))
            unit = quantity.get("unit") or quantity.get("code")
            if unit:
                attributes["unit"] = str(unit)
        elif resource.get("valueString"):
            attributes["value"] = str(resource["valueString"])
        return [_entity("lab", resource, resource.get("code"), note, Assertion(), attributes)]
    if kind == "Procedure":
        assertion = Assertion(negated=resource.get("status") == "not-done")
        return [_entity("procedure", resource, resource.get("code"), note, assertion, {})]
    return []


def _entity(
    entity_type: EntityType,
    resource: dict[str, Any],
    concept: dict[str, Any] | None,
    note: str,
    assertion: Assertion,
    attributes: dict[str, str],
    *,
    span_of: dict[str, Any] | None = None,
) -> Entity:
    span = _span(span_of or {}) or _span(resource)
    text = _concept_text(concept)
    start = end = None
    if span is not None:
        start, end = span
        if note and end <= len(note):
            text = note[start:end]
    return Entity(
        type=entity_type,
        text=text,
        start=start,
        end=end,
        alignment="exact" if span is not None else "none",
        assertion=_with_flag_extensions(assertion, resource),
        code=_code(concept),
        attributes=attributes,
        confidence=_confidence(resource),
    )


def _span(element: dict[str, Any]) -> tuple[int, int] | None:
    for extension in element.get("extension") or []:
        if extension.get("url") == DERIVATION_REFERENCE:
            parts = {e.get("url"): e for e in extension.get("extension") or []}
            if "offset" in parts and "length" in parts:
                offset = int(parts["offset"]["valueInteger"])
                return offset, offset + int(parts["length"]["valueInteger"])
    return None


def _confidence(resource: dict[str, Any]) -> float:
    # DESIGN.md fixes that a confidence is carried, not the extension URL: take any that says so.
    for extension in resource.get("extension") or []:
        if "confidence" in str(extension.get("url", "")).lower() and "valueDecimal" in extension:
            return float(extension["valueDecimal"])
    return 1.0


def _with_flag_extensions(assertion: Assertion, resource: dict[str, Any]) -> Assertion:
    # Status elements cannot say "hypothetical" or "family" on every resource; a producer may
    # add one extension per flag (clinex does), which is read here by its URL's last part.
    flags = set(assertion.names())
    for extension in resource.get("extension") or []:
        if str(extension.get("url", "")).rsplit("/", 1)[-1].lower() == "assertion":
            flags.add(str(extension.get("valueCode")))
    return Assertion(**{flag: True for flag in flags if flag in ASSERTION_FLAGS})


def _codes(concept: dict[str, Any] | None) -> set[str]:
    return {str(c.get("code")) for c in (concept or {}).get("coding") or []}


def _code(concept: dict[str, Any] | None) -> Code | None:
    codings = [c for c in (concept or {}).get("coding") or [] if c.get("code")]
    if not codings:
        return None
    first = codings[0]
    return Code(system=str(first.get("system", "")), code=str(first["code"]), display=first.get("display"))


def _concept_text(concept: dict[str, Any] | None) -> str:
    if not concept:
        return ""
    displays = [c.get("display") for c in concept.get("coding") or [] if c.get("display")]
    return str(concept.get("text") or (displays[0] if displays else ""))


def _dosage(resource: dict[str, Any]) -> dict[str, str]:
    dosages = resource.get("dosage") or []
    if not dosages:
        return {}
    dosage = dosages[0]
    attributes: dict[str, str] = {}
    for dose_and_rate in dosage.get("doseAndRate") or []:
        quantity = dose_and_rate.get("doseQuantity")
        if quantity and quantity.get("value") is not None:
            attributes["dose"] = (
                f"{_number(quantity['value'])} {quantity.get('unit') or quantity.get('code') or ''}".strip()
            )
    route = _concept_text(dosage.get("route"))
    if route:
        attributes["route"] = route
    timing_text = _concept_text((dosage.get("timing") or {}).get("code"))
    if timing_text:
        attributes["frequency"] = timing_text
    return attributes


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)
