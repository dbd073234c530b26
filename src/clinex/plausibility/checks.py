"""Every plausibility check, run on a finished Document in one call (:func:`run_checks`)."""

from __future__ import annotations

from datetime import date

from clinex.core.types import Document
from clinex.plausibility import contradictions, dates, doses, units
from clinex.plausibility.findings import Finding

#: The checks, in the order findings are reported for one entity.
CHECKS: tuple[str, ...] = (
    dates.IN_FUTURE,
    dates.BEFORE_BIRTH,
    doses.CHECK,
    units.CHECK,
    contradictions.REFUTED_AND_CONFIRMED,
    contradictions.STARTED_AND_STOPPED,
)


def run_checks(doc: Document, *, today: date | None = None) -> list[Finding]:
    """The findings of every check on ``doc``, by entity (text order) then check.

    ``today`` is the date a note without ``meta["note_date"]`` is taken to be written (default:
    the current date; give one for results that do not change with the day they are made).
    """
    findings = [
        *dates.date_findings(doc, today=today or date.today()),
        *doses.dose_findings(doc),
        *units.unit_findings(doc),
        *contradictions.condition_findings(doc),
        *contradictions.medication_findings(doc),
    ]
    order = {name: i for i, name in enumerate(CHECKS)}
    return sorted(findings, key=lambda f: (f.entity if f.entity is not None else -1, order[f.check]))
