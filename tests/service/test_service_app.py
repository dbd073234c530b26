"""The service in-process (starlette's TestClient runs the app's lifespan): the status of each
error class, /ready while the workers load the extractor or after it failed to load, unknown
fields and bad Patients refused on POST /extract."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gated_stub import GATE_ENV
from review_service import keys_for

from clinex.core.errors import (
    AuthenticationError,
    BackendError,
    BodyTooLargeError,
    ClinexError,
    ConfigError,
    ConflictError,
    ContextLengthError,
    EmptyNoteError,
    ExtractionTimeoutError,
    FHIRError,
    InputError,
    InternalError,
    ModelError,
    NotFoundError,
    OutputParseError,
    PermissionDeniedError,
    ReviewOpenError,
    StaleVersionError,
    TooBusyError,
    UnknownCodeError,
    UnknownNameError,
)
from clinex.service.app import create_app
from clinex.service.errors import status_of
from clinex.service.settings import ServiceSettings

NOTE = "Secret Person: no evidence of pneumonia. Metformin 500 mg."
GATED = {"gated.v1": "gated_stub:GatedExtractor"}


class PluginBackendError(BackendError):
    code = "E599"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InputError("x"), 400),
        (EmptyNoteError("x"), 400),
        (ConfigError("x"), 400),
        (UnknownNameError("x"), 400),
        (FHIRError("x"), 400),
        (OutputParseError("x"), 502),
        (BackendError("x"), 502),
        (PluginBackendError("x"), 502),  # an unlisted subclass takes its base's status
        (ContextLengthError("x"), 413),
        (ModelError("x"), 500),
        (InternalError("x"), 500),
        (ClinexError("x"), 500),
        (NotFoundError("x"), 404),
        (ConflictError("x"), 409),
        (StaleVersionError("x", current=None), 409),
        (ReviewOpenError("x"), 409),
        (UnknownCodeError("x", nearest=[]), 422),
        (AuthenticationError("x"), 401),
        (PermissionDeniedError("x"), 403),
        (BodyTooLargeError("x"), 413),
        (TooBusyError("x", retry_after=3), 429),
        (ExtractionTimeoutError("x"), 504),
    ],
)
def test_each_error_class_has_its_status(error: ClinexError, status: int) -> None:
    assert status_of(error) == status


def wait_ready(client: TestClient, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get("/ready").json()
        if body["status"] == status:
            return body
        time.sleep(0.1)
    raise AssertionError(f"/ready never said {status!r}")


@pytest.fixture()
def gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "gate"
    monkeypatch.setenv(GATE_ENV, str(path))
    return path


def test_ready_says_loading_until_the_workers_loaded_while_health_is_up(tmp_path: Path, gate: Path) -> None:
    app = create_app(
        ServiceSettings(db=str(tmp_path / "s.db"), extractor="gated.v1", calibration="none"), plugins=GATED
    )
    key = keys_for(app)["dr-a"]
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        loading = client.get("/ready")
        assert loading.status_code == 503 and loading.json()["status"] == "loading"
        job = client.post("/jobs", json={"notes": [{"id": "n1", "text": NOTE}]}, headers=key).json()
        time.sleep(0.5)
        assert client.get(f"/jobs/{job['job_id']}", headers=key).json()["status"] == "queued", (
            "a job waits for the model; it is not failed while the model loads"
        )
        gate.write_text("go")
        wait_ready(client, "ok")
        assert client.get("/ready").status_code == 200
        answer = client.post("/extract", json={"text": "Metformin 500 mg.", "format": "jsonl"}, headers=key)
        assert answer.status_code == 200 and answer.json()["entities"][0]["text"] == "Metformin"


def test_a_default_that_fails_to_load_is_reported_by_ready(tmp_path: Path, gate: Path) -> None:
    gate.write_text("fail")
    app = create_app(
        ServiceSettings(db=str(tmp_path / "s.db"), extractor="gated.v1", calibration="none"), plugins=GATED
    )
    with TestClient(app) as client:
        body = wait_ready(client, "error")
        assert body["error"]["code"] == "E400" and client.get("/ready").status_code == 503


def test_an_unknown_extractor_or_policy_fails_when_the_app_is_made(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError):
        create_app(ServiceSettings(db=str(tmp_path / "s.db"), extractor="nonesuch"))
    with pytest.raises(ConfigError, match="review_belo"):
        create_app(ServiceSettings(db=str(tmp_path / "s.db"), extractor="rules", review={"review_belo": 0.5}))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    db = tmp_path_factory.mktemp("service") / "s.db"
    app = create_app(ServiceSettings(db=str(db), extractor="rules", calibration="none"))
    key = keys_for(app)["dr-a"]
    with TestClient(app) as client:
        wait_ready(client, "ok")
        yield client, key


def test_unknown_fields_are_refused_with_a_hint(client: tuple[TestClient, dict[str, str]]) -> None:
    http, key = client
    answer = http.post("/extract", json={"text": NOTE, "min_confidnce": 0.5}, headers=key)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert (
        error["code"] == "E100" and "body.min_confidnce: Extra inputs are not permitted" in error["message"]
    )
    assert error["hint"]
    assert "Secret" not in answer.text


def test_a_bad_patient_is_a_400_naming_the_field(client: tuple[TestClient, dict[str, str]]) -> None:
    http, key = client
    patient = {"resourceType": "Patient", "birthDate": "Secret Person"}
    answer = http.post("/extract", json={"text": NOTE, "patient": patient}, headers=key)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "E600" and "birthDate" in error["message"]
    assert "fix the Patient" in error["hint"]
    assert "Secret" not in answer.text
    not_a_patient = http.post(
        "/extract", json={"text": NOTE, "patient": {"resourceType": "Observation"}}, headers=key
    )
    assert not_a_patient.status_code == 400 and "not 'Patient'" in not_a_patient.json()["error"]["message"]
    good = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    ok = http.post("/extract", json={"text": NOTE, "patient": good}, headers=key)
    assert ok.status_code == 200
    assert ok.json()["entry"][0]["resource"]["id"] == "p1"


def test_extract_needs_a_key(client: tuple[TestClient, dict[str, str]]) -> None:
    http, _ = client
    answer = http.post("/extract", json={"text": NOTE})
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
