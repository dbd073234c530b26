"""The service in-process (starlette's TestClient runs the app's lifespan): the status of each
error class, /health while the default extractor loads, unknown fields and bad Patients refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clinex.core.errors import (
    BackendError,
    ClinexError,
    ConfigError,
    ContextLengthError,
    EmptyNoteError,
    FHIRError,
    InputError,
    InternalError,
    ModelError,
    OutputParseError,
    UnknownNameError,
)
from clinex.core.registry import extractors
from clinex.service.app import create_app, status_of

NOTE = "Secret Person: no evidence of pneumonia. Metformin 500 mg."


class PluginBackendError(BackendError):
    code = "E599"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InputError, 400),
        (EmptyNoteError, 400),
        (ConfigError, 400),
        (UnknownNameError, 400),
        (FHIRError, 400),
        (OutputParseError, 502),
        (BackendError, 502),
        (PluginBackendError, 502),  # an unlisted subclass takes its base's status
        (ContextLengthError, 413),
        (ModelError, 500),
        (InternalError, 500),
        (ClinexError, 500),
    ],
)
def test_each_error_class_has_its_status(error: type[ClinexError], status: int) -> None:
    assert status_of(error("x")) == status


def wait_for(client: TestClient, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get("/health").json()
        if body["status"] == status:
            return body
        time.sleep(0.05)
    raise AssertionError(f"/health never said {status!r}")


class Slow:
    """TEST ONLY: an extractor whose loading waits until the test lets it go."""

    name = "slow-test.v1"
    release = threading.Event()

    def __init__(self) -> None:
        assert self.release.wait(60)

    def extract(self, text: str) -> list[Any]:
        if "backend" in text:
            raise BackendError("the LLM server did not answer", hint="start it", backend="openai")
        return []


@pytest.fixture
def slow() -> Iterator[str]:
    Slow.release.clear()
    with extractors.override("slow-test.v1", Slow):
        yield "slow-test"
    Slow.release.set()


def test_health_says_loading_until_the_default_extractor_is_loaded(slow: str) -> None:
    with TestClient(create_app(extractor=slow)) as client:
        loading = client.get("/health")
        assert loading.status_code == 503 and loading.json()["status"] == "loading"
        Slow.release.set()
        body = wait_for(client, "ok")
        assert body["extractor"] == "slow-test.v1"
        assert client.get("/health").status_code == 200
        answer = client.post("/extract", json={"text": "Metformin.", "format": "jsonl"})
        assert answer.status_code == 200 and answer.json()["entities"] == []
        failing = client.post("/extract", json={"text": f"{NOTE} backend"})
        assert failing.status_code == 502
        assert failing.json()["error"] == {
            "code": "E500",
            "message": "the LLM server did not answer",
            "hint": "start it",
        }


def test_a_default_that_fails_to_load_is_reported_by_health_and_requests() -> None:
    def broken() -> Any:
        raise ModelError("model file missing: /models/x", hint="give --model a model folder")

    with (
        extractors.override("broken-test.v1", broken),
        TestClient(create_app(extractor="broken-test")) as client,
    ):
        body = wait_for(client, "error")
        assert body["error"]["code"] == "E400"
        assert client.get("/health").status_code == 503
        answer = client.post("/extract", json={"text": NOTE})
        assert answer.status_code == 500 and answer.json()["error"]["code"] == "E400"


def test_an_unknown_default_extractor_fails_when_the_app_is_made() -> None:
    with pytest.raises(UnknownNameError):
        create_app(extractor="nonesuch")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(extractor="rules")) as client:
        wait_for(client, "ok")
        yield client


def test_unknown_fields_are_refused_with_a_hint(client: TestClient) -> None:
    answer = client.post("/extract", json={"text": NOTE, "min_confidnce": 0.5})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert (
        error["code"] == "E100" and "body.min_confidnce: Extra inputs are not permitted" in error["message"]
    )
    assert "'min_confidence'" in error["hint"]
    assert "Secret" not in answer.text


def test_a_bad_patient_is_a_400_naming_the_field(client: TestClient) -> None:
    patient = {"resourceType": "Patient", "birthDate": "Secret Person"}
    answer = client.post("/extract", json={"text": NOTE, "extractor": "rules", "patient": patient})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "E600" and "birthDate" in error["message"]
    assert "fix the Patient" in error["hint"]
    assert "Secret" not in answer.text
    not_a_patient = client.post("/extract", json={"text": NOTE, "patient": {"resourceType": "Observation"}})
    assert not_a_patient.status_code == 400 and "not 'Patient'" in not_a_patient.json()["error"]["message"]
    good = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    ok = client.post("/extract", json={"text": NOTE, "extractor": "rules", "patient": good})
    assert ok.status_code == 200
    assert ok.json()["entry"][0]["resource"]["id"] == "p1"
