"""Extraction in child processes, so that a time limit can be enforced and a crash contained.

A thread cannot be stopped, so an extraction that runs past its limit (a 200k-character note
once held a worker 86 s) would hold the server. :class:`ExtractionWorker` runs the pipeline in
a child process instead ("spawn": no threads or locks inherited from the server), which loads
the extractor once and then serves notes one at a time over a pipe:

    server thread ──(text, id, patient)──▶ child: Pipeline(load_extractor(name)) ──▶ Document
                  ◀───── Document, or the ClinexError the pipeline raised ──────────┘

- past ``timeout_s`` the child is killed, :class:`~clinex.core.errors.ExtractionTimeoutError`
  (naming the note's id and the limit) is raised, and a fresh child starts loading for the next
  call;
- a child that dies (killed by the OOM killer, a crash in native code) is noticed: the call it
  was serving gets :class:`~clinex.core.errors.InternalError`, and a fresh child takes its place;
- a ClinexError in the child comes back as the same class with its message and hint; any other
  exception as InternalError naming its type only, since its message may quote the note.

A spawned child imports the server's main module again (as ``__mp_main__``), as every
"spawn" child does: ``clinex serve``, ``python -m clinex.cli`` and pytest are safe; a script of
your own that starts workers needs the ``if __name__ == "__main__":`` guard.

:class:`WorkerPool` holds several workers and gives each call a free one; pair it with
:class:`clinex.service.limits.ExtractionSlots` of the same size, so that a call beyond the pool
is refused (429) rather than queued.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import pickle
import queue
import signal
import threading
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

from clinex.core.errors import ClinexError, ExtractionTimeoutError, InternalError
from clinex.core.types import Document

log = logging.getLogger("clinex")

#: Seconds an idle child is given to stop on :meth:`ExtractionWorker.close` before it is killed.
_STOP_GRACE_S = 5.0
_BUG_HINT = "this is a bug; please report it with the extractor name and exception type"


class ExtractionWorker:
    """One child process holding one loaded extractor; one note at a time.

    Args:
        extractor: The registry name (default: the pipeline's default extractor).
        calibration: As in :func:`clinex.extract` (``"default"``, ``"none"`` or a calibrator file).
        min_confidence: As in :func:`clinex.extract`.
        plugins: Names to register in the child before loading (``"name.vN"`` →
            ``"module:attribute"``), for an extractor not installed as a plugin; the child
            imports the module by name, from the server's ``sys.path``.
    """

    def __init__(
        self,
        extractor: str | None = None,
        *,
        calibration: str | Path | None = "default",
        min_confidence: float = 0.0,
        plugins: Mapping[str, str] | None = None,
    ) -> None:
        self.extractor = extractor
        self._settings = (extractor, calibration, min_confidence, dict(plugins or {}))
        self._context = multiprocessing.get_context("spawn")
        self._call = threading.Lock()  # one note at a time
        self._state = threading.Lock()  # guards _child and _closed
        self._child: _Child | None = None
        self._closed = False
        self.starts = 0  #: children started so far (1 + restarts)

    # -- state ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the child, which loads the extractor in the background (see :attr:`ready`).
        Does nothing when it is running already."""
        with self._state:
            self._ensure_child()

    @property
    def ready(self) -> bool:
        """Whether the child has loaded the extractor and waits for notes."""
        child = self._child
        return child is not None and child.loaded.is_set() and child.error is None and child.alive()

    @property
    def load_error(self) -> ClinexError | None:
        """The error the child reported while loading (a wrong name, a missing model), if any."""
        child = self._child
        return child.error if child is not None and child.loaded.is_set() else None

    @property
    def pid(self) -> int | None:
        """The child's process id (None before :meth:`start`)."""
        child = self._child
        return child.process.pid if child is not None else None

    @property
    def provenance(self) -> dict[str, Any] | None:
        """What produced the Documents (:meth:`clinex.pipeline.Pipeline.provenance`), once loaded."""
        child = self._child
        return child.provenance if child is not None and child.loaded.is_set() else None

    def wait_ready(self, timeout_s: float | None = None) -> bool:
        """Wait until the child has loaded (or failed to); whether it is :attr:`ready`."""
        self.start()
        child = self._child
        assert child is not None
        child.loaded.wait(timeout_s)
        return self.ready

    # -- calls ---------------------------------------------------------------------------------
    def run(
        self, text: str, *, id: str = "note", patient: Mapping[str, Any] | None = None, timeout_s: float
    ) -> Document:
        """The Document of one note (every pipeline stage, as :func:`clinex.extract` makes it).

        Waits for the extractor to load and for a call already running (one at a time).

        Raises:
            ExtractionTimeoutError: the extraction ran past ``timeout_s`` seconds (the child was
                stopped; the next call gets a fresh one).
            InternalError: the child died during the call, or the worker is closed.
            ClinexError: what the pipeline raised (EmptyNoteError, ...) or the load error.
        """
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        with self._call:
            with self._state:
                child = self._ensure_child()
            child.loaded.wait()
            if child.error is not None:
                if child.alive() or not child.died_loading:
                    raise child.error
                # It died while loading (killed, say): one fresh try for this call.
                with self._state:
                    child = self._replace(child)
                child.loaded.wait()
                if child.error is not None:
                    raise child.error
            try:
                child.conn.send(("extract", text, id, dict(patient) if patient is not None else None))
                finished = child.conn.poll(timeout_s)
            except OSError:
                finished = True  # the pipe broke: the child is gone; recv below says so
            if not finished:
                with self._state:
                    self._replace(child)
                log.warning("extraction of note %s stopped after %g s", id, timeout_s)
                raise ExtractionTimeoutError(
                    f"the extraction of note {id!r} ran past the limit of {timeout_s:g} s and was stopped",
                    hint="split the note into shorter ones, or ask the operator to raise the "
                    "service's extraction time limit",
                )
            try:
                kind, payload = child.conn.recv()
            except (EOFError, OSError):
                code = child.exit_code()
                with self._state:
                    closed = self._closed
                    if not closed:
                        self._replace(child)
                log.warning("extraction worker died during note %s (exit code %s)", id, code)
                raise InternalError(
                    f"the extraction worker stopped during note {id!r} ({_exit_text(code)})"
                    + ("; the worker was closed" if closed else "; a fresh one has started"),
                    hint="retry the note; if it happens again, the server may lack memory for it",
                ) from None
        if kind == "error":
            raise _unpack_error(payload)
        assert isinstance(payload, Document)
        return payload

    def close(self) -> None:
        """Stop the child (a call running now gets InternalError). The worker cannot be restarted."""
        with self._state:
            self._closed = True
            child, self._child = self._child, None
        if child is not None:
            # An idle child leaves its loop; one still loading or busy holds nothing worth waiting for.
            if child.loaded.is_set() and not self._call.locked():
                child.stop()
            else:
                child.kill()

    def __enter__(self) -> ExtractionWorker:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- children (called with self._state held) -----------------------------------------------
    def _ensure_child(self) -> _Child:
        if self._closed:
            raise InternalError(
                "the extraction worker is closed",
                hint="this is a bug in the service: it ran a note after shutdown",
            )
        child = self._child
        if child is None:
            child = self._child = self._spawn()
        elif not child.alive() and child.loaded.is_set() and child.error is None:
            child = self._replace(child)  # died between calls: nothing was lost, start afresh
        return child

    def _replace(self, child: _Child) -> _Child:
        child.kill()
        if self._closed:
            raise InternalError("the extraction worker is closed", hint=_BUG_HINT)
        if self._child is child:  # else replaced already
            self._child = self._spawn()
        assert self._child is not None
        return self._child

    def _spawn(self) -> _Child:
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve,
            args=(child_end, *self._settings),
            name="clinex-extraction",
            daemon=True,  # never outlives the server
        )
        process.start()
        child_end.close()  # the child's end lives in the child only, so its death reads as EOF
        self.starts += 1
        child = _Child(process, parent_end, self.extractor)
        child.watch()
        return child


