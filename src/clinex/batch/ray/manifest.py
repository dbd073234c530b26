"""The output directory of a Ray run and the manifest that makes it resumable.

``OUT_DIR`` holds:

- ``part-00000.jsonl`` ... (``.ndjson`` for FHIR Bundles, ``.parquet`` for fact tables): one
  file per partition, renamed into place only when whole, so a file that exists is complete; a
  partition in which no note succeeded has no file;
- ``errors.jsonl``: one row per note that failed (id, source, error code, message, hint: never
  the note's text), written whole at the end of each run;
- ``manifest.json``: what made the run (extractor name, model checksum and versions, options,
  output form, partition size), the input's fingerprint, and each finished partition with its
  counts, error rows and timings.

The manifest is the guarantee: a partition is done when the manifest lists it and its file (if
any) exists. A worker that finishes a partition also leaves its result in ``.done/`` (after the
partition file is in place), so a driver killed before it saved the manifest loses nothing: the
next run reads those results into the manifest, and each is deleted once a saved manifest
holds it. A restart redoes every other partition, rewriting its file whole, so a note is in the
output exactly once however often a partition ran. A manifest made by another extractor,
other options or another input is refused, never mixed with.
"""

from __future__ import annotations

import datetime
import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinex.batch.files import write_atomically
from clinex.core.errors import ConfigError

MANIFEST_FILE = "manifest.json"
ERRORS_FILE = "errors.jsonl"
#: Bumped when the manifest's shape changes; an older one is refused with a clear message.
MANIFEST_VERSION = 1
_SUFFIXES = {"jsonl": ".jsonl", "fhir": ".ndjson", "parquet": ".parquet"}
_LOCK_FILE = ".lock"
_DONE_DIR = ".done"


def partition_file(index: int, fmt: str) -> str:
    """The file name of partition ``index`` for an output format (``part-00042.jsonl``)."""
    if fmt not in _SUFFIXES:
        raise ConfigError(
            f"--engine ray cannot write --format {fmt}",
            hint="choose jsonl, fhir (one Bundle per line) or parquet (one row per fact)",
        )
    return f"part-{index:05d}{_SUFFIXES[fmt]}"


def is_partial(name: str) -> bool:
    """Whether a file name is a worker's unfinished partition (``.<uuid>.part-00042.jsonl``)."""
    return name.startswith(".") and ".part-" in name


@dataclass(slots=True)
class Manifest:
    """A run's manifest: ``run`` (what made it), ``input`` (fingerprint and counts) and the
    finished ``partitions`` by index."""

    run: dict[str, Any]
    input: dict[str, Any] = field(default_factory=dict)
    partitions: dict[int, dict[str, Any]] = field(default_factory=dict)
    complete: bool = False
    timings: dict[str, Any] = field(default_factory=dict)
    ray_stats: list[str] = field(default_factory=list)

    def done(self, index: int, out_dir: Path) -> bool:
        entry = self.partitions.get(index)
        if entry is None:
            return False
        return entry.get("file") is None or (out_dir / entry["file"]).exists()

    def as_dict(self) -> dict[str, Any]:
        return {
            "clinex_manifest": MANIFEST_VERSION,
            "updated": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "complete": self.complete,
            "run": self.run,
            "input": self.input,
            "timings": self.timings,
            "ray_stats": self.ray_stats,
            "partitions": {f"{index:05d}": self.partitions[index] for index in sorted(self.partitions)},
        }

    def save(self, out_dir: Path) -> None:
        """Write the manifest whole, then drop the workers' results it now holds."""
        text = json.dumps(self.as_dict(), ensure_ascii=False, indent=1) + "\n"
        write_atomically(out_dir / MANIFEST_FILE, text)
        done = out_dir / _DONE_DIR
        if done.is_dir():
            for path in done.glob("*.json"):
                if _index(path) in self.partitions:
                    path.unlink(missing_ok=True)
            if self.complete and not any(done.iterdir()):  # no worker runs once a run is complete
                done.rmdir()


