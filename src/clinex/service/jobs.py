"""Extraction jobs run in the background from the database, so a restart loses nothing.

A submitted job and its notes are stored before ``POST /jobs`` answers. The runner (one thread
per server) claims the oldest queued job, extracts each of its notes still queued through the
worker pool, stores the facts with the review policy's verdict on each, and closes the job. A
server stopped mid-job finds the job ``running`` at its next start: the store puts it back in
the queue and the runner extracts the notes not yet done (those done are kept), so every
submitted note is extracted exactly once. Logs name jobs and counts, never note text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from clinex.core.errors import ClinexError
from clinex.core.serialize import entity_to_dict
from clinex.core.types import Document
from clinex.review.policy import ReviewPolicy
from clinex.store import Store

log = logging.getLogger("clinex.service")

#: How often an idle runner looks for work it was not told about (another server's job).
POLL_S = 1.0


class Extractor(Protocol):
    """What the runner needs of the worker pool."""

    @property
    def ready(self) -> bool: ...

    def run(
        self, text: str, *, id: str, patient: Mapping[str, Any] | None = None, timeout_s: float
    ) -> Document: ...


class JobRunner:
    """Runs stored jobs in a background thread, ``parallel`` notes at a time."""

    def __init__(
        self, store: Store, pool: Extractor, *, policy: ReviewPolicy, timeout_s: float, parallel: int = 1
    ) -> None:
        self.store = store
        self.pool = pool
        self.policy = policy
        self.timeout_s = timeout_s
        self.parallel = parallel
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        requeued = self.store.requeue_interrupted()
        if requeued:
            log.info("%d interrupted job(s) put back in the queue", requeued)
        self._thread = threading.Thread(target=self._loop, name="clinex-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A job was submitted: look now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Take no more notes; a note being extracted is left queued for the next start (stop
        the worker pool to cut it short), and so is its job."""
        self._stop.set()
        self._wake.set()

    def join(self, timeout_s: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.is_set():
            # Nothing is claimed until the model is loaded: a queued job waits, it does not fail.
            job = self.store.claim_job() if self.pool.ready else None
            if job is None:
                self._wake.wait(POLL_S)
                self._wake.clear()
                continue
            try:
                self._run(job.id)
            except Exception as exc:  # the job stays running; the next start re-runs what is left
                log.error("job %s stopped by %s; it resumes at the next start", job.id, type(exc).__name__)

    def _run(self, job_id: str) -> None:
        notes = self.store.pending_documents(job_id)
        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="clinex-note") as pool:
            list(pool.map(lambda note: self._extract(*note), notes))
        if self._stop.is_set():  # stopped mid-job: the next start finishes it
            return
        job = self.store.finish_job(job_id)
        log.info("job %s %s: %d done, %d failed", job_id, job.status, job.done, job.failed)

    def _extract(self, doc_id: str, text: str, patient: Mapping[str, Any] | None) -> None:
        if self._stop.is_set():
            return
        try:
            doc = self.pool.run(text, id=doc_id, patient=patient, timeout_s=self.timeout_s)
        except Exception as exc:
            if self._stop.is_set():  # the pool was closed under it: not the note's fault
                return
            if isinstance(exc, ClinexError):
                self.store.fail_document(doc_id, code=exc.code, message=exc.message)
            else:
                self.store.fail_document(
                    doc_id, code="E001", message=f"extraction failed ({type(exc).__name__}); this is a bug"
                )
            return
        entities = [entity_to_dict(entity) for entity in doc.entities]
        self.store.save_extraction(
            doc_id, entities=entities, meta=doc.meta, review=[self.policy.assess(e) for e in entities]
        )
