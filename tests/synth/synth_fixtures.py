"""A hand-written FHIR patient for the synth tests (imported by conftest and tests)."""

from __future__ import annotations

import uuid
from typing import Any

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"


def _id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


#: The Organization every hand-written patient's encounter is provided by.
HOSPITAL = _id("riverside-general")


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def oncology_bundle(patient: str = "p1") -> dict[str, Any]:
    """A patient with diabetes, hypertension, a resolved pneumonia and a staged colon cancer."""
    pid, enc = _id(patient), _id(patient + "-enc")
    subject = {"reference": f"urn:uuid:{pid}"}

    def condition(
        key: str, system: str, code: str, display: str, onset: str, abated: str | None = None
    ) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "id": _id(patient + key),
            "subject": subject,
            "code": {"coding": [{"system": system, "code": code, "display": display}]},
            "onsetDateTime": onset,
        }
        if abated:
            resource["abatementDateTime"] = abated
        return resource

    def lab(key: str, code: str, display: str, value: float, unit: str, when: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": _id(patient + key),
            "status": "final",
            "subject": subject,
            "category": [{"coding": [{"code": "laboratory"}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": unit, "code": unit},
        }

    def staging(key: str, code: str, value: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": _id(patient + key),
            "status": "final",
            "subject": subject,
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "valueCodeableConcept": {"text": value},
        }

    resources = [
        {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1955-04-02"},
        {
            "resourceType": "Encounter",
            "id": enc,
            "status": "finished",
            "subject": subject,
            "class": {"code": "IMP"},
            "period": {"start": "2024-03-01T08:00:00Z", "end": "2024-03-09T12:00:00Z"},
            "serviceProvider": {"reference": f"urn:uuid:{HOSPITAL}"},
        },
        {"resourceType": "Organization", "id": HOSPITAL, "name": "Riverside General Hospital"},
        condition("dm", SNOMED, "44054006", "Diabetes mellitus type 2 (disorder)", "2015-01-01"),
        condition("htn", SNOMED, "59621000", "Essential hypertension (disorder)", "2012-05-01"),
        condition("pneu", SNOMED, "233604007", "Pneumonia (disorder)", "2019-01-01", "2019-02-01"),
        condition("crc", ICD10, "C18.9", "Malignant neoplasm of colon, unspecified", "2024-02-20"),
        condition("job", SNOMED, "160903007", "Full-time employment (finding)", "2010-01-01"),
        {
            "resourceType": "MedicationRequest",
            "id": _id(patient + "met"),
            "status": "active",
            "intent": "order",
            "subject": subject,
            "authoredOn": "2020-01-01",
            "medicationCodeableConcept": {
                "coding": [
                    {
                        "system": RXNORM,
                        "code": "861007",
                        "display": "Metformin hydrochloride 500 MG Oral Tablet",
                    }
                ]
            },
            "dosageInstruction": [
                {
                    "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                    "doseAndRate": [{"doseQuantity": {"value": 2}}],
                }
            ],
        },
        {
            "resourceType": "MedicationRequest",
            "id": _id(patient + "lis"),
            "status": "active",
            "intent": "order",
            "subject": subject,
            "authoredOn": "2021-01-01",
            "medicationCodeableConcept": {
                "coding": [{"system": RXNORM, "code": "314076", "display": "lisinopril 10 MG Oral Tablet"}]
            },
            "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}}],
        },
        lab("a1c", "4548-4", "Hemoglobin A1c", 7.4, "%", "2024-03-02"),
        lab("glu", "2345-7", "Glucose", 142.0, "mg/dL", "2024-03-03"),
        lab("hb", "718-7", "Hemoglobin", 10.9, "g/dL", "2024-03-03"),
        staging("t", "21905-5", "pT3"),
        staging("n", "21906-3", "pN1"),
        staging("m", "21907-1", "M0"),
        staging("hist", "59847-4", "Adenocarcinoma"),
        staging("g", "21858-6", "G2"),
        {
            "resourceType": "Procedure",
            "id": _id(patient + "colo"),
            "status": "completed",
            "subject": subject,
            "code": {
                "coding": [{"system": SNOMED, "code": "73761001", "display": "Colonoscopy (procedure)"}]
            },
            "performedDateTime": "2024-03-04T10:00:00Z",
        },
        {
            "resourceType": "Procedure",
            "id": _id(patient + "appy"),
            "status": "completed",
            "subject": subject,
            "code": {
                "coding": [{"system": SNOMED, "code": "80146002", "display": "Appendectomy (procedure)"}]
            },
            "performedDateTime": "1990-06-01T10:00:00Z",
        },
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": [_entry(r) for r in resources]}
