"""`clinex extract` with the real rules extractor on the bundled example letter."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clinex.cli.app import app
from clinex.fhir import validate_bundle
from clinex.fhir.extensions import DERIVATION_REFERENCE

LETTER = Path(__file__).resolve().parents[2] / "examples" / "discharge_letter.txt"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("rules") / "letter.fhir.json"
    result = CliRunner().invoke(app, ["extract", str(LETTER), "--extractor", "rules", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    value: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return value


def extracted(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] not in ("Patient", "DocumentReference", "Provenance", "Device")
    ]


def written_text(resource: dict[str, Any]) -> str:
    """The entity text as the mappers keep it (CodeableConcept.text)."""
    if resource["resourceType"] == "FamilyMemberHistory":
        return str(resource["condition"][0]["code"]["text"])
    concept = resource.get("medicationCodeableConcept") or resource["code"]
    return str(concept["text"])


def test_default_extractor_bundle_validates_and_spans_point_at_the_note(bundle: dict[str, Any]) -> None:
    validate_bundle(bundle)
    reference = bundle["entry"][1]["resource"]
    note = base64.b64decode(reference["content"][0]["attachment"]["data"]).decode("utf-8")
    assert note == LETTER.read_text(encoding="utf-8")
    resources = extracted(bundle)
    assert {r["resourceType"] for r in resources} >= {"Condition", "MedicationStatement", "Observation"}
    for resource in resources:
        (derivation,) = [x for x in resource["extension"] if x["url"] == DERIVATION_REFERENCE]
        parts = {p["url"]: p for p in derivation["extension"]}
        if "offset" in parts and "focus" not in resource:  # tumor observations: code is not the text
            start, length = parts["offset"]["valueInteger"], parts["length"]["valueInteger"]
            assert note[start : start + length] == written_text(resource)


def test_default_extractor_refutes_the_negated_embolism(bundle: dict[str, Any]) -> None:
    conditions = [r for r in extracted(bundle) if r["resourceType"] == "Condition"]
    embolism = [c for c in conditions if "embolism" in c["code"].get("text", "").lower()]
    assert embolism, "the letter says 'no evidence of pulmonary embolism'"
    assert all(c["verificationStatus"]["coding"][0]["code"] == "refuted" for c in embolism)


def test_default_extractor_puts_the_mothers_cancer_in_family_history(bundle: dict[str, Any]) -> None:
    histories = [r for r in extracted(bundle) if r["resourceType"] == "FamilyMemberHistory"]
    mothers = [h for h in histories if h["relationship"]["coding"][0]["code"] == "MTH"]
    assert any("breast cancer" in h["condition"][0]["code"]["text"].lower() for h in mothers)
