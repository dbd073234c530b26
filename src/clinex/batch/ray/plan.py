"""Planning a Ray run on the driver: the input read once, in order, through the reader every
engine uses (:mod:`clinex.inputs`) and sorted as every engine sorts it
(:func:`clinex.batch.process.triage`: unreadable records, duplicate ids and oversize notes
become error rows here), then cut into numbered partitions of whole notes.

The plan is deterministic: the same input gives the same partitions with the same notes, so a
restarted run finds its finished partitions by number. Its fingerprint (sha256 over every
record's id and text digest, in order) tells the same input from another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from clinex.batch.outcome import NoteOutcome
from clinex.batch.process import triage
from clinex.core.errors import ConfigError
from clinex.inputs import InputItem, NoteRecord

#: Notes per partition unless ``--partition-size`` says otherwise: large enough that a
#: partition's overhead (a task, a file) is small against its extraction, small enough that a
#: restart redoes little.
DEFAULT_PARTITION_SIZE = 100

#: ``emit(index, records)``: a partition is complete (called in index order).
Emit = Callable[[int, list[NoteRecord]], None]


@dataclass(slots=True)
class Plan:
    """What the planner read: the fingerprint, counts, and the error rows of records that need
    no extraction (in input order)."""

    fingerprint: str
    notes: int
    partitions: int
    problems: list[dict[str, Any]] = field(default_factory=list)


def plan_partitions(
    items: Iterable[InputItem], *, partition_size: int, max_chars: int | None, emit: Emit
) -> Plan:
    """Read ``items`` once, calling ``emit`` for each partition of ``partition_size`` notes."""
    if partition_size < 1:
        raise ConfigError(f"partition size is {partition_size}", hint="give a partition size of at least 1")
    digest = hashlib.sha256()
    problems: list[dict[str, Any]] = []
    pending: list[NoteRecord] = []
    notes = partitions = 0
    for entry in triage(items, max_chars=max_chars):
        if isinstance(entry, NoteOutcome):
            row = error_row(entry)
            problems.append(row)
            digest.update(_line("problem", row["id"], row["code"]))
        else:
            notes += 1
            digest.update(_line("note", entry.id, _sha256(entry.text), _sha256(_json(entry.patient))))
            pending.append(entry)
            if len(pending) == partition_size:
                emit(partitions, pending)
                partitions, pending = partitions + 1, []
    if pending:
        emit(partitions, pending)
        partitions += 1
    return Plan(
        fingerprint=f"sha256:{digest.hexdigest()}", notes=notes, partitions=partitions, problems=problems
    )


def error_row(outcome: NoteOutcome) -> dict[str, Any]:
    """A line of ``errors.jsonl``: the note's id and source, the error's code, message and hint
    (which name the record, never its text)."""
    error = outcome.error
    assert error is not None, "an error row for an outcome without an error"  # callers pass failed ones
    return {
        "id": outcome.id,
        "source": outcome.source,
        "code": error.code,
        "message": error.message,
        "hint": error.hint,
    }


def records_to_json(records: list[NoteRecord]) -> str:
    """A partition as one JSON string (what travels to a worker)."""
    return _json([{"id": r.id, "text": r.text, "source": r.source, "patient": r.patient} for r in records])


def records_from_json(value: str) -> list[NoteRecord]:
    return [
        NoteRecord(id=r["id"], text=r["text"], source=r["source"], patient=r["patient"])
        for r in json.loads(value)
    ]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _line(*fields: Any) -> bytes:
    return (_json(list(fields)) + "\n").encode("utf-8")
