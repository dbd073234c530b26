"""What a batch reports: one :class:`NoteOutcome` per input record, counted in a :class:`BatchSummary`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from clinex.core.errors import ClinexError
from clinex.core.types import ASSERTION_FLAGS, ENTITY_TYPES, Document
from clinex.plausibility import CHECKS


@dataclass(frozen=True, slots=True)
class NoteOutcome:
    """What happened to one input record: a Document written, an error, or skipped on resume.

    ``source`` names the record (file, ``file:line``); an error's message names the record,
    never its text.
    """

    source: str
    id: str | None = None
    document: Document | None = None
    error: ClinexError | None = None
    skipped: bool = False


@dataclass(slots=True)
class BatchSummary:
    """Counts over a batch: notes ok/failed/skipped, entities per type, assertion flags,
    plausibility findings per check (``Document.meta["checks"]``)."""

    ok: int = 0
    failed: int = 0
    skipped: int = 0
    entities: Counter[str] = field(default_factory=Counter)
    assertions: Counter[str] = field(default_factory=Counter)
    checks: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: NoteOutcome) -> None:
        if outcome.skipped:
            self.skipped += 1
        elif outcome.error is not None or outcome.document is None:
            self.failed += 1
        else:
            self.ok += 1
            for entity in outcome.document.entities:
                self.entities[entity.type] += 1
                for flag in entity.assertion.names() or ["affirmed"]:
                    self.assertions[flag] += 1
            for finding in outcome.document.meta.get("checks") or []:
                self.checks[str(finding["check"])] += 1

    def merge(self, other: BatchSummary) -> None:
        """Add another summary's counts (a partition's, in a distributed engine)."""
        self.ok += other.ok
        self.failed += other.failed
        self.skipped += other.skipped
        self.entities.update(other.entities)
        self.assertions.update(other.assertions)
        self.checks.update(other.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "failed": self.failed,
            "skipped": self.skipped,
            "entities": dict(self.entities),
            "assertions": dict(self.assertions),
            "checks": dict(self.checks),
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> BatchSummary:
        return cls(
            ok=int(value.get("ok", 0)),
            failed=int(value.get("failed", 0)),
            skipped=int(value.get("skipped", 0)),
            entities=Counter({str(k): int(v) for k, v in (value.get("entities") or {}).items()}),
            assertions=Counter({str(k): int(v) for k, v in (value.get("assertions") or {}).items()}),
            checks=Counter({str(k): int(v) for k, v in (value.get("checks") or {}).items()}),
        )

    @property
    def notes(self) -> int:
        """Every record counted, whatever its outcome."""
        return self.ok + self.failed + self.skipped

    def entity_rows(self) -> list[tuple[str, int]]:
        return [(name, self.entities[name]) for name in ENTITY_TYPES]

    def assertion_rows(self) -> list[tuple[str, int]]:
        return [(name, self.assertions[name]) for name in ("affirmed", *ASSERTION_FLAGS)]

    def check_rows(self) -> list[tuple[str, int]]:
        """Findings per check: every check clinex runs, then any other name counted."""
        others = sorted(set(self.checks) - set(CHECKS))
        return [(name, self.checks[name]) for name in (*CHECKS, *others)]
