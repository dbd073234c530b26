"""The service, as a real HTTP server on 127.0.0.1 started through the CLI."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from local_ports import free_port

NOTE = "Diagnosis: essential hypertension. No evidence of pneumonia. Metformin 500 mg p.o. bid."


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "clinex.cli", "serve", "--port", str(port), "--extractor", "rules"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "server exited"
                time.sleep(0.3)
        else:
            pytest.fail("server did not start within 120 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()


def test_health_lists_extractors_and_the_loaded_default(server: str) -> None:
    body = httpx.get(f"{server}/health").json()
    assert body["status"] == "ok"
    assert body["extractor"] == "rules.v2"
    assert "rules" in body["extractors"]


def test_extract_returns_a_valid_fhir_bundle(server: str) -> None:
    from clinex.fhir.validate import validate_bundle

    response = httpx.post(
        f"{server}/extract", json={"id": "n1", "text": NOTE, "extractor": "rules"}, timeout=120
    )
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle"
    validate_bundle(bundle)
    types = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {"DocumentReference", "Patient", "Condition", "MedicationStatement"} <= types


def test_extract_jsonl_form_is_grounded(server: str) -> None:
    response = httpx.post(
        f"{server}/extract",
        json={"id": "n2", "text": NOTE, "extractor": "rules", "format": "jsonl"},
        timeout=120,
    )
    record = response.json()
    assert record["id"] == "n2"
    assert record["entities"], "the rules extractor found nothing in a note with three facts"
    for entity in record["entities"]:
        assert NOTE[entity["start"] : entity["end"]] == entity["text"]


def test_bad_requests_get_clear_errors_without_note_text(server: str) -> None:
    # Requests naming no extractor wait for the default one to load: give them time on a busy CPU.
    empty = httpx.post(f"{server}/extract", json={"id": "blank", "text": "   "}, timeout=120)
    assert empty.status_code == 400
    assert empty.json()["error"]["code"] == "E101"
    unknown = httpx.post(f"{server}/extract", json={"text": NOTE, "extractor": "magic"}, timeout=120)
    assert unknown.status_code == 400
    assert "magic" in unknown.json()["error"]["message"]
    assert NOTE not in unknown.text
    shapeless = httpx.post(f"{server}/extract", json={"txt": NOTE}, timeout=120)
    assert shapeless.status_code == 422
    error = shapeless.json()["error"]
    assert "body.text: Field required" in error["message"] and "body.txt" in error["message"]
    assert "'text'" in error["hint"]
    assert NOTE not in shapeless.text


def test_min_confidence_filters_the_answer_and_is_range_checked(server: str) -> None:
    def entities(threshold: float) -> list[dict[str, object]]:
        body = {"text": NOTE, "extractor": "rules", "format": "jsonl", "min_confidence": threshold}
        response = httpx.post(f"{server}/extract", json=body, timeout=120)
        assert response.status_code == 200
        found: list[dict[str, object]] = response.json()["entities"]
        return found

    everything = entities(0.0)
    assert entities(0.9) == [e for e in everything if float(str(e["confidence"])) >= 0.9]
    assert entities(1.0) == [e for e in everything if e["confidence"] == 1.0]
    too_high = httpx.post(f"{server}/extract", json={"text": NOTE, "min_confidence": 2}, timeout=120)
    assert too_high.status_code == 422
    assert "min_confidence" in too_high.json()["error"]["message"]
