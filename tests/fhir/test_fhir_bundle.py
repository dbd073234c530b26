"""Document → FHIR Bundle: resources per entity type, status rules, evidence, validation."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from clinex import Assertion, Code, Document, Entity, FHIRError
from clinex.fhir import document_to_bundle, validate_bundle
from clinex.fhir.extensions import ASSERTION, CONFIDENCE, DERIVATION_REFERENCE

LETTER = Path(__file__).resolve().parents[2] / "examples" / "discharge_letter.txt"


def grounded(note: str, phrase: str, kind: str, **fields: Any) -> Entity:
    start = note.index(phrase)
    return Entity(type=kind, text=phrase, start=start, end=start + len(phrase), **fields)  # type: ignore[arg-type]


def resources_of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def only(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    found = resources_of(bundle, kind)
    assert len(found) == 1, [r["resourceType"] for r in found]
    return found[0]


def one_entity_bundle(note: str, entity: Entity, **kwargs: Any) -> dict[str, Any]:
    bundle = document_to_bundle(Document(text=note, id="n1", entities=[entity]), **kwargs)
    validate_bundle(bundle)
    return bundle


def extension(resource: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [ext for ext in resource.get("extension", []) if ext["url"] == url]


def derivation(resource: dict[str, Any]) -> dict[str, Any]:
    (ext,) = extension(resource, DERIVATION_REFERENCE)
    assert "valueReference" not in ext  # a complex extension: sub-extensions only (ext-1)
    return {
        part["url"]: next(v for k, v in part.items() if k.startswith("value")) for part in ext["extension"]
    }


def coding_codes(concept: dict[str, Any]) -> list[str]:
    return [c["code"] for c in concept.get("coding", [])]


NOTE = "Pneumonia. No pulmonary embolism. Prior MI 2015. Possible sepsis. Return if chest pain."


@pytest.mark.parametrize(
    ("phrase", "assertion", "verification", "clinical"),
    [
        ("Pneumonia", Assertion(), "confirmed", "active"),
        ("pulmonary embolism", Assertion(negated=True), "refuted", None),
        ("MI", Assertion(historical=True), "confirmed", "inactive"),
        ("sepsis", Assertion(uncertain=True), "provisional", "active"),
        ("chest pain", Assertion(hypothetical=True), "provisional", "active"),
    ],
)
def test_condition_status_follows_assertion(
    phrase: str, assertion: Assertion, verification: str, clinical: str | None
) -> None:
    entity = grounded(
        NOTE,
        phrase,
        "condition",
        assertion=assertion,
        code=Code(system="http://hl7.org/fhir/sid/icd-10-cm", code="J18.9"),
    )
    condition = only(one_entity_bundle(NOTE, entity), "Condition")
    assert coding_codes(condition["verificationStatus"]) == [verification]
    assert (coding_codes(condition["clinicalStatus"]) if "clinicalStatus" in condition else None) == (
        [clinical] if clinical else None
    )
    assert condition["code"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-10-cm"
    assert condition["code"]["text"] == phrase
    assert [e["valueCode"] for e in extension(condition, ASSERTION)] == assertion.names()


def test_historical_condition_date_becomes_onset() -> None:
    entity = grounded(
        NOTE, "MI", "condition", assertion=Assertion(historical=True), attributes={"date": "2015"}
    )
    assert only(one_entity_bundle(NOTE, entity), "Condition")["onsetDateTime"] == "2015"


@pytest.mark.parametrize(
    ("note", "relation"),
    [
        ("Mother had breast cancer.", "MTH"),
        ("Breast cancer in his father at 60.", "FTH"),
        ("His sister was treated for breast cancer. Father is well.", "SIS"),
        ("Family history of breast cancer.", "FAMMEMB"),
    ],
)
def test_family_condition_becomes_family_member_history(note: str, relation: str) -> None:
    phrase = "breast cancer" if "breast cancer" in note else "Breast cancer"
    entity = grounded(note, phrase, "condition", assertion=Assertion(family=True))
    bundle = one_entity_bundle(note, entity)
    assert resources_of(bundle, "Condition") == []
    history = only(bundle, "FamilyMemberHistory")
    assert (
        history["relationship"]["coding"][0]["system"] == "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
    )
    assert coding_codes(history["relationship"]) == [relation]
    assert history["condition"][0]["code"]["text"] == phrase
    assert history["patient"]["reference"] == only_full_url(bundle, "Patient")


def only_full_url(bundle: dict[str, Any], kind: str) -> str:
    (url,) = [e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]
    return str(url)


MED_NOTE = "Metformin 500 mg orally twice daily. Stopped warfarin. No aspirin. Insulin 1-2 units at night."


@pytest.mark.parametrize(
    ("phrase", "assertion", "status"),
    [
        ("Metformin", Assertion(), "active"),
        ("warfarin", Assertion(historical=True), "completed"),
        ("aspirin", Assertion(negated=True), "not-taken"),
        # A medication the note only considers is not being taken: R4 says "intended".
        ("Insulin", Assertion(hypothetical=True), "intended"),
        ("warfarin", Assertion(historical=True, hypothetical=True), "completed"),
    ],
)
def test_medication_status_follows_assertion(phrase: str, assertion: Assertion, status: str) -> None:
    entity = grounded(MED_NOTE, phrase, "medication", assertion=assertion)
    assert only(one_entity_bundle(MED_NOTE, entity), "MedicationStatement")["status"] == status


def test_medication_dosage_has_ucum_dose_route_and_timing() -> None:
    entity = grounded(
        MED_NOTE,
        "Metformin",
        "medication",
        code=Code(system="http://www.nlm.nih.gov/research/umls/rxnorm", code="6809", display="metformin"),
        attributes={"dose": "500 mg", "route": "orally", "frequency": "twice daily"},
    )
    statement = only(one_entity_bundle(MED_NOTE, entity), "MedicationStatement")
    assert statement["medicationCodeableConcept"] == {
        "coding": [
            {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "6809", "display": "metformin"}
        ],
        "text": "Metformin",
    }
    (dosage,) = statement["dosage"]
    assert dosage["text"] == "500 mg orally twice daily"
    assert dosage["doseAndRate"][0]["doseQuantity"] == {
        "value": 500,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }
    assert coding_codes(dosage["route"]) == ["26643006"]
    assert coding_codes(dosage["timing"]["code"]) == ["BID"]
    assert dosage["timing"]["repeat"] == {"frequency": 2, "period": 1, "periodUnit": "d"}


def test_unparseable_dose_keeps_text_without_quantity() -> None:
    entity = grounded(
        MED_NOTE, "Insulin", "medication", attributes={"dose": "1-2 units", "frequency": "at night"}
    )
    (dosage,) = only(one_entity_bundle(MED_NOTE, entity), "MedicationStatement")["dosage"]
    assert "doseAndRate" not in dosage
    assert dosage["text"] == "1-2 units at night"
    assert coding_codes(dosage["timing"]["code"]) == ["BED"]


LAB_NOTE = "HbA1c 8.4 % on 03/11/2024. WCC 14.8 x10^9/L. Blood cultures: no growth. Troponin <5 ng/L."


def test_lab_with_numeric_value_gets_ucum_quantity_and_date() -> None:
    entity = grounded(
        LAB_NOTE,
        "HbA1c",
        "lab",
        code=Code(system="http://loinc.org", code="4548-4"),
        attributes={"value": "8.4", "unit": "%", "date": "03/11/2024"},
    )
    observation = only(one_entity_bundle(LAB_NOTE, entity), "Observation")
    assert observation["status"] == "final"
    assert coding_codes(observation["category"][0]) == ["laboratory"]
    assert observation["code"]["coding"][0] == {"system": "http://loinc.org", "code": "4548-4"}
    assert observation["valueQuantity"] == {
        "value": 8.4,
        "unit": "%",
        "system": "http://unitsofmeasure.org",
        "code": "%",
    }
    assert observation["effectiveDateTime"] == "2024-03-11"


def test_lab_unit_is_translated_to_ucum_and_comparator_kept() -> None:
    wcc = grounded(LAB_NOTE, "WCC", "lab", attributes={"value": "14.8", "unit": "x10^9/L"})
    assert only(one_entity_bundle(LAB_NOTE, wcc), "Observation")["valueQuantity"]["code"] == "10*9/L"
    troponin = grounded(LAB_NOTE, "Troponin", "lab", attributes={"value": "<5", "unit": "ng/L"})
    quantity = only(one_entity_bundle(LAB_NOTE, troponin), "Observation")["valueQuantity"]
    assert (quantity["comparator"], quantity["value"], quantity["code"]) == ("<", 5, "ng/L")


def test_lab_with_text_value_gets_value_string_and_no_code() -> None:
    entity = grounded(LAB_NOTE, "Blood cultures", "lab", attributes={"value": "no growth"})
    observation = only(one_entity_bundle(LAB_NOTE, entity), "Observation")
    assert observation["valueString"] == "no growth"
    assert "valueQuantity" not in observation
    assert observation["code"] == {"text": "Blood cultures"}


def test_lab_with_invalid_ucum_unit_keeps_unit_text_only() -> None:
    entity = grounded(LAB_NOTE, "WCC", "lab", attributes={"value": "14.8", "unit": "cells per jar"})
    quantity = only(one_entity_bundle(LAB_NOTE, entity), "Observation")["valueQuantity"]
    assert quantity == {"value": 14.8, "unit": "cells per jar"}


PROC_NOTE = "Appendectomy in 2009. CT angiogram was not performed."


@pytest.mark.parametrize(
    ("phrase", "assertion", "status", "date"),
    [
        ("Appendectomy", Assertion(historical=True), "completed", "2009"),
        ("CT angiogram", Assertion(negated=True), "not-done", None),
    ],
)
def test_procedure_status_and_date(phrase: str, assertion: Assertion, status: str, date: str | None) -> None:
    attributes = {"date": date} if date else {}
    entity = grounded(PROC_NOTE, phrase, "procedure", assertion=assertion, attributes=attributes)
    procedure = only(one_entity_bundle(PROC_NOTE, entity), "Procedure")
    assert procedure["status"] == status
    assert procedure.get("performedDateTime") == date


TUMOR_NOTE = "Invasive ductal carcinoma of the left breast, pT2 N1a M0, stage IIB, grade 3."


def test_tumor_becomes_condition_with_staging_histology_and_grade_observations() -> None:
    entity = grounded(
        TUMOR_NOTE,
        "Invasive ductal carcinoma of the left breast",
        "tumor",
        code=Code(system="http://hl7.org/fhir/sid/icd-10-cm", code="C50.912"),
        attributes={"tnm": "pT2 N1a M0, stage IIB", "histology": "invasive ductal carcinoma", "grade": "3"},
    )
    bundle = one_entity_bundle(TUMOR_NOTE, entity)
    condition = only(bundle, "Condition")
    condition_url = only_full_url(bundle, "Condition")
    observations = {o["code"]["coding"][0]["code"]: o for o in resources_of(bundle, "Observation")}
    # stage group (pathological), pT, pN, pM, histology, grade
    assert set(observations) == {"21902-2", "21899-0", "21900-6", "21901-4", "59847-4", "21858-6"}
    assert observations["21900-6"]["valueCodeableConcept"]["text"] == "N1a"
    assert observations["21902-2"]["valueCodeableConcept"]["text"] == "Stage IIB"
    assert observations["59847-4"]["valueCodeableConcept"]["text"] == "invasive ductal carcinoma"
    assert observations["21858-6"]["valueCodeableConcept"]["text"] == "3"
    assert all(o["focus"] == [{"reference": condition_url}] for o in observations.values())
    assert condition["stage"][0]["summary"]["text"] == "pT2 N1a M0, stage IIB"
    assessed = {a["reference"] for a in condition["stage"][0]["assessment"]}
    urls = {
        e["resource"]["code"]["coding"][0]["code"]: e["fullUrl"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
    }
    assert assessed == {urls[c] for c in ("21902-2", "21899-0", "21900-6", "21901-4")}
    # every tumor resource points back at the tumor's evidence span
    for resource in [condition, *observations.values()]:
        assert derivation(resource)["offset"] == entity.start


def test_unparseable_tnm_is_kept_as_text_and_negated_tumor_has_no_observations() -> None:
    note = "Carcinoma, staging pending. No evidence of lymphoma."
    staged = grounded(note, "Carcinoma", "tumor", attributes={"tnm": "pending review"})
    (observation,) = resources_of(one_entity_bundle(note, staged), "Observation")
    assert observation["code"] == {"text": "TNM classification"}
    assert observation["valueString"] == "pending review"
    refuted = grounded(
        note, "lymphoma", "tumor", assertion=Assertion(negated=True), attributes={"grade": "2"}
    )
    bundle = one_entity_bundle(note, refuted)
    assert resources_of(bundle, "Observation") == []
    assert coding_codes(only(bundle, "Condition")["verificationStatus"]) == ["refuted"]


def test_derivation_reference_offset_and_length_equal_the_entity_span() -> None:
    note = LETTER.read_text(encoding="utf-8")
    phrases = {
        "pulmonary embolism": "condition",
        "Metformin": "medication",
        "HbA1c": "lab",
        "appendectomy": "procedure",
    }
    entities = [grounded(note, phrase, kind, confidence=0.8) for phrase, kind in phrases.items()]
    bundle = document_to_bundle(Document(text=note, id="letter", entities=entities))
    validate_bundle(bundle)
    reference = only(bundle, "DocumentReference")
    attachment = reference["content"][0]["attachment"]
    assert attachment["contentType"] == "text/plain; charset=utf-8"
    decoded = base64.b64decode(attachment["data"]).decode("utf-8")
    assert decoded == note
    extracted = [e["resource"] for e in bundle["entry"][2:]]
    assert len(extracted) == len(entities)
    for resource, entity in zip(extracted, entities, strict=True):
        parts = derivation(resource)
        assert parts["reference"] == {"reference": only_full_url(bundle, "DocumentReference")}
        assert (parts["offset"], parts["length"]) == (entity.start, len(entity.text))
        assert decoded[parts["offset"] : parts["offset"] + parts["length"]] == entity.text
        assert [e["valueDecimal"] for e in extension(resource, CONFIDENCE)] == [0.8]


def test_ungrounded_entity_keeps_reference_but_no_offset() -> None:
    entity = Entity(type="condition", text="heart failure", alignment="none", confidence=0.4)
    condition = only(one_entity_bundle("Short note.", entity), "Condition")
    parts = derivation(condition)
    assert "offset" not in parts and "length" not in parts
    assert parts["reference"]["reference"].startswith("urn:uuid:")


def test_transaction_bundle_posts_every_entry_and_references_resolve() -> None:
    entities = [
        grounded(TUMOR_NOTE, "Invasive ductal carcinoma", "tumor", attributes={"tnm": "pT2 N1a M0"}),
        grounded(TUMOR_NOTE, "left breast", "procedure"),
    ]
    bundle = document_to_bundle(
        Document(text=TUMOR_NOTE, id="t", entities=entities), bundle_type="transaction"
    )
    validate_bundle(bundle)
    assert bundle["type"] == "transaction"
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    assert all(url.startswith("urn:uuid:") for url in full_urls)
    for entry in bundle["entry"]:
        assert entry["request"] == {"method": "POST", "url": entry["resource"]["resourceType"]}
    references = [ref for e in bundle["entry"] for ref in _references(e["resource"])]
    assert len(references) > 10
    assert set(references) <= full_urls


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "reference" and isinstance(v, str)] + [
            r for k, v in node.items() if k != "reference" for r in _references(v)
        ]
    if isinstance(node, list):
        return [r for item in node for r in _references(item)]
    return []


def test_given_patient_is_used_and_put_by_id_in_transactions() -> None:
    patient = {"resourceType": "Patient", "id": "p-1", "gender": "female"}
    doc = Document(text=NOTE, id="n", patient=patient, entities=[grounded(NOTE, "Pneumonia", "condition")])
    bundle = document_to_bundle(doc, bundle_type="transaction")
    validate_bundle(bundle)
    (entry,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert entry["resource"] == patient
    assert entry["request"] == {"method": "PUT", "url": "Patient/p-1"}
    placeholder = only(document_to_bundle(Document(text=NOTE, id="n")), "Patient")
    assert placeholder["meta"]["tag"][0]["code"] == "placeholder"


def test_bundle_is_deterministic_and_ids_depend_on_document_id() -> None:
    entity = grounded(NOTE, "Pneumonia", "condition")
    first = document_to_bundle(Document(text=NOTE, id="a", entities=[entity]))
    again = document_to_bundle(Document(text=NOTE, id="a", entities=[entity]))
    other = document_to_bundle(Document(text=NOTE, id="b", entities=[entity]))
    assert first == again
    assert {e["fullUrl"] for e in first["entry"]}.isdisjoint(e["fullUrl"] for e in other["entry"])


def test_document_to_fhir_uses_the_registered_exporter() -> None:
    doc = Document(text=NOTE, id="n", entities=[grounded(NOTE, "Pneumonia", "condition")])
    assert doc.to_fhir(bundle_type="transaction") == document_to_bundle(doc, bundle_type="transaction")


def test_unknown_bundle_type_is_a_config_error() -> None:
    with pytest.raises(Exception, match="unknown bundle type 'batch'"):
        document_to_bundle(Document(text=NOTE), bundle_type="batch")


def test_validate_bundle_reports_invalid_resources_without_values() -> None:
    secret = "Patient has a secret diagnosis"
    bundle = document_to_bundle(
        Document(
            text=secret, id="n", entities=[Entity(type="condition", text=secret, start=0, end=len(secret))]
        )
    )
    bundle["entry"][2]["resource"]["verificationStatus"] = {"coding": [{"code": 5}]}
    bundle["entry"][2]["resource"]["code"]["text"] = ["not", secret]
    with pytest.raises(FHIRError) as caught:
        validate_bundle(bundle)
    message = str(caught.value)
    assert "entry[2].resource.code.text" in message
    assert "secret" not in message


def test_validate_bundle_reports_dangling_references() -> None:
    bundle = document_to_bundle(
        Document(text=NOTE, id="n", entities=[grounded(NOTE, "Pneumonia", "condition")])
    )
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Patient"]
    with pytest.raises(FHIRError, match="is not in the bundle"):
        validate_bundle(bundle)


def test_negated_family_condition_says_so_in_the_condition_note() -> None:
    note = "No family history of colon cancer in his father."
    entity = grounded(note, "colon cancer", "condition", assertion=Assertion(family=True, negated=True))
    history = only(one_entity_bundle(note, entity), "FamilyMemberHistory")
    assert coding_codes(history["relationship"]) == ["FTH"]
    assert "negated" in history["condition"][0]["note"][0]["text"]
    assert [e["valueCode"] for e in extension(history, ASSERTION)] == ["negated", "family"]
