"""The service as a real HTTP server on 127.0.0.1 started through the CLI, with a key made by
`clinex keys create`: status routes, POST /extract, bad requests, body limit."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local_ports import free_port

NOTE = "Diagnosis: essential hypertension. No evidence of pneumonia. Metformin 500 mg p.o. bid."


def clinex(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clinex.cli", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    db = tmp_path_factory.mktemp("http") / "service.db"
    made = clinex("keys", "create", "--name", "client", "--role", "reviewer", "--db", str(db))
    assert made.returncode == 0, made.stderr
    key = {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}
    admin = clinex("keys", "create", "--name", "admin", "--role", "admin", "--db", str(db))
    key["X-Admin"] = admin.stdout.strip().splitlines()[-1]  # read by the tests, ignored by the server
    port = free_port()
    log = db.parent / "server.log"
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "clinex.cli", "serve", "--port", str(port), "--extractor", "rules",
             "--db", str(db), "--set", "calibration=none", "--set", "max_body_bytes=100000"],
            env=env, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert proc.poll() is None, log.read_text()
            time.sleep(0.3)
        else:
            pytest.fail("server did not get ready within 120 s")
        yield url, key, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_health_and_ready(server: tuple[str, dict[str, str], Path]) -> None:
    url, _, _ = server
    assert httpx.get(f"{url}/health").json()["status"] == "ok"
    body = httpx.get(f"{url}/ready").json()
    assert body["status"] == "ok" and body["extractor"] == "rules.v2"


def test_extract_returns_a_valid_fhir_bundle(server: tuple[str, dict[str, str], Path]) -> None:
    from clinex.fhir.validate import validate_bundle

    url, key, _ = server
    response = httpx.post(f"{url}/extract", json={"id": "n1", "text": NOTE}, headers=key, timeout=120)
    assert response.status_code == 200
    bundle = response.json()
    validate_bundle(bundle)
    types = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {"DocumentReference", "Patient", "Condition", "MedicationStatement"} <= types


def test_extract_jsonl_form_is_grounded_and_min_confidence_filters(
    server: tuple[str, dict[str, str], Path],
) -> None:
    url, key, _ = server

    def entities(threshold: float) -> list[dict[str, object]]:
        body = {"id": "n2", "text": NOTE, "format": "jsonl", "min_confidence": threshold}
        response = httpx.post(f"{url}/extract", json=body, headers=key, timeout=120)
        assert response.status_code == 200
        found: list[dict[str, object]] = response.json()["entities"]
        return found

    everything = entities(0.0)
    assert everything, "the rules extractor found nothing in a note with three facts"
    for entity in everything:
        assert NOTE[entity["start"] : entity["end"]] == entity["text"]  # type: ignore[misc]
    assert entities(0.9) == [e for e in everything if float(str(e["confidence"])) >= 0.9]
    too_high = httpx.post(
        f"{url}/extract", json={"text": NOTE, "min_confidence": 2}, headers=key, timeout=120
    )
    assert too_high.status_code == 422 and "min_confidence" in too_high.json()["error"]["message"]


def test_bad_requests_get_clear_errors_without_note_text(server: tuple[str, dict[str, str], Path]) -> None:
    url, key, log = server
    empty = httpx.post(f"{url}/extract", json={"id": "blank", "text": "   "}, headers=key, timeout=120)
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "E101"
    shapeless = httpx.post(f"{url}/extract", json={"txt": NOTE}, headers=key, timeout=120)
    assert shapeless.status_code == 422
    error = shapeless.json()["error"]
    assert "body.text: Field required" in error["message"] and "body.txt" in error["message"]
    assert NOTE not in shapeless.text
    big = httpx.post(f"{url}/extract", json={"text": "x" * 200_000}, headers=key, timeout=120)
    assert big.status_code == 413 and big.json()["error"]["code"] == "E903"
    assert "hypertension" not in log.read_text(), "the server's log holds note text"


def test_a_whole_review_session_leaves_no_note_text_in_the_log(
    server: tuple[str, dict[str, str], Path],
) -> None:
    url, key, log = server
    reviewer = {"Authorization": key["Authorization"]}
    admin = {"Authorization": f"Bearer {key['X-Admin']}"}
    secret = "Zebulon Quixotefield, born 1950, has essential hypertension. Metformin 500 mg bid."
    job = httpx.post(
        f"{url}/jobs?id=secret", content=secret.encode(), headers={**reviewer, "Content-Type": "text/plain"}
    )
    assert job.status_code == 202
    deadline = time.monotonic() + 60
    while httpx.get(f"{url}/jobs/{job.json()['job_id']}", headers=reviewer).json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    doc = httpx.get(f"{url}/documents/secret", headers=reviewer).json()
    assert doc["text"] == secret and doc["facts"]
    fact = doc["facts"][0]
    headers = {**reviewer, "If-Match": f'"{fact["version"]}"'}
    assert (
        httpx.post(
            f"{url}/facts/{fact['id']}/decisions", json={"action": "accept"}, headers=headers
        ).status_code
        == 200
    )
    stale = httpx.post(f"{url}/facts/{fact['id']}/decisions", json={"action": "reject"}, headers=headers)
    assert stale.status_code == 409
    bad = httpx.post(
        f"{url}/documents/secret/facts",
        json={"type": "condition", "start": 0, "end": 7, "text": "Quixote"},
        headers=reviewer,
    )
    assert bad.status_code == 422 and "Zebulon" not in bad.text
    assert httpx.get(f"{url}/export?format=fhir", headers=admin).status_code == 200
    assert httpx.get(f"{url}/documents/secret/fhir", headers=reviewer).status_code == 200
    assert (
        httpx.post(
            f"{url}/jobs?id=secret", content=b"\xff\xfe", headers={**reviewer, "Content-Type": "text/plain"}
        ).status_code
        == 400
    )
    written = log.read_text()
    assert "job" in written, "the server logged nothing to check"
    assert "Zebulon" not in written and "Quixotefield" not in written and "hypertension" not in written
