"""Notes from FHIR input: DocumentReference, Bundle, and clear errors for malformed input."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from clinex import FHIRError
from clinex.fhir import FhirNote, notes_from_fhir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fhir"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_document_reference_gives_text_id_and_patient_reference() -> None:
    (note,) = notes_from_fhir(load("docref_note.json"), source="docref_note.json")
    assert isinstance(note, FhirNote)
    assert note.id == "docref-17"
    assert note.text == "Patient on Metformin. No evidence of pulmonary embolism.\n"
    assert note.patient == {"resourceType": "Patient", "id": "p-42"}


def test_bundle_gives_every_note_with_its_patient() -> None:
    bundle = load("bundle_two_notes.json")
    notes = notes_from_fhir(bundle, source="b.json")
    assert [n.id for n in notes if isinstance(n, FhirNote)] == ["note-a", "note-b"]
    patient = bundle["entry"][0]["resource"]
    # one note refers to the Patient by fullUrl, the other by Patient/<id>: both resolve
    assert all(isinstance(n, FhirNote) and n.patient == patient for n in notes)
    assert [n.where for n in notes if isinstance(n, FhirNote)] == ["entry[1]", "entry[2]"]


def test_declared_charset_is_honoured() -> None:
    resource = load("docref_note.json")
    attachment = resource["content"][0]["attachment"]
    attachment["contentType"] = "text/plain; charset=iso-8859-1"
    attachment["data"] = base64.b64encode("Café au lait spots.".encode("latin-1")).decode()
    (note,) = notes_from_fhir(resource, source="x")
    assert isinstance(note, FhirNote) and note.text == "Café au lait spots."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["content"][0]["attachment"].update(data="@@not base64@@"), "attachment.data: base64"),
        (
            lambda r: r["content"][0]["attachment"].update(contentType="application/pdf"),
            "no text/plain attachment",
        ),
        (lambda r: r["content"][0]["attachment"].pop("data"), "no text/plain attachment"),
        (lambda r: r.update(subject="Patient/p-42"), "DocumentReference: subject"),
        (
            lambda r: r["content"][0]["attachment"].update(contentType="text/plain; charset=klingon"),
            "unknown charset",
        ),
    ],
)
def test_bad_document_reference_is_an_error_record(change: Any, message: str) -> None:
    resource = load("docref_note.json")
    change(resource)
    (result,) = notes_from_fhir(resource, source="in.json")
    assert isinstance(result, FHIRError)
    assert message in str(result)
    assert "in.json" in str(result)


def test_one_bad_note_in_a_bundle_leaves_the_others() -> None:
    bundle = load("bundle_two_notes.json")
    bundle["entry"][1]["resource"]["content"][0]["attachment"]["data"] = "%%%"
    results = notes_from_fhir(bundle, source="b.json")
    assert isinstance(results[0], FHIRError) and "entry[1]" in str(results[0])
    assert isinstance(results[1], FhirNote) and results[1].id == "note-b"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"resourceType": "Patient", "id": "x"}, "found resourceType 'Patient'"),
        ({"text": "no resource type"}, "found no resourceType"),
        ([1, 2], "found no resourceType"),
        ({"resourceType": "Bundle", "type": "collection", "entry": []}, "holds no DocumentReference"),
    ],
)
def test_non_note_fhir_raises(value: Any, message: str) -> None:
    with pytest.raises(FHIRError, match=message):
        notes_from_fhir(copy.deepcopy(value), source="in.json")
