"""Scoring an assertion method on the NegEx/ConText annotated sentences.

    from clinex.assertion.assertor import assert_entities
    scores = evaluate_negex(assert_entities, Path("../shared/data/negex/dev.tsv"))
    scores.flags["negated"].fscore

The method gets each sentence and its one target condition (flags cleared) and returns the
entities with flags set, the signature of ``clinex.assertion.assertor.assert_entities``. Scored
flags: negated, historical, hypothetical ("Not particular" temporality) and family. Rows whose
condition cannot be found in the sentence are not scored and are listed in ``skipped``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clinex.core.errors import EvaluationError
from clinex.core.types import Assertion, Entity
from clinex.corpora.negex import read_negex_rows
from clinex.eval.scores import PRFScore

AssertionMethod = Callable[[str, Sequence[Entity]], Sequence[Entity]]
#: The flags the NegEx annotations can say something about.
NEGEX_FLAGS: tuple[str, ...] = ("negated", "historical", "hypothetical", "family")
#: The dev half in the shared data folder, relative to the repository root.
DEFAULT_NEGEX = Path("../shared/data/negex/dev.tsv")


@dataclass(slots=True)
class NegExScores:
    """Per-flag counts over the scored rows, and the ids of rows that could not be scored."""

    flags: dict[str, PRFScore] = field(default_factory=lambda: {f: PRFScore() for f in NEGEX_FLAGS})
    rows: int = 0
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "skipped": self.skipped,
            "flags": {f: s.to_dict() for f, s in self.flags.items()},
        }


def evaluate_negex(
    method: AssertionMethod, path: Path = DEFAULT_NEGEX, *, limit: int | None = None
) -> NegExScores:
    """Per-flag P/R/F1 of ``method`` on the NegEx TSV at ``path`` (first ``limit`` rows)."""
    rows = read_negex_rows(path)[:limit]
    scores = NegExScores()
    for row in rows:
        target = row.to_document().entities[0]
        if not target.grounded:
            scores.skipped.append(row.id)
            continue
        asserted = list(method(row.sentence, [target.with_(assertion=Assertion())]))
        if len(asserted) != 1:
            raise EvaluationError(
                f"row {row.id}: the assertion method returned {len(asserted)} entities for 1",
                hint="return the given entities, in order, with flags set",
            )
        scores.rows += 1
        for flag, score in scores.flags.items():
            score.count(getattr(row.assertion, flag), getattr(asserted[0].assertion, flag))
    return scores
