"""What runs in each Ray actor: the extractor loaded once, then one whole partition per call.

A partition is extracted through the local engine (:func:`clinex.batch.run_batch`, so every
note meets the same stages, errors and writers as ``--engine local``), written under a hidden
temporary name and renamed into place: a partition file that exists is whole, and a partition
run twice (a retry, a restart) is rewritten, never appended to. A note that fails becomes an
error row; the partition goes on.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clinex.batch.local import run_batch
from clinex.batch.outcome import BatchSummary
from clinex.batch.ray.manifest import partition_file, record_done
from clinex.batch.ray.plan import error_row, records_from_json
from clinex.batch.writers import open_writer
from clinex.core.extractor import Extractor
from clinex.pipeline import DEFAULT_BATCH_SIZE, Pipeline, load_extractor


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """What every actor is built with (sent to each, so it stays small)."""

    out_dir: str
    fmt: str
    extractor: str | Extractor | None = None
    options: dict[str, Any] = field(default_factory=dict)
    bundle_type: str = "collection"
    validate: bool = True
    min_confidence: float = 0.0
    calibration: str | None = "default"
    linker: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE


class PartitionWorker:
    """A Ray Data callable class: ``batch`` holds whole partitions (``partition``, ``notes``);
    the result holds one JSON ``result`` per partition (file, counts, error rows, timings).
    The extractor is loaded and warmed up when the actor starts (``load_seconds``)."""

    def __init__(self, settings: WorkerSettings) -> None:
        started = time.perf_counter()
        self.settings = settings
        extractor = settings.extractor
        self._extractor = (
            extractor if isinstance(extractor, Extractor) else load_extractor(extractor, **settings.options)
        )
        Pipeline(self._extractor).warm_up()
        self._load_seconds = time.perf_counter() - started

    def __call__(self, batch: dict[str, np.ndarray[Any, Any]]) -> dict[str, np.ndarray[Any, Any]]:
        indices = [int(index) for index in batch["partition"]]
        results = [self.run(index, str(notes)) for index, notes in zip(indices, batch["notes"], strict=True)]
        return {
            "partition": np.asarray(indices, dtype=np.int64),
            "result": np.asarray([json.dumps(result) for result in results], dtype=object),
        }

    def run(self, index: int, notes: str) -> dict[str, Any]:
        """Extract partition ``index`` and write its file; its result for the manifest."""
        started = time.perf_counter()
        settings = self.settings
        out_dir = Path(settings.out_dir)
        final = out_dir / partition_file(index, settings.fmt)
        # Hidden, unique and with the final suffix (the FHIR line writer goes by it).
        temporary = out_dir / f".{uuid.uuid4().hex}.{final.name}"
        writer = open_writer(
            settings.fmt,
            temporary,
            many=True,
            stdout=sys.stdout,
            bundle_type=settings.bundle_type,
            validate=settings.validate,
        )
        summary = BatchSummary()
        errors = []
        try:
            outcomes = run_batch(
                records_from_json(notes),
                self._extractor,
                writer,
                min_confidence=settings.min_confidence,
                calibration=settings.calibration,
                linker=settings.linker,
                batch_size=settings.batch_size,
                max_chars=None,  # the planner applied the limit
            )
            for outcome in outcomes:
                summary.add(outcome)
                if outcome.error is not None:
                    errors.append(error_row(outcome))
        finally:
            writer.close()
        if temporary.exists():
            os.replace(temporary, final)
        else:  # no note succeeded: no file (and none left from an earlier attempt)
            final.unlink(missing_ok=True)
        load_seconds, self._load_seconds = self._load_seconds, 0.0
        result = {
            "notes": summary.ok + summary.failed,
            "file": final.name if final.exists() else None,
            "summary": summary.as_dict(),
            "errors": errors,
            "seconds": round(time.perf_counter() - started, 4),
            "load_seconds": round(load_seconds, 4),
            "worker": os.getpid(),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        record_done(out_dir, index, result)  # after the file is in place: a result means a whole file
        return result
