"""A monitor run: every signal of REF against CUR, and the verdict."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from clinex.core.errors import InputError
from clinex.monitor.domain import domain_signal
from clinex.monitor.estimate import precision_signal
from clinex.monitor.features import note_features
from clinex.monitor.input_drift import input_signals
from clinex.monitor.output_drift import output_signals
from clinex.monitor.sets import IDENTITY_KEYS, MonitorSet
from clinex.monitor.signals import Signal

_ORDER = {"alarm": 0, "warn": 1, "ok": 2, "n/a": 3}


@dataclass(slots=True, kw_only=True)
class MonitorReport:
    """Signals of one run, REF and CUR described, warnings, and the overall status."""

    ref: dict[str, Any]
    cur: dict[str, Any]
    signals: list[Signal]
    warnings: list[str] = field(default_factory=list)
    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @property
    def status(self) -> str:
        statuses = {s.status for s in self.signals}
        return "alarm" if "alarm" in statuses else "warn" if "warn" in statuses else "ok"

    @property
    def alarms(self) -> list[Signal]:
        return [s for s in self.signals if s.status == "alarm"]

    def verdict(self) -> str:
        if self.status == "alarm":
            names = ", ".join(s.name for s in self.alarms)
            return f"Do not trust CUR's extractions as you trusted REF's: {names} moved beyond chance and threshold."
        if self.status == "warn":
            return "CUR looks mostly like REF; check the signals that warn before relying on it."
        return "CUR looks like REF on every signal: its extractions can be trusted as REF's were."

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "verdict": self.verdict(),
            "created": self.created,
            "ref": self.ref,
            "cur": self.cur,
            "warnings": self.warnings,
            "signals": [s.to_dict() for s in sorted(self.signals, key=lambda s: _ORDER[s.status])],
        }


def monitor(ref: MonitorSet, cur: MonitorSet, *, permutations: int = 20, seed: int = 0) -> MonitorReport:
    """Compare CUR with REF on every signal (nothing is written; the inputs are not changed)."""
    for side in (ref, cur):
        if not side.documents:
            raise InputError(
                f"{side.name} holds no documents", hint="give a non-empty set of notes and outputs"
            )
    ref_features = [note_features(d.text) for d in ref.documents]
    cur_features = [note_features(d.text) for d in cur.documents]
    ref_ids = [d.id for d in ref.documents]
    cur_ids = [d.id for d in cur.documents]
    signals = input_signals(ref_ids, ref_features, cur_ids, cur_features)
    signals.append(
        domain_signal(
            ref_ids,
            [d.text for d in ref.documents],
            cur_ids,
            [d.text for d in cur.documents],
            permutations=permutations,
            seed=seed,
        )
    )
    signals += output_signals(ref.documents, cur.documents)
    signals.append(precision_signal(ref.documents, cur.documents, seed=seed))
    warnings = [*ref.warnings, *cur.warnings]
    ref_identity, cur_identity = ref.identity(), cur.identity()
    for key in IDENTITY_KEYS:
        if ref_identity.get(key) != cur_identity.get(key):
            warnings.append(
                f"REF and CUR differ in {key}: output drift may come from that, not from the notes"
            )
    return MonitorReport(
        ref={"name": ref.name, "notes": len(ref.documents), "facts": _facts(ref), "identity": ref_identity},
        cur={"name": cur.name, "notes": len(cur.documents), "facts": _facts(cur), "identity": cur_identity},
        signals=signals,
        warnings=warnings,
    )


def _facts(side: MonitorSet) -> int:
    return sum(len(d.entities) for d in side.documents)
