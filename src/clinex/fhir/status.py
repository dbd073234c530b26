"""Assertion flags ↔ FHIR R4 status elements: one table, written by :mod:`clinex.fhir.resources`
and read back by :mod:`clinex.fhir.parse`.

- Condition.clinicalStatus: negated → none, historical → ``inactive``, else ``active``;
  read: ``inactive``, ``resolved``, ``remission`` → historical.
- Condition.verificationStatus: negated → ``refuted``, uncertain or hypothetical →
  ``provisional``, else ``confirmed``; read: ``refuted`` → negated, ``provisional``,
  ``differential``, ``unconfirmed`` → uncertain.
- MedicationStatement.status: negated → ``not-taken``, historical → ``completed``, hypothetical →
  ``intended``, else ``active``; read: also ``stopped`` → historical.
- Procedure.status: negated → ``not-done``, else ``completed``.
- Observation.status: negated → ``cancelled``, else ``final``.
- FamilyMemberHistory: status ``completed``; family, and negated said in a condition note (R4
  has no element for it), read back from that note.

Each status is written from the first flag of its row that is set, and read back as that flag.
``historical`` is ``inactive``, the claim the note supports (``resolved`` would say more); a
refuted condition carries no clinical status. A status holds one flag at most, so what it cannot
say (hypothetical on a Condition, historical on a negated one) travels in the assertion
extension of :mod:`clinex.fhir.extensions`, which a reader prefers where it is present.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from clinex.core.types import Assertion

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


@dataclass(frozen=True, slots=True)
class StatusTable:
    """Flags → one status code (that of the first row whose flag is set, else ``default``), and a
    status code → the flag it says."""

    #: (flag, code) in priority order; a code of None writes no status element.
    rows: tuple[tuple[str, str | None], ...]
    default: str
    #: Further codes of the value set a reader may meet, and the flag each implies.
    also_read: Mapping[str, str] = field(default_factory=dict)

    def write(self, flags: Assertion) -> str | None:
        return next((code for flag, code in self.rows if getattr(flags, flag)), self.default)

    def read(self, code: str | None) -> set[str]:
        """The flag ``code`` says (the first row that writes it), or none."""
        flag = next((f for f, c in self.rows if code is not None and c == code), None)
        flag = flag or self.also_read.get(code or "")
        return {flag} if flag else set()


CLINICAL = StatusTable(
    (("negated", None), ("historical", "inactive")),
    "active",
    {"resolved": "historical", "remission": "historical"},
)
VERIFICATION = StatusTable(
    (("negated", "refuted"), ("uncertain", "provisional"), ("hypothetical", "provisional")),
    "confirmed",
    {"differential": "uncertain", "unconfirmed": "uncertain"},
)
MEDICATION = StatusTable(
    (("negated", "not-taken"), ("historical", "completed"), ("hypothetical", "intended")),
    "active",
    {"stopped": "historical"},
)
PROCEDURE = StatusTable((("negated", "not-done"),), "completed")
OBSERVATION = StatusTable((("negated", "cancelled"),), "final")

#: The status of every FamilyMemberHistory clinex writes (the record of the relative is complete).
FAMILY_STATUS = "completed"
#: FamilyMemberHistory.condition.note of a negated family entity.
FAMILY_NEGATED_NOTE = "negated in the note: the relative is stated not to have this"


def family_flags(notes: list[str]) -> set[str]:
    """The flags of a FamilyMemberHistory condition from its notes: family, negated if it says so."""
    return {"family", "negated"} if FAMILY_NEGATED_NOTE in notes else {"family"}
