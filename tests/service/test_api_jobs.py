"""Jobs that survive a stopped server, a time limit per note, and a bound on concurrent
extractions — the real app, a real SQLite file and real worker processes (the stub extractor of
worker_stubs, which sleeps on a marker)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from review_service import keys_for
from worker_stubs import LOG_ENV, events

from clinex.service.app import create_app
from clinex.service.settings import ServiceSettings
from clinex.store import NewNote, open_store

pytestmark = pytest.mark.slow

STUB = {"stub.v1": "worker_stubs:StubExtractor"}
NOTE = "Essential hypertension. Metformin 500 mg."


@pytest.fixture()
def worker_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "worker.log"
    monkeypatch.setenv(LOG_ENV, str(path))
    return path


@contextmanager
def served(db: Path, **settings: Any) -> Iterator[tuple[TestClient, dict[str, str]]]:
    app = create_app(
        ServiceSettings(db=str(db), extractor="stub.v1", calibration="none", **settings), plugins=STUB
    )
    key = keys_for(app)["dr-a"]
    with TestClient(app) as client:
        deadline = time.monotonic() + 120
        while client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, "the worker did not load"
            time.sleep(0.1)
        yield client, key


def job_of(client: TestClient, key: dict[str, str], job_id: str, *, until: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}", headers=key).json()
        if job["status"] in until:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached {until}")


def extractions(db: Path) -> dict[str, int]:
    """How many times each document was extracted, from the audit trail."""
    store = open_store(str(db))
    try:
        counts: dict[str, int] = {}
        for row in store.audit():
            if row.action == "extract":
                counts[row.document] = counts.get(row.document, 0) + 1
        return counts
    finally:
        store.close()


def test_a_job_left_running_by_a_killed_server_is_finished_at_the_next_start(
    tmp_path: Path, worker_log: Path
) -> None:
    db = tmp_path / "s.db"
    store = open_store(str(db))
    job_id = store.submit([NewNote(id=f"n{i}", text=NOTE) for i in range(3)], options={}, actor="dr-a")
    assert store.claim_job() is not None  # what a server killed mid-job leaves: the job running
    store.close()
    with served(db) as (client, key):
        job = job_of(client, key, job_id, until=("done", "failed"))
    assert job["status"] == "done" and job["done"] == 3
    assert extractions(db) == {"n0": 1, "n1": 1, "n2": 1}


def test_a_server_stopped_mid_job_loses_no_note_and_extracts_none_twice(
    tmp_path: Path, worker_log: Path
) -> None:
    db = tmp_path / "s.db"
    notes = [{"id": "a", "text": NOTE}, {"id": "b", "text": f"SLEEP-30 {NOTE}"}, {"id": "c", "text": NOTE}]
    with served(db) as (client, key):
        job_id = client.post("/jobs", json={"notes": notes}, headers=key).json()["job_id"]
        deadline = time.monotonic() + 60
        while not events(worker_log, "sleep"):  # 'a' is done, 'b' is being extracted
            assert time.monotonic() < deadline
            time.sleep(0.05)
    # the server stopped: 'b' was cut short and stays queued, like 'c'
    assert extractions(db) == {"a": 1}
    worker_log.write_text("")
    with served(db, extraction_timeout_s=2) as (client, key):
        job = job_of(client, key, job_id, until=("done", "failed"))
    assert extractions(db) == {"a": 1, "c": 1}
    assert job["done"] == 2 and job["failed"] == 1 and job["status"] == "done"
    assert [e["id"] for e in job["errors"]] == ["b"] and job["errors"][0]["code"] == "E905", (
        "the sleeping note ran past the new 2 s limit and failed, named in the job"
    )


def test_extractions_beyond_the_bound_get_429_and_a_slow_note_504(tmp_path: Path, worker_log: Path) -> None:
    with served(tmp_path / "s.db", workers=1, queue=0, extraction_timeout_s=3, retry_after_s=7) as (
        client,
        key,
    ):
        slow: dict[str, Any] = {}

        def hold() -> None:
            slow["answer"] = client.post("/extract", json={"text": f"SLEEP-30 {NOTE}"}, headers=key)

        holder = threading.Thread(target=hold)
        holder.start()
        deadline = time.monotonic() + 30
        while not events(worker_log, "sleep"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        busy = client.post("/extract", json={"text": NOTE}, headers=key)
        assert busy.status_code == 429 and busy.headers["Retry-After"] == "7"
        holder.join(60)
        assert slow["answer"].status_code == 504 and "SLEEP" not in slow["answer"].text
        assert slow["answer"].json()["error"]["code"] == "E905"
        after = client.post("/extract", json={"text": NOTE, "format": "jsonl"}, headers=key)
        assert after.status_code == 200 and after.json()["entities"], (
            "a fresh worker took the killed one's place"
        )
