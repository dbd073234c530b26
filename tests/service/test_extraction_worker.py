"""Extraction in child processes (clinex.service.extraction): real spawned children running the
real pipeline around the rules extractor (wrapped by tests/service/worker_stubs.py, which adds
slow and failing notes and logs each model load)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import worker_stubs
from worker_stubs import LOG_ENV, StubExtractor, events

from clinex.core.errors import (
    BackendError,
    EmptyNoteError,
    ExtractionTimeoutError,
    InternalError,
    TooBusyError,
    UnknownNameError,
)
from clinex.pipeline import Pipeline
from clinex.service.extraction import ExtractionWorker, WorkerPool
from clinex.service.limits import ExtractionSlots

PLUGINS = {"stub.v1": "worker_stubs:StubExtractor"}
# Words of this note must never appear in an error message.
NOTE = "Secret Person has essential hypertension. No evidence of pneumonia. Metformin 500 mg p.o. bid."
#: What the module's worker said just after start().
AT_START: dict[str, bool] = {}
LOAD_S = 300  # loading in a child on a busy 2-core machine; only a bound, never a measure


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("worker") / "events.log"
    before = os.environ.get(LOG_ENV)
    os.environ[LOG_ENV] = str(path)  # read by children at their start (spawn copies the environment)
    yield path
    if before is None:
        del os.environ[LOG_ENV]
    else:
        os.environ[LOG_ENV] = before


@pytest.fixture(scope="module")
def worker(log_path: Path) -> Iterator[ExtractionWorker]:
    assert worker_stubs.__file__  # the child imports the same module by name
    with ExtractionWorker("stub", plugins=PLUGINS) as started:
        # Importing clinex and loading the rules in a fresh interpreter takes seconds: start()
        # has not waited for it.
        AT_START["ready"] = started.ready or started.load_error is not None
        assert started.wait_ready(LOAD_S), started.load_error
        yield started


def assert_no_note_text(message: str) -> None:
    for word in ("Secret", "Person", "hypertension", "Metformin"):
        assert word not in message


def wait_for_event(path: Path, event: str, count: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = events(path, event)
        if len(found) >= count:
            return found[count - 1]
        time.sleep(0.05)
    pytest.fail(f"no {event!r} event {count} within 60 s")


def test_start_returned_before_the_model_was_loaded(worker: ExtractionWorker) -> None:
    assert AT_START == {"ready": False}
    assert worker.ready and worker.load_error is None
    assert worker.provenance is not None and worker.provenance["extractor"] == "stub"


def test_the_document_is_the_pipelines_with_its_meta(worker: ExtractionWorker) -> None:
    doc = worker.run(NOTE, id="n1", patient={"resourceType": "Patient", "id": "p1"}, timeout_s=60)
    expected = Pipeline(StubExtractor())(NOTE, id="n1", patient={"resourceType": "Patient", "id": "p1"})
    assert doc.to_dict() == expected.to_dict()
    assert doc.text == NOTE and doc.patient == {"resourceType": "Patient", "id": "p1"}
    assert doc.meta["extractor"] == "stub" and "checks" in doc.meta
    assert {e.type for e in doc.entities} >= {"condition", "medication"}


def test_the_model_loads_once_for_many_notes(worker: ExtractionWorker, log_path: Path) -> None:
    pid = worker.pid
    assert pid is not None
    loads_before = events(log_path, "load").count(pid)
    for number in range(5):
        worker.run(NOTE, id=f"n{number}", timeout_s=60)
        assert worker.pid == pid
    assert loads_before == 1
    assert events(log_path, "load").count(pid) == 1


def test_errors_come_back_with_their_class_code_and_hint(worker: ExtractionWorker) -> None:
    with pytest.raises(EmptyNoteError) as empty:
        worker.run("   ", id="blank", timeout_s=60)
    assert empty.value.code == "E101" and "'blank'" in empty.value.message and empty.value.hint

    with pytest.raises(BackendError) as backend:
        worker.run(NOTE + " BACKEND-DOWN", id="b1", timeout_s=60)
    assert type(backend.value) is BackendError and backend.value.code == "E500"
    assert backend.value.backend == "stub" and backend.value.original_type == "ConnectionRefusedError"
    assert backend.value.hint == "start it"

    # A plugin's bug quotes the note in its message: only the exception's type comes back.
    with pytest.raises(InternalError) as bug:
        worker.run(NOTE + " PLUGIN-BUG", id="bug1", timeout_s=60)
    assert "RuntimeError" in bug.value.message and "'bug1'" in bug.value.message
    assert_no_note_text(str(bug.value))
    # None of these cost the child.
    assert worker.ready
    assert worker.run(NOTE, id="after", timeout_s=60).entities


def test_a_timeout_stops_the_child_and_the_next_call_gets_a_fresh_one(
    worker: ExtractionWorker, log_path: Path
) -> None:
    old = worker.pid
    assert old is not None
    starts = worker.starts
    with pytest.raises(ExtractionTimeoutError) as timeout:
        worker.run(NOTE + " SLEEP-120", id="slow-1", timeout_s=1)
    message = str(timeout.value)
    assert "'slow-1'" in message and "1 s" in message and timeout.value.code == "E905"
    assert_no_note_text(message)
    assert not _alive(old)  # killed, not left running beside the new one
    doc = worker.run(NOTE, id="n-after", timeout_s=LOAD_S)  # waits for the fresh child to load
    assert doc.id == "n-after" and doc.entities
    assert worker.pid not in (None, old) and worker.starts == starts + 1
    assert events(log_path, "load").count(worker.pid) == 1


def test_a_child_killed_during_a_call_fails_that_call_and_is_replaced(
    worker: ExtractionWorker, log_path: Path
) -> None:
    sleeps = len(events(log_path, "sleep"))
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            worker.run(NOTE + " SLEEP-120", id="doomed", timeout_s=200)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    victim = wait_for_event(log_path, "sleep", sleeps + 1)  # the child is inside the note now
    os.kill(victim, signal.SIGKILL)
    thread.join(60)
    assert not thread.is_alive()
    [error] = outcome
    assert isinstance(error, InternalError)
    assert "'doomed'" in error.message and "SIGKILL" in error.message
    assert_no_note_text(str(error))
    assert worker.run(NOTE, id="n-next", timeout_s=LOAD_S).entities
    assert worker.pid not in (None, victim)


def test_a_child_killed_between_calls_is_replaced_without_failing_a_call(worker: ExtractionWorker) -> None:
    victim = worker.pid
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while worker.ready and time.monotonic() < deadline:  # a process's threads take a moment to die
        time.sleep(0.05)
    assert not worker.ready
    assert worker.run(NOTE, id="n-quiet", timeout_s=LOAD_S).entities
    assert worker.pid not in (None, victim)


def test_a_load_error_is_reported_and_raised() -> None:
    with ExtractionWorker("no-such-extractor") as broken:
        assert not broken.wait_ready(LOAD_S)
        error = broken.load_error
        assert isinstance(error, UnknownNameError) and "no-such-extractor" in error.message and error.hint
        with pytest.raises(UnknownNameError):
            broken.run(NOTE, id="n1", timeout_s=30)
    assert broken.pid is None
    with pytest.raises(InternalError, match="closed"):
        broken.run(NOTE, id="n1", timeout_s=30)


def test_a_pool_runs_notes_side_by_side_and_slots_refuse_beyond_it(log_path: Path) -> None:
    slots = ExtractionSlots(2, retry_after=7)
    with WorkerPool(2, "stub", plugins=PLUGINS) as pool:
        assert pool.wait_ready(LOAD_S), pool.load_error
        assert pool.ready and pool.provenance is not None
        sleeps = len(events(log_path, "sleep"))
        results: dict[str, str] = {}
        entered = threading.Barrier(3)

        def call(note_id: str) -> None:
            with slots.acquire():
                entered.wait(30)
                results[note_id] = pool.run(NOTE + " SLEEP-3", id=note_id, timeout_s=120).id

        threads = [threading.Thread(target=call, args=(f"p{i}",)) for i in range(2)]
        for thread in threads:
            thread.start()
        entered.wait(30)
        with pytest.raises(TooBusyError) as busy, slots.acquire():
            pass
        assert busy.value.retry_after == 7
        pids = {wait_for_event(log_path, "sleep", sleeps + 1), wait_for_event(log_path, "sleep", sleeps + 2)}
        for thread in threads:
            thread.join(120)
        assert results == {"p0": "p0", "p1": "p1"}
        assert pids == {w.pid for w in pool.workers}  # both notes ran at once, one per child
        assert slots.in_use == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers signal 0: it is dead once it has no state but Z.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"