def record_done(out_dir: Path, index: int, result: dict[str, Any]) -> None:
    """A worker's result for partition ``index``, kept until a saved manifest holds it."""
    done = out_dir / _DONE_DIR
    done.mkdir(exist_ok=True)
    write_atomically(done / f"{index:05d}.json", json.dumps(result, ensure_ascii=False))


def _index(path: Path) -> int | None:
    return int(path.stem) if path.stem.isdigit() else None


def _recorded(out_dir: Path) -> dict[int, dict[str, Any]]:
    """The results workers left that no saved manifest holds yet (unreadable ones are redone)."""
    found: dict[int, dict[str, Any]] = {}
    done = out_dir / _DONE_DIR
    for path in sorted(done.glob("*.json")) if done.is_dir() else []:
        index = _index(path)
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if index is not None and isinstance(result, dict):
            found[index] = result
    return found


def open_run(out_dir: Path) -> Manifest | None:
    """The manifest in ``out_dir``, or None where the directory is new or empty; ConfigError
    for a directory that holds something else (a file, other files, an unreadable manifest)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir} is a file", hint="give -o a directory for the partitions")
    if not out_dir.exists():
        return None
    path = out_dir / MANIFEST_FILE
    if not path.exists():
        others = [p.name for p in out_dir.iterdir() if p.name != _LOCK_FILE]
        if others:
            raise ConfigError(
                f"{out_dir} holds files that are not a clinex run ({len(others)} entries, no {MANIFEST_FILE})",
                hint="give -o a new or empty directory",
            )
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path} cannot be read ({type(exc).__name__})",
            hint="give -o a new directory, or delete this one to start over",
        ) from None
    if not isinstance(value, dict) or value.get("clinex_manifest") != MANIFEST_VERSION:
        raise ConfigError(
            f"{path} is not a manifest this clinex writes (version {value.get('clinex_manifest') if isinstance(value, dict) else None!r})",
            hint="give -o a new directory, or delete this one to start over",
        )
    return Manifest(
        run=value.get("run") or {},
        input=value.get("input") or {},
        partitions={int(k): v for k, v in (value.get("partitions") or {}).items()} | _recorded(out_dir),
        complete=bool(value.get("complete")),
        timings=value.get("timings") or {},
        ray_stats=list(value.get("ray_stats") or []),
    )


def check_same(
    manifest: Manifest,
    out_dir: Path,
    *,
    run: dict[str, Any] | None = None,
    input: dict[str, Any] | None = None,
) -> None:
    """ConfigError naming what differs where ``out_dir``'s run was made otherwise."""
    differences = []
    if run is not None:
        differences += _differences(manifest.run, run, "")
    if input is not None and manifest.input.get("fingerprint") != input.get("fingerprint"):
        differences.append("the input")
    if differences:
        shown = ", ".join(differences[:4]) + (
            f" and {len(differences) - 4} more" if len(differences) > 4 else ""
        )
        raise ConfigError(
            f"{out_dir} holds another run: {shown} differ",
            hint=f"give -o a new directory, or delete {out_dir} to start over",
        )


def _differences(old: Any, new: Any, where: str) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new)):
            found += _differences(old.get(key), new.get(key), f"{where}.{key}" if where else str(key))
        return found
    return [] if old == new else [where or "the run"]


@contextmanager
def locked(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir`` for one run; ConfigError if another run holds it. The lock goes with
    the process, so a killed run never leaves the directory locked."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / _LOCK_FILE).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"another run is writing to {out_dir}",
                hint="wait for it to finish, or give -o another directory",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_partials(out_dir: Path) -> None:
    """Delete what killed workers left half-written."""
    for path in out_dir.iterdir():
        if is_partial(path.name):
            path.unlink(missing_ok=True)


def error_rows(problems: list[dict[str, Any]], manifest: Manifest) -> list[dict[str, Any]]:
    """The rows of ``errors.jsonl``: the planner's, then each partition's, in partition order."""
    rows = list(problems)
    for index in sorted(manifest.partitions):
        rows += manifest.partitions[index].get("errors") or []
    return rows


def write_errors(out_dir: Path, problems: list[dict[str, Any]], manifest: Manifest) -> None:
    rows = error_rows(problems, manifest)
    write_atomically(
        out_dir / ERRORS_FILE, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    )
