"""FHIR R4 Bundle → Document: the way back of :mod:`clinex.fhir.bundle`, for clinex's own Bundles
and for Bundles other producers write from the specification.

- The note is the text of the Bundle's DocumentReference (:mod:`clinex.fhir.attachments`), its
  id the DocumentReference's clinex note-id identifier, else its ``masterIdentifier``, first
  identifier or id, else ``default_id``. The Patient it names comes back unless it is clinex's
  placeholder.
- Condition → condition, a tumor where the entity-type extension says so or it has a ``stage``
  or detail Observations (those whose ``focus`` is the Condition: ``histology`` LOINC 59847-4
  and ``grade`` 21858-6; they are attributes, not labs); FamilyMemberHistory.condition → a
  family entity; MedicationStatement → medication (dose, route and frequency from the first
  dosage); Observation → lab (value and unit); Procedure → procedure. Dates come back from
  onset/effective/performed as FHIR writes them (``2024-03-11``).
- Spans come from the ``derivation-reference`` extension (offset and length into the note);
  the text is then ``note[start:end]``, else the concept's text.
- Flags come from the assertion extension where the resource has any (they say every flag),
  else from the status elements by the table of :mod:`clinex.fhir.status`.
- Confidence comes from any extension whose URL names a confidence (DESIGN.md fixes that one
  is carried, not its URL), else 1.
- ``meta`` comes back from the Bundle's Provenance (:func:`clinex.fhir.provenance.read_meta`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from clinex.core.errors import FHIRError
from clinex.core.types import ASSERTION_FLAGS, ENTITY_TYPES, Assertion, Code, Document, Entity, EntityType
from clinex.fhir import codes, provenance, status
from clinex.fhir.attachments import attachment_text
from clinex.fhir.extensions import (
    ALIGNMENT,
    DERIVATION_REFERENCE,
    ENTITY_TYPE,
    NOTE_ID_SYSTEM,
    TAG_SYSTEM,
)
from clinex.fhir.io import References, bundle_entries

#: LOINC codes of tumor detail Observations and the attribute each fills.
_TUMOR_DETAILS = {codes.HISTOLOGY_LOINC[0]: "histology", codes.GRADE_LOINC[0]: "grade"}
_DATES = {
    "Condition": "onsetDateTime",
    "MedicationStatement": "effectiveDateTime",
    "Observation": "effectiveDateTime",
    "Procedure": "performedDateTime",
}


def bundle_to_document(bundle: dict[str, Any], *, default_id: str, where: str = "Bundle") -> Document:
    """One Bundle as a Document (see the module docstring).

    Raises FHIRError naming ``where`` and the entry when a resource is malformed or the note's
    attachment cannot be decoded; the message never quotes the resource.
    """
    entries = bundle_entries(bundle, where=where)
    references = References(entries)
    resources = [(e.index, e.resource) for e in entries if e.resource is not None]
    doc_id, note, patient = default_id, "", None
    doc_ref = next(((i, r) for i, r in resources if r["resourceType"] == "DocumentReference"), None)
    if doc_ref is not None:
        with _reading(where, *doc_ref):
            doc_id = _note_id(doc_ref[1]) or default_id
            note = attachment_text(doc_ref[1], where=f"{where} entry[{doc_ref[0]}]") or ""
            patient = _patient(doc_ref[1].get("subject"), references)
    details: dict[int, dict[str, str]] = {}
    meta: dict[str, Any] = {}
    for index, resource in resources:
        with _reading(where, index, resource):
            _add_tumor_detail(resource, references, details)
            meta = meta or provenance.read_meta(resource, references) or {}
    entities: list[Entity] = []
    for index, resource in resources:
        if resource["resourceType"] == "Observation" and resource.get("focus"):
            continue  # a tumor detail (read above), not a lab result
        with _reading(where, index, resource):
            entities.extend(_entities(resource, note, details.get(id(resource), {})))
    return Document(text=note, id=doc_id, entities=entities, patient=patient, meta=meta)


@contextmanager
def _reading(where: str, index: int, resource: dict[str, Any]) -> Iterator[None]:
    """Turns what a malformed resource raises into a FHIRError naming its entry, never its content."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FHIRError(
            f"{where} entry[{index}] ({resource['resourceType']}): malformed ({type(exc).__name__})",
            hint="check the resource against FHIR R4",
        ) from None


