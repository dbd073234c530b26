"""Document → Bundle → Document (fhir.bundle, then fhir.parse) keeps what FHIR can say.

Every entity type with every combination of the five assertion flags, grounded exactly, fuzzily
or not at all, coded or not: types, spans, texts, alignments, codes, confidences, the
attributes each resource can hold and the Document's meta and patient come back unchanged.
The flags come back exactly through the assertion extensions, and through the status elements
alone as the table of DESIGN.md allows (written out by hand below, not taken from the code).
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from clinex.core.systems import ICD10CM, LOINC, RXNORM, SNOMED
from clinex.core.types import ASSERTION_FLAGS, ENTITY_TYPES, Assertion, Code, Document, Entity
from clinex.fhir import bundle_to_document, document_to_bundle, validate_bundle
from clinex.fhir.extensions import ASSERTION

NOTE = (
    "Asthma since childhood. Metformin 500 mg p.o. 1-0-1. HbA1c 8.4 % on 2024-03-11. "
    "Appendectomy in 2009. Invasive ductal carcinoma pT2 N1a M0, stage IIB, grade 3."
)
PHRASES = {
    "condition": "Asthma",
    "medication": "Metformin",
    "lab": "HbA1c",
    "procedure": "Appendectomy",
    "tumor": "Invasive ductal carcinoma",
}
CODES = {
    "condition": Code(system=ICD10CM, code="J45.909", display="Unspecified asthma, uncomplicated"),
    "medication": Code(system=RXNORM, code="6809", display="metformin"),
    "lab": Code(system=LOINC, code="4548-4", display="Hemoglobin A1c/Hemoglobin.total in Blood"),
    "procedure": Code(system=SNOMED, code="80146002", display="Appendectomy"),
    "tumor": Code(system=ICD10CM, code="C50.919"),
}
#: Attribute values each type carries, in the form FHIR writes them back (dates as FHIR dates).
ATTRIBUTES: dict[str, list[dict[str, str]]] = {
    "condition": [{"date": "2024-03-11"}, {}],
    "medication": [
        {"dose": "500 mg", "route": "p.o.", "frequency": "1-0-1", "date": "2024-03-11"},
        {"dose": "2 puffs", "route": "inhaled", "frequency": "prn"},
        {"route": "i.v.", "frequency": "every 8 hours"},
    ],
    "lab": [
        {"value": "8.4", "unit": "%", "date": "2024-03-11"},
        {"value": "<5", "unit": "ng/L"},
        {"value": "no growth"},
    ],
    "procedure": [{"date": "2009"}, {}],
    "tumor": [
        {
            "tnm": "pT2 N1a M0, stage IIB",
            "histology": "invasive ductal carcinoma",
            "grade": "3",
            "date": "2024-03",
        }
    ],
}
META: dict[str, Any] = {
    "extractor": "encoder.v2",
    "model": {"name": "clinex-encoder-minilm", "checksum": "sha256:0a1b2c"},
    "assertion": {"by": "pipeline", "layer": "learned", "model_sha256": "e7d5"},
    "terminologies": {"icd10cm": "simple-icd-10-cm 1.5.0"},
    "clinex_version": "0.1.0",
    "min_confidence": 0.25,
}
PATIENT = {"resourceType": "Patient", "id": "p-7", "gender": "female"}
FLAG_SETS = [
    Assertion(**dict(zip(ASSERTION_FLAGS, values, strict=True)))
    for values in itertools.product((False, True), repeat=len(ASSERTION_FLAGS))
]


def entities() -> list[Entity]:
    found = []
    for index, (entity_type, flags) in enumerate(itertools.product(ENTITY_TYPES, FLAG_SETS)):
        phrase = PHRASES[entity_type]
        start = NOTE.index(phrase)
        span: dict[str, Any] = {"start": start, "end": start + len(phrase)}
        alignment = ("exact", "fuzzy", "none")[index % 3]
        if alignment == "none":
            span = {}
        options = ATTRIBUTES[entity_type]
        found.append(
            Entity(
                type=entity_type,  # type: ignore[arg-type]
                text=phrase,
                alignment=alignment,  # type: ignore[arg-type]
                assertion=flags,
                code=CODES[entity_type] if index % 4 else None,
                attributes=dict(options[index % len(options)]),
                confidence=round(0.05 + (index % 19) * 0.05, 4),
                **span,
            )
        )
    return found


def expressible_attributes(entity: Entity) -> dict[str, str]:
    """A family entity is a FamilyMemberHistory condition (a date, nothing else); a refuted
    tumor has no staging, histology or grade Observations."""
    if entity.assertion.family or (entity.type == "tumor" and entity.assertion.negated):
        return {k: v for k, v in entity.attributes.items() if k == "date"}
    return entity.attributes


def status_flags(entity: Entity) -> Assertion:
    """What the status elements alone say (DESIGN.md's table, read back)."""
    a = entity.assertion
    if a.family:
        return Assertion(family=True, negated=a.negated)
    if a.negated:
        return Assertion(negated=True)
    if entity.type in ("condition", "tumor"):
        return Assertion(historical=a.historical, uncertain=a.uncertain or a.hypothetical)
    if entity.type == "medication":
        return Assertion(historical=a.historical, hypothetical=a.hypothetical and not a.historical)
    return Assertion()


@pytest.fixture(scope="module")
def written() -> tuple[Document, dict[str, Any]]:
    doc = Document(text=NOTE, id="letter-1", entities=entities(), patient=PATIENT, meta=META)
    bundle = document_to_bundle(doc)
    validate_bundle(bundle)
    return doc, bundle


def comparable(entity: Entity, flags: Assertion, attributes: dict[str, str]) -> dict[str, Any]:
    return {
        "type": entity.type,
        "span": (entity.start, entity.end),
        "text": entity.text,
        "alignment": entity.alignment,
        "code": entity.code,
        "flags": flags,
        "attributes": attributes,
        "confidence": entity.confidence,
    }


def test_every_type_and_flag_combination_comes_back(written: tuple[Document, dict[str, Any]]) -> None:
    doc, bundle = written
    assert len(doc.entities) == len(ENTITY_TYPES) * 32
    again = bundle_to_document(bundle, default_id="other")
    assert (again.id, again.text, again.patient, again.meta) == (doc.id, doc.text, PATIENT, META)
    assert len(again.entities) == len(doc.entities)
    for before, after in zip(doc.entities, again.entities, strict=True):
        expected = comparable(before, before.assertion, expressible_attributes(before))
        assert comparable(after, after.assertion, after.attributes) == expected


def test_statuses_alone_say_what_the_table_allows(written: tuple[Document, dict[str, Any]]) -> None:
    doc, bundle = written[0], copy.deepcopy(written[1])
    for entry in bundle["entry"]:
        resource = entry["resource"]
        resource["extension"] = [e for e in resource.get("extension", []) if e["url"] != ASSERTION]
    again = bundle_to_document(bundle, default_id="other")
    flags = [(e.type, e.assertion) for e in again.entities]
    assert flags == [(e.type, status_flags(e)) for e in doc.entities]