class _Child:
    """One child process and the parent's end of its pipe."""

    def __init__(self, process: Any, conn: Connection, extractor: str | None) -> None:
        self.process = process
        self.conn = conn
        self.extractor = extractor or "default"
        self.loaded = threading.Event()  # set once the child reported (ready or load error) or died
        self.error: ClinexError | None = None
        self.died_loading = False
        self.provenance: dict[str, Any] | None = None

    def watch(self) -> None:
        # The load message is read by a thread of its own, so start() never blocks on loading.
        threading.Thread(target=self._await_load, name="clinex-extraction-load", daemon=True).start()

    def _await_load(self) -> None:
        try:
            kind, payload = self.conn.recv()
        except (EOFError, OSError):
            self.died_loading = True
            self.error = InternalError(
                f"the extraction worker stopped while loading extractor {self.extractor} "
                f"({_exit_text(self.exit_code())})",
                hint="check the server has the memory the model needs, then retry",
            )
        else:
            if kind == "ready":
                self.provenance = payload
            else:
                self.error = _unpack_error(payload)
        self.loaded.set()

    def alive(self) -> bool:
        return bool(self.process.is_alive())

    def exit_code(self) -> int | None:
        self.process.join(timeout=1.0)
        code = self.process.exitcode
        return int(code) if code is not None else None

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=_STOP_GRACE_S)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)  # the child leaves its loop
        self.process.join(timeout=_STOP_GRACE_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=_STOP_GRACE_S)
        self.conn.close()


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class WorkerPool:
    """``size`` :class:`ExtractionWorker` s; :meth:`run` gives each call a free one (waiting
    for one when all are busy: bound the callers with an ExtractionSlots of the same size).

    Takes the arguments of :class:`ExtractionWorker` after ``size``.

    Raises:
        ValueError: ``size`` is below 1.
    """

    def __init__(
        self,
        size: int,
        extractor: str | None = None,
        *,
        calibration: str | Path | None = "default",
        min_confidence: float = 0.0,
        plugins: Mapping[str, str] | None = None,
    ) -> None:
        if size < 1:
            raise ValueError(f"size must be ≥ 1, got {size}")
        self.workers: Sequence[ExtractionWorker] = tuple(
            ExtractionWorker(
                extractor, calibration=calibration, min_confidence=min_confidence, plugins=plugins
            )
            for _ in range(size)
        )
        self._idle: queue.SimpleQueue[ExtractionWorker] = queue.SimpleQueue()
        for worker in self.workers:
            self._idle.put(worker)

    @property
    def size(self) -> int:
        return len(self.workers)

    def start(self) -> None:
        """Start every worker's child (each loads in the background)."""
        for worker in self.workers:
            worker.start()

    @property
    def ready(self) -> bool:
        """Whether every worker has loaded the extractor."""
        return all(worker.ready for worker in self.workers)

    @property
    def load_error(self) -> ClinexError | None:
        """The first load error a worker reported, if any."""
        return next((w.load_error for w in self.workers if w.load_error is not None), None)

    @property
    def provenance(self) -> dict[str, Any] | None:
        """The pipeline's provenance, once a worker has loaded."""
        return next((w.provenance for w in self.workers if w.provenance is not None), None)

    def wait_ready(self, timeout_s: float | None = None) -> bool:
        """Wait until every worker has loaded (or failed to); whether all are :attr:`ready`."""
        return all([worker.wait_ready(timeout_s) for worker in self.workers])

    def run(
        self, text: str, *, id: str = "note", patient: Mapping[str, Any] | None = None, timeout_s: float
    ) -> Document:
        """As :meth:`ExtractionWorker.run`, on a free worker."""
        worker = self._idle.get()
        try:
            return worker.run(text, id=id, patient=patient, timeout_s=timeout_s)
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        """Stop every worker."""
        for worker in self.workers:
            worker.close()

    def __enter__(self) -> WorkerPool:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# -- the child -------------------------------------------------------------------------------