def _note_id(doc_ref: dict[str, Any]) -> str | None:
    identifiers = [i for i in doc_ref.get("identifier") or [] if isinstance(i, dict) and i.get("value")]
    ours = [i["value"] for i in identifiers if i.get("system") == NOTE_ID_SYSTEM]
    master = (doc_ref.get("masterIdentifier") or {}).get("value")
    found = next(
        (v for v in (*ours, master, *(i["value"] for i in identifiers), doc_ref.get("id")) if v), None
    )
    return None if found is None else str(found)


def _patient(subject: Any, references: References) -> dict[str, Any] | None:
    patient = references.resolve(subject)
    if patient is not None:
        tags = (patient.get("meta") or {}).get("tag") or []
        placeholder = any(t.get("system") == TAG_SYSTEM and t.get("code") == "placeholder" for t in tags)
        return None if patient["resourceType"] != "Patient" or placeholder else copy.deepcopy(patient)
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if isinstance(reference, str) and reference.startswith("Patient/") and reference.count("/") == 1:
        return {"resourceType": "Patient", "id": reference.removeprefix("Patient/")}
    return None


def _add_tumor_detail(
    resource: dict[str, Any], references: References, details: dict[int, dict[str, str]]
) -> None:
    """Histology or grade from an Observation whose ``focus`` is a Condition (mCODE style)."""
    if resource["resourceType"] != "Observation":
        return
    attribute = next((_TUMOR_DETAILS[c] for c in _codes(resource.get("code")) if c in _TUMOR_DETAILS), None)
    value = _concept_text(resource.get("valueCodeableConcept")) or str(resource.get("valueString") or "")
    for focus in resource.get("focus") or []:
        target = references.resolve(focus)
        if target is not None and attribute and value:
            details.setdefault(id(target), {})[attribute] = value


def _entities(resource: dict[str, Any], note: str, details: dict[str, str]) -> list[Entity]:
    kind = resource["resourceType"]
    declared = _entity_type(resource)
    if kind == "Condition":
        flags = _read(status.CLINICAL, resource.get("clinicalStatus"))
        flags |= _read(status.VERIFICATION, resource.get("verificationStatus"))
        stage = resource.get("stage") or []
        attributes = dict(details)
        summary = _concept_text(stage[0].get("summary")) if stage else ""
        if summary:
            attributes["tnm"] = summary
        entity_type = declared or ("tumor" if stage or details else "condition")
        return [_entity(entity_type, resource, resource.get("code"), note, flags, attributes)]
    if kind == "FamilyMemberHistory":
        entities = []
        for item in resource.get("condition") or []:
            notes = [str(n.get("text")) for n in item.get("note") or []]
            onset = item.get("onsetString")
            attributes = {"date": str(onset)} if onset else {}
            flags = status.family_flags(notes)
            concept = item.get("code")
            entities.append(
                _entity(declared or "condition", resource, concept, note, flags, attributes, span_of=item)
            )
        return entities
    if kind == "MedicationStatement":
        flags = status.MEDICATION.read(resource.get("status"))
        concept = resource.get("medicationCodeableConcept")
        return [_entity("medication", resource, concept, note, flags, _dosage(resource))]
    if kind == "Observation":
        flags = status.OBSERVATION.read(resource.get("status"))
        return [_entity(declared or "lab", resource, resource.get("code"), note, flags, _lab_value(resource))]
    if kind == "Procedure":
        flags = status.PROCEDURE.read(resource.get("status"))
        return [_entity("procedure", resource, resource.get("code"), note, flags, {})]
    return []


