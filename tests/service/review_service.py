"""A review service for the API tests: the real app on a real database (SQLite file, or the
PostgreSQL test server), the rules extractor in a real worker process, and one key per role.
(tests/ is on sys.path via conftest.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from clinex.service.app import create_app
from clinex.service.settings import ServiceSettings

NOTE = (
    "Diagnosis: essential hypertension and type 2 diabetes mellitus. "
    "No evidence of pneumonia. Metformin 500 mg p.o. bid. Hemoglobin 13.2 g/dL."
)


@dataclass
class Review:
    client: TestClient
    reviewer: dict[str, str]
    reviewer2: dict[str, str]
    admin: dict[str, str]

    def submit(self, notes: list[dict[str, Any]]) -> dict[str, Any]:
        answer = self.client.post("/jobs", json={"notes": notes}, headers=self.reviewer)
        assert answer.status_code == 202, answer.text
        return self.wait(answer.json()["job_id"])

    def wait(self, job_id: str, timeout_s: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job: dict[str, Any] = self.client.get(f"/jobs/{job_id}", headers=self.reviewer).json()
            if job["status"] in ("done", "failed"):
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} not finished within {timeout_s} s")

    def document(self, doc_id: str) -> dict[str, Any]:
        answer = self.client.get(f"/documents/{doc_id}", headers=self.reviewer)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def decide(
        self, fact: dict[str, Any], action: str, *, who: dict[str, str] | None = None, **body: Any
    ) -> Any:
        return self.client.post(
            f"/facts/{fact['id']}/decisions",
            json={"action": action, **body},
            headers={**(who or self.reviewer), "If-Match": f'"{fact["version"]}"'},
        )


def keys_for(app: Any) -> dict[str, dict[str, str]]:
    """A fresh key for each of two reviewers and an admin (an earlier one of the name revoked)."""
    store = app.state.store
    headers = {}
    for name, role in (("dr-a", "reviewer"), ("dr-b", "reviewer"), ("boss", "admin")):
        store.revoke_key(name)
        headers[name] = {"Authorization": f"Bearer {store.create_key(name=name, role=role)}"}
    return headers


@contextmanager
def review_service(db: str, **settings: Any) -> Iterator[Review]:
    app = create_app(ServiceSettings(db=db, extractor="rules", calibration="none", **settings))
    keys = keys_for(app)
    with TestClient(app) as client:
        deadline = time.monotonic() + 120
        while client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, "the extraction worker did not load within 120 s"
            time.sleep(0.2)
        yield Review(client=client, reviewer=keys["dr-a"], reviewer2=keys["dr-b"], admin=keys["boss"])
