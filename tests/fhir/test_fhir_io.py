"""One walker for FHIR JSON files and Bundles, and one reference resolver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clinex.core.errors import FHIRError
from clinex.fhir.io import BundleEntry, JsonProblem, JsonRecord, References, bundle_entries, read_json_file

PATIENT = {"resourceType": "Patient", "id": "p1"}
CONDITION = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}


def test_a_json_file_is_one_value(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(PATIENT, indent=2), encoding="utf-8")
    assert list(read_json_file(path)) == [JsonRecord("b.json", PATIENT)]


@pytest.mark.parametrize("name", ["r.ndjson", "r.jsonl", "stdout-saved.json"])
def test_ndjson_is_one_value_a_line_and_a_bad_line_is_named(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(f"{json.dumps(PATIENT)}\n\n{{not json\n{json.dumps(CONDITION)}\n", encoding="utf-8")
    assert list(read_json_file(path)) == [
        JsonRecord(f"{name}:1", PATIENT),
        JsonProblem(f"{name}:3", "malformed JSON"),
        JsonRecord(f"{name}:4", CONDITION),
    ]


def test_a_truncated_json_file_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "resourceType": "Bundle",\n  "entry": [\n', encoding="utf-8")
    assert list(read_json_file(path)) == [JsonProblem("broken.json", "malformed JSON")]


def test_bytes_that_are_not_utf8_are_a_problem_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b'{"text": "caf\xe9"}')
    (tmp_path / "b.ndjson").write_bytes(b'{"id": 1}\n{"text": "caf\xe9"}\n')
    assert list(read_json_file(tmp_path / "a.json")) == [JsonProblem("a.json", "not UTF-8 text")]
    *_, last = read_json_file(tmp_path / "b.ndjson")
    assert isinstance(last, JsonProblem) and last.reason == "not UTF-8 text"


def test_bundle_entries_keep_positions_and_mark_entries_without_a_resource() -> None:
    bundle = {"entry": [{"fullUrl": "urn:uuid:1", "resource": PATIENT}, {"fullUrl": "urn:uuid:2"}, "junk"]}
    assert bundle_entries(bundle, where="b") == [
        BundleEntry(0, "urn:uuid:1", PATIENT),
        BundleEntry(1, "urn:uuid:2", None),
        BundleEntry(2, None, None),
    ]
    with pytest.raises(FHIRError, match=r"b\.json: Bundle\.entry is not a list"):
        bundle_entries({"entry": {"resource": PATIENT}}, where="b.json")


def test_references_resolve_by_full_url_type_and_id_and_uuid() -> None:
    uuid = "4f0c8f4e-5c1a-4f55-9d59-2a7c7a1f8d11"
    found = {"resourceType": "Patient", "id": uuid}
    references = References(
        [
            BundleEntry(0, "urn:uuid:aaa", PATIENT),
            BundleEntry(1, None, CONDITION),
            BundleEntry(2, None, found),
        ]
    )
    assert references.resolve({"reference": "urn:uuid:aaa"}) is PATIENT
    assert references.resolve("Patient/p1") is PATIENT
    assert references.resolve("https://server.example/fhir/Patient/p1") is PATIENT
    assert references.resolve({"reference": "Condition/c1"}) is CONDITION
    assert references.resolve(f"urn:uuid:{uuid}") is found  # Synthea/clinex: id = the fullUrl's uuid
    assert references.resolve("Condition/p1") is None  # the type is part of the reference
    assert references.resolve({"display": "no reference"}) is None


def test_a_later_resource_replaces_an_earlier_one_but_never_an_explicit_full_url() -> None:
    first = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    references = References([BundleEntry(0, None, PATIENT), BundleEntry(1, None, first)])
    assert references.resolve("Patient/p1") is first
    named = {"resourceType": "Patient", "id": "x"}
    references.add(named, full_url="urn:uuid:p1")
    references.add({"resourceType": "Observation", "id": "p1"})
    assert references.resolve("urn:uuid:p1") is named