def _entity(
    entity_type: EntityType,
    resource: dict[str, Any],
    concept: dict[str, Any] | None,
    note: str,
    status_flags: set[str],
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
    date = resource.get(_DATES.get(resource["resourceType"], ""))
    if date:
        attributes = {**attributes, "date": str(date)}
    return Entity(
        type=entity_type,
        text=text,
        start=start,
        end=end,
        alignment="none" if span is None else "fuzzy" if _value(resource, ALIGNMENT) == "fuzzy" else "exact",
        assertion=_assertion(resource, status_flags),
        code=_code(concept),
        attributes=attributes,
        confidence=_confidence(resource),
    )


def _entity_type(resource: dict[str, Any]) -> EntityType | None:
    declared = _value(resource, ENTITY_TYPE)
    return cast(EntityType, declared) if declared in ENTITY_TYPES else None


def _value(resource: dict[str, Any], url: str) -> Any:
    return next((e.get("valueCode") for e in resource.get("extension") or [] if e.get("url") == url), None)


def _span(element: dict[str, Any]) -> tuple[int, int] | None:
    for extension in element.get("extension") or []:
        if extension.get("url") == DERIVATION_REFERENCE:
            parts = {e.get("url"): e for e in extension.get("extension") or []}
            if "offset" in parts and "length" in parts:
                offset = int(parts["offset"]["valueInteger"])
                return offset, offset + int(parts["length"]["valueInteger"])
    return None


def _confidence(resource: dict[str, Any]) -> float:
    for extension in resource.get("extension") or []:
        if "confidence" in str(extension.get("url", "")).lower() and "valueDecimal" in extension:
            return float(extension["valueDecimal"])
    return 1.0


def _assertion(resource: dict[str, Any], status_flags: set[str]) -> Assertion:
    # A producer that writes assertion extensions (clinex does) writes one per flag that is set:
    # they say everything, which no status can (hypothetical, a negated history). Any extension
    # whose URL ends in "assertion" counts, as other producers name theirs.
    written = {
        str(e.get("valueCode"))
        for e in resource.get("extension") or []
        if str(e.get("url", "")).rsplit("/", 1)[-1].lower() == "assertion"
    }
    flags = written or status_flags
    return Assertion(**{flag: True for flag in flags if flag in ASSERTION_FLAGS})


def _read(table: status.StatusTable, concept: dict[str, Any] | None) -> set[str]:
    return {flag for code in _codes(concept) for flag in table.read(code)}


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


def _lab_value(resource: dict[str, Any]) -> dict[str, str]:
    quantity = resource.get("valueQuantity")
    if quantity:
        attributes = {"value": f"{quantity.get('comparator', '')}{_number(quantity.get('value'))}"}
        unit = quantity.get("unit") or quantity.get("code")
        if unit:
            attributes["unit"] = str(unit)
        return attributes
    if resource.get("valueString"):
        return {"value": str(resource["valueString"])}
    return {}


def _dosage(resource: dict[str, Any]) -> dict[str, str]:
    dosages = resource.get("dosage") or []
    if not dosages:
        return {}
    dosage = dosages[0]
    attributes: dict[str, str] = {}
    for dose_and_rate in dosage.get("doseAndRate") or []:
        quantity = dose_and_rate.get("doseQuantity")
        if quantity and quantity.get("value") is not None:
            unit = quantity.get("unit") or quantity.get("code") or ""
            attributes["dose"] = f"{_number(quantity['value'])} {unit}".strip()
    route = _concept_text(dosage.get("route"))
    if route:
        attributes["route"] = route
    timing_text = _concept_text((dosage.get("timing") or {}).get("code"))
    if timing_text or dosage.get("asNeededBoolean") is True:
        attributes["frequency"] = timing_text or "as needed"
    return attributes


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)