def _serve(
    conn: Connection,
    extractor: str | None,
    calibration: str | Path | None,
    min_confidence: float,
    plugins: Mapping[str, str],
) -> None:
    """The child's loop: load once, then one note per message until told to stop or the
    server's end of the pipe closes."""
    # Ctrl-C on the server reaches its whole process group: the server stops its children itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from clinex.core.registry import extractors
    from clinex.pipeline import Pipeline, load_extractor

    try:
        for name, target in plugins.items():
            extractors.register(name, target)
        pipeline = Pipeline(load_extractor(extractor), min_confidence=min_confidence, calibration=calibration)
        pipeline.warm_up()  # what loads lazily loads now, not inside the first note's time limit
        provenance = dict(pipeline.provenance())
    except Exception as exc:
        conn.send(
            ("load_error", _pack_error(_as_clinex_error(exc, f"loading extractor {extractor or 'default'}")))
        )
        return
    conn.send(("ready", provenance))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the server is gone
        if request is None:
            return
        _, text, note_id, patient = request
        try:
            conn.send(("ok", pipeline(text, id=note_id, patient=patient)))
        except Exception as exc:
            conn.send(("error", _pack_error(_as_clinex_error(exc, f"note {note_id!r}"))))


def _as_clinex_error(exc: Exception, what: str) -> ClinexError:
    if isinstance(exc, ClinexError):
        return exc
    # A bug, not bad input: its message may quote the note, so only its type travels.
    return InternalError(f"extraction failed on {what} ({type(exc).__name__})", hint=_BUG_HINT)


def _pack_error(error: ClinexError) -> tuple[str, str, str, str | None, dict[str, Any]]:
    """An error as plain data: a ClinexError subclass may take keyword-only arguments its
    pickling would not pass back."""
    extra = {k: v for k, v in vars(error).items() if k not in {"message", "hint"}}
    try:
        pickle.dumps(extra)
    except Exception:
        extra = {}
    cls = type(error)
    return cls.__module__, cls.__qualname__, error.message, error.hint, extra


def _unpack_error(packed: tuple[str, str, str, str | None, dict[str, Any]]) -> ClinexError:
    module, qualname, message, hint, extra = packed
    try:
        cls: Any = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
    except (ImportError, AttributeError):
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, ClinexError)):
        return InternalError(f"{message} ({qualname} in the extraction worker)", hint=hint)
    error: ClinexError = cls.__new__(cls)
    Exception.__init__(error, message)
    vars(error).update(extra, message=message, hint=hint)
    return error
