"""Document.meta ↔ Provenance + Device: written into every Bundle with meta, and read back."""

from __future__ import annotations

import json
from typing import Any

import pytest

import clinex
from clinex.core.errors import FHIRError
from clinex.core.types import Document, Entity
from clinex.fhir import bundle_to_document, document_to_bundle, validate_bundle
from clinex.fhir.extensions import RUN_META

NOTE = "Metformin 500 mg twice daily. No chest pain."
META: dict[str, Any] = {
    "extractor": "encoder.v2",
    "model": {"name": "clinex-encoder-minilm", "version": "3", "checksum": "sha256:0a1b2c"},
    "assertion": {"by": "pipeline", "layer": "learned", "model_sha256": "e7d5"},
    "terminologies": {"icd10cm": "simple-icd-10-cm 1.5.0", "rxnorm": "clinex RxNorm subset sha256:6b49"},
    "clinex_version": "0.1.0",
    "min_confidence": 0.5,
}


def document(doc_id: str = "n1", meta: dict[str, Any] | None = None, *, entities: bool = True) -> Document:
    found = [
        Entity(type="medication", text="Metformin", start=0, end=9),
        Entity(type="condition", text="chest pain", start=33, end=43),
    ]
    return Document(
        text=NOTE, id=doc_id, entities=found if entities else [], meta=META if meta is None else meta
    )


def by_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
def test_meta_becomes_a_provenance_of_every_extracted_resource(bundle_type: str) -> None:
    bundle = document_to_bundle(document(), bundle_type=bundle_type)
    validate_bundle(bundle)
    *_, device_entry, provenance_entry = bundle["entry"]
    assert device_entry["resource"]["resourceType"] == "Device"
    provenance = provenance_entry["resource"]
    assert provenance["resourceType"] == "Provenance"
    extracted = [e["fullUrl"] for e in bundle["entry"][2:-2]]
    assert len(extracted) == 2
    assert [t["reference"] for t in provenance["target"]] == extracted
    (note,) = by_type(bundle, "DocumentReference")
    assert provenance["entity"] == [{"role": "source", "what": {"reference": note["fullUrl"]}}]
    (agent,) = provenance["agent"]
    assert agent["who"] == {"reference": device_entry["fullUrl"]}
    assert agent["type"]["coding"][0]["code"] == "author"
    # No clock time (the bundle must be reproducible): recorded says why it has no value.
    assert "recorded" not in provenance and "occurredDateTime" not in provenance
    assert provenance["_recorded"]["extension"][0]["valueCode"] == "unsupported"


def test_device_names_the_software_and_model_and_carries_the_whole_meta() -> None:
    (entry,) = by_type(document_to_bundle(document()), "Device")
    device = entry["resource"]
    assert device["deviceName"] == [
        {"name": "clinex encoder.v2", "type": "user-friendly-name"},
        {"name": "clinex-encoder-minilm", "type": "model-name"},
    ]
    versions = {v["type"]["text"]: v["value"] for v in device["version"]}
    assert versions == {
        "clinex": "0.1.0",
        "extractor": "encoder.v2",
        "model version": "3",
        "model checksum": "sha256:0a1b2c",
    }
    (run,) = [e["valueString"] for e in device["extension"] if e["url"] == RUN_META]
    assert json.loads(run) == META
    assert '": ' not in run and '", "' not in run  # compact JSON


def test_meta_is_read_back_exactly() -> None:
    assert bundle_to_document(document_to_bundle(document()), default_id="x").meta == META
    nothing_found = document_to_bundle(document(entities=False))
    validate_bundle(nothing_found)
    (provenance,) = by_type(nothing_found, "Provenance")
    (note,) = by_type(nothing_found, "DocumentReference")
    assert provenance["resource"]["target"] == [{"reference": note["fullUrl"]}]  # "found nothing" is a result
    assert bundle_to_document(nothing_found, default_id="x").meta == META


def test_notes_of_one_run_share_one_device_which_a_transaction_puts() -> None:
    first = document_to_bundle(document("a"), bundle_type="transaction")
    second = document_to_bundle(document("b"), bundle_type="transaction")
    assert first == document_to_bundle(document("a"), bundle_type="transaction")  # deterministic
    (device_a,), (device_b,) = by_type(first, "Device"), by_type(second, "Device")
    assert device_a == device_b
    assert device_a["request"] == {"method": "PUT", "url": f"Device/{device_a['resource']['id']}"}
    (provenance_a,), (provenance_b,) = by_type(first, "Provenance"), by_type(second, "Provenance")
    assert provenance_a["fullUrl"] != provenance_b["fullUrl"]
    assert provenance_a["request"] == {"method": "POST", "url": "Provenance"}
    other_model = document_to_bundle(document("a", {**META, "model": {"checksum": "sha256:ffff"}}))
    (device_other,) = by_type(other_model, "Device")
    assert device_other["fullUrl"] != device_a["fullUrl"]


def test_meta_without_software_names_gives_a_device_without_versions() -> None:
    bundle = document_to_bundle(document(meta={"writer": "template.v1", "split": "test"}))
    validate_bundle(bundle)
    (entry,) = by_type(bundle, "Device")
    assert entry["resource"]["deviceName"] == [{"name": "clinex", "type": "user-friendly-name"}]
    assert "version" not in entry["resource"]  # FHIR JSON has no empty arrays
    assert bundle_to_document(bundle, default_id="x").meta == {"writer": "template.v1", "split": "test"}


def test_a_document_without_meta_gets_no_provenance() -> None:
    bundle = document_to_bundle(document(meta={}))
    assert by_type(bundle, "Provenance") == [] and by_type(bundle, "Device") == []
    assert bundle_to_document(bundle, default_id="x").meta == {}


def test_meta_that_is_not_json_is_an_error_naming_the_note() -> None:
    with pytest.raises(FHIRError, match=r"Document.meta of note 'n1' is not JSON \(TypeError\)"):
        document_to_bundle(document(meta={"extractor": "x", "threshold": {0.5}}))


def test_the_pipeline_meta_travels_through_the_bundle(fixed_extractor_name: str) -> None:
    doc = clinex.extract("Metformin 1000 mg orally twice daily.", extractor=fixed_extractor_name)
    assert doc.meta["extractor"] == "fixed.v1"
    bundle = doc.to_fhir()
    validate_bundle(bundle)
    assert bundle_to_document(bundle, default_id="x").meta == doc.meta
