"""An append-only audit trail whose rows are chained by hash.

Each row holds the hash of the row before it, and its own hash is the sha256 of its content
and that previous hash, so editing, deleting or reordering any row breaks every link after it;
:func:`first_broken_link` reports the first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The previous hash of the first row.
GENESIS = "0" * 64


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """One event: an extraction (``model`` says which model, version, checksum) or a decision
    (``before``/``after`` the fact), by ``actor`` at ``at`` (ISO 8601)."""

    seq: int
    at: str
    actor: str
    action: str
    document: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    model: Mapping[str, Any] = field(default_factory=dict)
    comment: str | None = None
    previous: str = GENESIS
    hash: str = ""

    def content_hash(self) -> str:
        """sha256 of everything but ``hash`` itself (``previous`` included), as canonical JSON."""
        content = {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "document": self.document,
            "before": self.before,
            "after": self.after,
            "model": dict(self.model),
            "comment": self.comment,
            "previous": self.previous,
        }
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chain(records: Iterable[AuditRecord], *, after: AuditRecord | None = None) -> list[AuditRecord]:
    """``records`` numbered and linked after ``after`` (the last row stored, if any)."""
    previous, seq = (after.hash, after.seq) if after is not None else (GENESIS, 0)
    linked = []
    for record in records:
        seq += 1
        unsealed = AuditRecord(**{**_fields(record), "seq": seq, "previous": previous, "hash": ""})
        sealed = AuditRecord(**{**_fields(unsealed), "hash": unsealed.content_hash()})
        linked.append(sealed)
        previous = sealed.hash
    return linked


def first_broken_link(records: Sequence[AuditRecord]) -> int | None:
    """The ``seq`` of the first row whose link or hash does not hold, or None if all hold."""
    previous = GENESIS
    for expected, record in enumerate(records, start=1):
        if record.seq != expected or record.previous != previous or record.hash != record.content_hash():
            return record.seq if record.seq == expected else expected
        previous = record.hash
    return None


def _fields(record: AuditRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in AuditRecord.__dataclass_fields__}
