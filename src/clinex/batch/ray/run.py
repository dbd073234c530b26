"""The driver of a Ray run: :func:`extract_on_ray`.

1. The output directory is checked (new, empty, or a run of this very extractor and options),
   the extractor is loaded once on the driver for its identity (a bad name or model fails
   here), and an ``--address`` is checked for a listening head node.
2. The input is planned (:mod:`clinex.batch.ray.plan`): partitions that the manifest lists as
   done are skipped; the rest go to Ray's object store (Ray is connected, or a local cluster
   started, for the first of them: a run with nothing left to do starts none). An input other
   than the manifest's is refused before anything is written.
3. Ray Data maps the partitions over a fixed pool of actors (``map_batches`` with a callable
   class and ``ActorPoolStrategy(size=workers)``), one whole partition per call; Ray retries
   a partition whose worker died. Each finished partition is recorded in the manifest as its
   result arrives (saved at most once a second, and at the end).
4. At the end ``errors.jsonl`` is written whole, and the manifest gets the timings and Ray's
   per-operator stats.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from clinex.batch.outcome import BatchSummary
from clinex.batch.process import DEFAULT_MAX_CHARS
from clinex.batch.ray.cluster import Cluster
from clinex.batch.ray.manifest import (
    Manifest,
    check_same,
    error_rows,
    locked,
    open_run,
    partition_file,
    remove_partials,
    write_errors,
)
from clinex.batch.ray.plan import DEFAULT_PARTITION_SIZE, plan_partitions, records_to_json
from clinex.batch.ray.worker import PartitionWorker, WorkerSettings
from clinex.core.errors import ConfigError
from clinex.core.extractor import Extractor
from clinex.inputs import NoteRecord, check_rereadable, read_inputs
from clinex.pipeline import DEFAULT_BATCH_SIZE, Pipeline, load_extractor

#: Seconds between two saves of the manifest while partitions finish.
_SAVE_EVERY_S = 1.0


class Progress(Protocol):
    """What a caller may watch: ``start`` once the input is planned, ``advance`` per partition."""

    def start(self, total: int, *, skipped: int) -> None: ...

    def advance(self, notes: int) -> None: ...


@dataclass(slots=True)
class RayRun:
    """What a run did: counts as ``clinex extract`` prints them (notes in finished partitions
    of an earlier run are ``skipped``), partitions in all and run now, and the error rows."""

    out_dir: Path
    summary: BatchSummary
    partitions: int
    partitions_run: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)


def extract_on_ray(
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    *,
    extractor: str | Extractor | None = None,
    options: dict[str, Any] | None = None,
    fmt: str = "jsonl",
    workers: int = 1,
    gpus_per_worker: float = 0.0,
    address: str | None = None,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    batch_size: int = DEFAULT_BATCH_SIZE,
    min_confidence: float = 0.0,
    calibration: str | None = "default",
    linker: str | None = None,
    bundle_type: str = "collection",
    validate: bool = True,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    progress: Progress | None = None,
) -> RayRun:
    """Extract every note of ``inputs`` on Ray into the partitions of ``out_dir``.

    Args:
        inputs: Files and directories as ``clinex extract`` reads them (not standard input: a
            restart must read the same input again).
        out_dir: New, empty, or holding an earlier run of the same extractor, options and
            input, which is resumed: its finished partitions are kept, the rest redone.
        extractor: A registry name (default extractor if None), loaded in every worker with
            ``options``; or an instance, sent to every worker by pickling.
        fmt: ``jsonl`` (one record per note), ``fhir`` (one Bundle per line, ``.ndjson``) or
            ``parquet`` (one row per fact).
        workers: Ray actors, each with one CPU and its own copy of the extractor.
        gpus_per_worker: GPUs Ray reserves for each actor (e.g. 1 for an extractor that loads
            its model on CUDA; 0.5 puts two actors on a GPU); 0: none.
        address: An existing cluster (``host:port``, ``ray://host:port``, ``auto``); None
            starts a local one for the run. Every node must see ``out_dir``.
        partition_size: Notes per partition (the unit of work, output file and restart).
        batch_size, min_confidence, calibration, linker, bundle_type, validate: As for
            ``clinex extract``.
        max_chars: A longer note is an error row; None: no limit.
        progress: Told the total once planned, then each partition's notes.

    Raises:
        ConfigError: a bad option, an output directory holding something else or another run,
            an unreachable cluster; InputError: a missing input, standard input or an
            unknown format. Nothing is written then. ConfigError also when the run stops
            (a worker keeps failing, the disk is full): what finished stays, and the same call
            resumes it.
    """
    if workers < 1 or batch_size < 1 or gpus_per_worker < 0:
        raise ConfigError(
            f"workers {workers}, batch size {batch_size}, GPUs per worker {gpus_per_worker}",
            hint="give at least 1 worker, a batch size of 1 or more and 0 or more GPUs per worker",
        )
    partition_file(0, fmt)  # refuses a format the partitions cannot take
    given = list(inputs)
    check_rereadable(given)
    out = Path(out_dir)
    manifest = open_run(out)
    options = dict(options or {})
    run = _run_identity(
        extractor,
        options,
        format=fmt,
        partition_size=partition_size,
        min_confidence=min_confidence,
        calibration=calibration,
        linker=linker,
        bundle_type=bundle_type,
        validate=validate,
        max_chars=max_chars,
    )
    if manifest is not None:
        check_same(manifest, out, run=run)
    cluster = Cluster(address, workers=workers, gpus_per_worker=gpus_per_worker)
    try:
        return _run(
            cluster,
            given,
            out,
            manifest,
            run,
            WorkerSettings(
                out_dir=str(out.resolve()),
                fmt=fmt,
                extractor=extractor,
                options=options,
                bundle_type=bundle_type,
                validate=validate,
                min_confidence=min_confidence,
                calibration=calibration,
                linker=linker,
                batch_size=batch_size,
            ),
            workers=workers,
            gpus_per_worker=gpus_per_worker,
            partition_size=partition_size,
            max_chars=max_chars,
            progress=progress,
        )
    finally:
        cluster.close()


def _run_identity(
    extractor: str | Extractor | None, options: dict[str, Any], **settings: Any
) -> dict[str, Any]:
    """What made a run, as the manifest keeps it: the pipeline's provenance (extractor, model
    checksum, assertion model, terminology and clinex versions), its options and settings."""
    loaded = extractor if isinstance(extractor, Extractor) else load_extractor(extractor, **options)
    provenance = Pipeline(
        loaded,
        min_confidence=settings["min_confidence"],
        calibration=settings["calibration"],
        linker=settings["linker"],
    ).provenance()
    return {"extractor": provenance, "options": {k: str(v) for k, v in sorted(options.items())}, **settings}


def _run(
    cluster: Cluster,
    inputs: list[str | Path],
    out: Path,
    manifest: Manifest | None,
    run: dict[str, Any],
    settings: WorkerSettings,
    *,
    workers: int,
    gpus_per_worker: float,
    partition_size: int,
    max_chars: int | None,
    progress: Progress | None,
) -> RayRun:
    import pyarrow

    began = time.perf_counter()
    refs: list[Any] = []
    todo = 0
    # Partitions an earlier run finished: their notes are skipped, the ones that failed there
    # stay failed (their rows are in errors.jsonl), as a resumed local run would count them.
    earlier = BatchSummary()

    def emit(index: int, records: list[NoteRecord]) -> None:
        nonlocal todo
        if manifest is not None and manifest.done(index, out):
            failed = int(manifest.partitions[index].get("summary", {}).get("failed", 0))
            earlier.failed += failed
            earlier.skipped += len(records) - failed
        else:
            block = pyarrow.table({"partition": [index], "notes": [records_to_json(records)]})
            refs.append(cluster.put(block))
            todo += len(records)

    plan = plan_partitions(read_inputs(inputs), partition_size=partition_size, max_chars=max_chars, emit=emit)
    facts = {
        "fingerprint": plan.fingerprint,
        "notes": plan.notes,
        "problems": len(plan.problems),
        "partitions": plan.partitions,
    }
    if manifest is not None:
        check_same(manifest, out, input=facts)
    else:
        manifest = Manifest(run=run, input=facts)
    planned = time.perf_counter()
    summary = BatchSummary(failed=len(plan.problems))
    summary.merge(earlier)
    if progress is not None:
        progress.start(todo, skipped=earlier.skipped)
    with locked(out):
        remove_partials(out)
        manifest.complete = False
        manifest.save(out)
        stats = ""
        try:
            if refs:  # no more actors than partitions: an idle actor would only load a model
                actors = min(workers, len(refs))
                stats = _map(
                    cluster.ray, refs, settings, manifest, out, summary, progress, actors, gpus_per_worker
                )
        finally:
            manifest.complete = all(manifest.done(index, out) for index in range(plan.partitions))
            manifest.timings = _timings(manifest, plan_s=planned - began, run_s=time.perf_counter() - planned)
            if stats:
                manifest.ray_stats = _operator_lines(stats)
            manifest.save(out)
            write_errors(out, plan.problems, manifest)
    return RayRun(
        out_dir=out,
        summary=summary,
        partitions=plan.partitions,
        partitions_run=len(refs),
        errors=error_rows(plan.problems, manifest),
        manifest=manifest.as_dict(),
    )


def _map(
    ray: Any,
    refs: list[Any],
    settings: WorkerSettings,
    manifest: Manifest,
    out: Path,
    summary: BatchSummary,
    progress: Progress | None,
    actors: int,
    gpus: float,
) -> str:
    """Run the partitions of ``refs`` on an actor pool, recording each as it finishes; Ray's stats."""
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the caller's Progress shows notes, not blocks
    context.print_on_execution_start = False
    dataset = ray.data.from_arrow_refs(refs).map_batches(
        PartitionWorker,
        fn_constructor_args=(settings,),
        batch_size=1,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=1,
        num_gpus=gpus or None,
    )
    saved = time.monotonic()
    try:
        for row in dataset.iter_rows():
            result = json.loads(str(row["result"]))
            manifest.partitions[int(row["partition"])] = result
            summary.merge(BatchSummary.from_dict(result["summary"]))
            if progress is not None:
                progress.advance(int(result["notes"]))
            if time.monotonic() - saved >= _SAVE_EVERY_S:
                manifest.save(out)
                saved = time.monotonic()
    except (ray.exceptions.RayError, ConfigError) as exc:
        done = len(manifest.partitions)
        # The type only: a worker's traceback may quote what the note held.
        raise ConfigError(
            f"the Ray run stopped ({type(exc).__name__}) with {done} partitions done",
            hint=f"see Ray's logs under /tmp/ray; run the same command again to resume into {out}",
        ) from None
    return str(dataset.stats())


def _timings(manifest: Manifest, *, plan_s: float, run_s: float) -> dict[str, Any]:
    results = manifest.partitions.values()
    workers: dict[str, float] = {}
    for result in results:
        worker = str(result.get("worker"))
        workers[worker] = max(workers.get(worker, 0.0), float(result.get("peak_rss_mb") or 0.0))
    return {
        "plan_s": round(plan_s, 3),
        "run_s": round(run_s, 3),
        "extract_write_s": round(sum(float(r.get("seconds") or 0.0) for r in results), 3),
        "model_load_s": round(sum(float(r.get("load_seconds") or 0.0) for r in results), 3),
        "peak_rss_mb_per_worker": workers,
    }


def _operator_lines(stats: str) -> list[str]:
    """Ray's per-operator summary lines ("Operator 1 MapBatches(...): 20 tasks executed, ... in
    2.59s") and its dataset throughput."""
    keep = ("Operator ", "* Ray Data throughput", "* Estimated single task throughput")
    return [line.strip() for line in stats.splitlines() if line.strip().startswith(keep)]
