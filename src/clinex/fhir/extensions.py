"""The extensions clinex puts on every extracted resource, and the URLs it uses.

- ``http://hl7.org/fhir/StructureDefinition/derivation-reference`` (core extension, complex):
  sub-extensions ``reference`` (valueReference → the note's DocumentReference), ``path``
  (valueString, the element holding the text), ``offset`` and ``length`` (valueInteger, in
  characters of the decoded note text). Ungrounded entities carry only ``reference`` and
  ``path`` (invariant der-1 forbids a length without an offset).
- ``https://clinex.dev/fhir/StructureDefinition/confidence``: valueDecimal in 0..1, the
  extractor's confidence in the entity.
- ``https://clinex.dev/fhir/StructureDefinition/assertion``: valueCode, one per assertion flag
  that is set (``negated``, ``historical``, ``family``, ``uncertain``, ``hypothetical``), so the
  flags survive where a resource has no status element for them.
- ``https://clinex.dev/fhir/StructureDefinition/entity-type``: valueCode, the entity type where
  the resource type does not say it (a tumor's Condition; a FamilyMemberHistory of a
  medication, lab, procedure or tumor).
- ``https://clinex.dev/fhir/StructureDefinition/alignment``: valueCode ``fuzzy`` on an entity
  grounded by fuzzy alignment (an offset means ``exact``, its absence ``none``).
- ``https://clinex.dev/fhir/StructureDefinition/run-meta``: valueString on the Device of the
  Bundle's Provenance, the Document's ``meta`` as compact JSON (:mod:`clinex.fhir.provenance`),
  less its per-note ``checks``.
- ``https://clinex.dev/fhir/StructureDefinition/plausibility-finding`` (complex): one per
  plausibility finding (:mod:`clinex.plausibility`) on each resource of the entity it is about;
  sub-extensions ``check`` (valueCode, the check's name), ``message`` (valueString) and
  ``related`` (valueReference, 0..*: the resources of the other entities involved, such as the
  affirmed Condition of a refuted one).
- ``https://clinex.dev/fhir/StructureDefinition/plausibility-count``: valueInteger on the
  Provenance, the number of findings of the note (0: checked, nothing found).
- ``https://clinex.dev/fhir/StructureDefinition/plausibility-checks``: valueString on the
  Provenance, ``Document.meta["checks"]`` as compact JSON, so that it is read back exactly.
"""

from __future__ import annotations

from typing import Any

from clinex.core.types import Entity, EntityType

DERIVATION_REFERENCE = "http://hl7.org/fhir/StructureDefinition/derivation-reference"
CONFIDENCE = "https://clinex.dev/fhir/StructureDefinition/confidence"
ASSERTION = "https://clinex.dev/fhir/StructureDefinition/assertion"
ENTITY_TYPE = "https://clinex.dev/fhir/StructureDefinition/entity-type"
ALIGNMENT = "https://clinex.dev/fhir/StructureDefinition/alignment"
RUN_META = "https://clinex.dev/fhir/StructureDefinition/run-meta"
PLAUSIBILITY_FINDING = "https://clinex.dev/fhir/StructureDefinition/plausibility-finding"
PLAUSIBILITY_COUNT = "https://clinex.dev/fhir/StructureDefinition/plausibility-count"
PLAUSIBILITY_CHECKS = "https://clinex.dev/fhir/StructureDefinition/plausibility-checks"
EXTRACTOR_STATS = "https://clinex.dev/fhir/StructureDefinition/extractor-stats"
#: The entity type each resource type stands for when it carries no entity-type extension.
IMPLIED_TYPES: dict[str, EntityType] = {
    "Condition": "condition",
    "FamilyMemberHistory": "condition",
    "MedicationStatement": "medication",
    "Observation": "lab",
    "Procedure": "procedure",
}
#: Identifier system for the note id a user gave (JSONL id, file name, DocumentReference id).
NOTE_ID_SYSTEM = "https://clinex.dev/fhir/NamingSystem/note-id"
#: meta.tag system; ``placeholder`` marks a Patient made up because the input named none.
TAG_SYSTEM = "https://clinex.dev/fhir/CodeSystem/tag"
#: The element of the DocumentReference that holds the note (offsets count decoded characters).
NOTE_TEXT_PATH = "DocumentReference.content[0].attachment.data"


def evidence_extensions(entity: Entity, note_ref: str, resource_type: str) -> list[dict[str, Any]]:
    """derivation-reference, confidence, assertion, entity-type and alignment extensions for one
    of an entity's resources."""
    parts: list[dict[str, Any]] = [
        {"url": "reference", "valueReference": {"reference": note_ref}},
        {"url": "path", "valueString": NOTE_TEXT_PATH},
    ]
    if entity.start is not None and entity.end is not None:
        parts.append({"url": "offset", "valueInteger": entity.start})
        parts.append({"url": "length", "valueInteger": entity.end - entity.start})
    extensions: list[dict[str, Any]] = [
        {"url": DERIVATION_REFERENCE, "extension": parts},
        {"url": CONFIDENCE, "valueDecimal": round(entity.confidence, 4)},
    ]
    extensions.extend({"url": ASSERTION, "valueCode": flag} for flag in entity.assertion.names())
    if IMPLIED_TYPES.get(resource_type) != entity.type:
        extensions.append({"url": ENTITY_TYPE, "valueCode": entity.type})
    if entity.alignment == "fuzzy":
        extensions.append({"url": ALIGNMENT, "valueCode": "fuzzy"})
    return extensions


def finding_extension(finding: dict[str, Any], related: list[str]) -> dict[str, Any]:
    """The plausibility-finding extension for one finding of ``Document.meta["checks"]``;
    ``related`` are the references of the other entities' resources."""
    parts: list[dict[str, Any]] = [
        {"url": "check", "valueCode": str(finding["check"])},
        {"url": "message", "valueString": str(finding["message"])},
    ]
    parts.extend({"url": "related", "valueReference": {"reference": url}} for url in related)
    return {"url": PLAUSIBILITY_FINDING, "extension": parts}
