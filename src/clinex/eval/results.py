"""What an evaluation returns: per-category results of each run, and their comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clinex.eval.assertions import AssertionScores
from clinex.eval.bootstrap import Counts, Interval, PairedTest
from clinex.eval.calibration import Calibration
from clinex.eval.scores import PRFScore, macro

if TYPE_CHECKING:
    from clinex.eval.subgroups import Subgroups


@dataclass(slots=True, kw_only=True)
class CategoryResult:
    """Counts per document (for the bootstrap), per label (for macro), and intervals."""

    name: str
    description: str
    counts: Counts
    labels: dict[str, PRFScore]
    ci: dict[str, Interval | None] = field(default_factory=dict)
    #: Mean average precision of ranked codes (document-level code sets only).
    map: float | None = None

    @property
    def micro(self) -> PRFScore:
        tp, fp, fn = (int(v) for v in self.counts.sum(axis=0)) if len(self.counts) else (0, 0, 0)
        return PRFScore(tp, fp, fn)

    @property
    def macro(self) -> dict[str, float | None]:
        return macro(self.labels.values())

    def flat(self) -> dict[str, float | int | None]:
        """Flat metric keys (``p``, ``f_ci_low``, ``macro_f`` ...) for this category."""
        out: dict[str, float | int | None] = dict(self.micro.to_dict())
        out.update({f"macro_{k}": v for k, v in self.macro.items()})
        for metric, interval in self.ci.items():
            out[f"{metric}_ci_low"] = None if interval is None else interval[0]
            out[f"{metric}_ci_high"] = None if interval is None else interval[1]
        if self.map is not None:
            out["map"] = self.map
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorExample:
    """A missed, spurious or wrongly asserted entity, with the note around its span."""

    doc_id: str
    kind: str  # "missed" | "spurious" | "assertion"
    entity_type: str
    start: int | None
    end: int | None
    detail: str
    before: str
    span: str
    after: str

    def to_dict(self) -> dict[str, Any]:
        # No note text: metrics files get shared; the HTML report shows the evidence.
        return {
            "doc_id": self.doc_id,
            "kind": self.kind,
            "type": self.entity_type,
            "start": self.start,
            "end": self.end,
            "detail": self.detail,
        }


@dataclass(slots=True, kw_only=True)
class RunResult:
    """Everything measured for one prediction source against the gold."""

    name: str
    source: str
    format: str
    #: The category whose matches feed assertion scores, slices, calibration and examples.
    reference: str
    categories: dict[str, CategoryResult]
    slices: dict[str, CategoryResult]
    assertion: AssertionScores | None
    calibration: Calibration | None
    examples: list[ErrorExample]
    #: Categories left out because neither side had anything in them.
    unscored: list[str]
    #: The entity types scored, and whether they are the gold's ("gold") or chosen ("--types").
    types: tuple[str, ...] = ()
    types_from: str = "gold"
    #: Categories the gold cannot score or the options left out, with the reason.
    not_evaluated: dict[str, str] = field(default_factory=dict)
    #: Scores per patient and note subgroup, where the gold says who and what a note is about.
    subgroups: Subgroups | None = None
    #: Reliability of the confidences per predicted entity type (the reference category's matches).
    calibration_by_type: dict[str, Calibration] = field(default_factory=dict)

    def metrics(self) -> dict[str, float | int | None]:
        """All metrics under flat keys such as ``diagnoses.f`` or ``slice:negated.r``; a category
        that is not evaluated has null ``p``, ``r`` and ``f``."""
        flat: dict[str, float | int | None] = {}
        for group in (self.categories, self.slices):
            for name, result in group.items():
                flat.update({f"{name}.{k}": v for k, v in result.flat().items()})
        for name in self.not_evaluated:
            flat.update({f"{name}.{k}": None for k in ("p", "r", "f")})
        if self.assertion is not None:
            flat["assertion.accuracy"] = self.assertion.accuracy
            flat["assertion.pairs"] = self.assertion.total
            for label, score in self.assertion.class_scores().items():
                flat.update({f"assertion:{label}.{k}": v for k, v in score.to_dict().items()})
        if self.calibration is not None:
            flat["calibration.ece"] = self.calibration.ece
            flat["calibration.count"] = self.calibration.count
        for entity_type, reliability in self.calibration_by_type.items():
            flat[f"calibration:{entity_type}.ece"] = reliability.ece
            flat[f"calibration:{entity_type}.count"] = reliability.count
        return flat

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "format": self.format,
            "reference_category": self.reference,
            "metrics": self.metrics(),
            "types": list(self.types),
            "types_from": self.types_from,
            "categories": {
                **{
                    n: {"description": c.description, "evaluated": True, **c.flat()}
                    for n, c in self.categories.items()
                },
                **{
                    n: {"evaluated": False, "reason": reason, "p": None, "r": None, "f": None}
                    for n, reason in self.not_evaluated.items()
                },
            },
            "labels": {
                n: {k: s.to_dict() for k, s in sorted(c.labels.items())} for n, c in self.categories.items()
            },
            "slices": {n: c.flat() for n, c in self.slices.items()},
            "assertion": None if self.assertion is None else self.assertion.to_dict(),
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "calibration_by_type": {t: c.to_dict() for t, c in self.calibration_by_type.items()},
            "errors": [e.to_dict() for e in self.examples],
            "unscored": self.unscored,
            "not_evaluated": self.not_evaluated,
            "subgroups": None if self.subgroups is None else self.subgroups.to_dict(),
        }


@dataclass(slots=True, kw_only=True)
class Report:
    """One or more runs scored against the same gold, and paired tests against the first."""

    gold: str
    gold_format: str
    documents: int
    options: dict[str, Any]
    runs: list[RunResult]
    tests: list[PairedTest]

    def to_dict(self) -> dict[str, Any]:
        return {
            "gold": self.gold,
            "gold_format": self.gold_format,
            "documents": self.documents,
            "options": self.options,
            "runs": {run.name: run.to_dict() for run in self.runs},
            "paired_tests": [t.to_dict() for t in self.tests],
        }
