"""Bundle → Document: statuses read by the one table, extensions preferred, clear errors."""

from __future__ import annotations

from typing import Any

import pytest

from clinex.core.errors import FHIRError
from clinex.core.types import Assertion, Document, Entity
from clinex.fhir import bundle_to_document, document_to_bundle
from clinex.fhir.extensions import ASSERTION

NOTE = "Asthma. Metformin. HbA1c. Biopsy. Mother: gout."


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


@pytest.mark.parametrize(
    ("resource", "flags"),
    [
        (
            {
                "resourceType": "Condition",
                "clinicalStatus": concept(CLINICAL, "resolved"),
                "verificationStatus": concept(VERIFICATION, "differential"),
            },
            ["historical", "uncertain"],
        ),
        ({"resourceType": "Condition", "verificationStatus": concept(VERIFICATION, "refuted")}, ["negated"]),
        ({"resourceType": "Condition", "clinicalStatus": concept(CLINICAL, "active")}, []),
        ({"resourceType": "MedicationStatement", "status": "stopped"}, ["historical"]),
        ({"resourceType": "MedicationStatement", "status": "intended"}, ["hypothetical"]),
        ({"resourceType": "MedicationStatement", "status": "on-hold"}, []),
        ({"resourceType": "Observation", "status": "cancelled"}, ["negated"]),
        ({"resourceType": "Observation", "status": "final"}, []),
        ({"resourceType": "Procedure", "status": "not-done"}, ["negated"]),
        (
            {
                "resourceType": "FamilyMemberHistory",
                "condition": [
                    {"note": [{"text": "negated in the note: the relative is stated not to have this"}]}
                ],
            },
            ["negated", "family"],
        ),
    ],
)
def test_flags_of_a_foreign_bundle_come_from_its_statuses(resource: dict[str, Any], flags: list[str]) -> None:
    (entity,) = bundle_to_document(bundle({**resource, "code": {"text": "x"}}), default_id="d").entities
    assert entity.assertion.names() == flags


def test_assertion_extensions_are_preferred_over_statuses() -> None:
    # A hypothetical condition is written "provisional"; read from the status alone it would
    # also come back uncertain, which the note never said.
    entity = Entity(type="condition", text="Asthma", start=0, end=6, assertion=Assertion(hypothetical=True))
    written = document_to_bundle(Document(text=NOTE, id="n", entities=[entity]))
    (again,) = bundle_to_document(written, default_id="x").entities
    assert again.assertion == Assertion(hypothetical=True)
    condition = written["entry"][2]["resource"]
    condition["extension"] = [e for e in condition["extension"] if e["url"] != ASSERTION]
    (status_only,) = bundle_to_document(written, default_id="x").entities
    assert status_only.assertion == Assertion(uncertain=True)


def test_document_id_note_and_given_patient_come_back() -> None:
    patient = {"resourceType": "Patient", "id": "p-1", "gender": "female"}
    doc = Document(text=NOTE, id="letter-7", patient=patient)
    again = bundle_to_document(document_to_bundle(doc), default_id="file-stem")
    assert (again.id, again.text, again.patient) == ("letter-7", NOTE, patient)
    placeholder = bundle_to_document(document_to_bundle(Document(text=NOTE, id="n")), default_id="x")
    assert placeholder.patient is None
    assert bundle_to_document(bundle(), default_id="file-stem").id == "file-stem"


def test_malformed_resource_is_an_error_naming_the_entry_not_its_content() -> None:
    secret = "secret diagnosis"
    broken = {
        "resourceType": "Condition",
        "code": {"text": secret},
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/derivation-reference",
                "extension": [
                    {"url": "offset", "valueInteger": secret},
                    {"url": "length", "valueInteger": 3},
                ],
            }
        ],
    }
    with pytest.raises(FHIRError) as caught:
        bundle_to_document(bundle({"resourceType": "Patient"}, broken), default_id="d", where="b.json:4")
    assert "b.json:4 entry[1] (Condition): malformed (ValueError)" in str(caught.value)
    assert secret not in str(caught.value)
