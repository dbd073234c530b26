"""The NegEx/ConText annotated sentences (Chapman et al.): one target condition a row.

Columns: id, report, condition, sentence, negation (Affirmed|Negated), temporality
(Recent|Historical|Not particular), experiencer (Patient|Family member|Other). Labels map to
clinex flags as negated = Negated, historical = Historical, hypothetical = Not particular,
family = Family member.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from clinex.core.types import Assertion, Document, Entity
from clinex.corpora.corpus import Corpus
from clinex.corpora.problems import Problems

COLUMNS = ("id", "report", "condition", "sentence", "negation", "temporality", "experiencer")
_NEGATION = ("Affirmed", "Negated")
_TEMPORALITY = ("Recent", "Historical", "Not particular")
_EXPERIENCER = ("Patient", "Family member", "Other")


@dataclass(frozen=True, slots=True, kw_only=True)
class NegExRow:
    """One annotated sentence; ``span`` locates the condition in it (None where it cannot)."""

    id: str
    report: str
    condition: str
    sentence: str
    negation: str
    temporality: str
    experiencer: str

    @property
    def assertion(self) -> Assertion:
        return Assertion(
            negated=self.negation == "Negated",
            historical=self.temporality == "Historical",
            hypothetical=self.temporality == "Not particular",
            family=self.experiencer == "Family member",
        )

    @property
    def span(self) -> tuple[int, int] | None:
        # The annotators' copy of the condition differs from the sentence in case and spacing.
        pattern = r"\s+".join(re.escape(word) for word in self.condition.split())
        match = re.search(pattern, self.sentence, re.IGNORECASE) if pattern else None
        return None if match is None else (match.start(), match.end())

    def to_document(self) -> Document:
        """The sentence as a note with its one condition (ungrounded where not found)."""
        span = self.span
        entity = Entity(
            type="condition",
            text=self.condition if span is None else self.sentence[span[0] : span[1]],
            start=None if span is None else span[0],
            end=None if span is None else span[1],
            alignment="none" if span is None else "exact",
            assertion=self.assertion,
        )
        return Document(text=self.sentence, id=self.id, entities=[entity])


def read_negex_rows(path: Path) -> list[NegExRow]:
    """Read the NegEx TSV; raises EvaluationError naming the first malformed rows."""
    problems = Problems(path.name)
    rows: list[NegExRow] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or tuple(lines[0].split("\t")) != COLUMNS:
        problems.add(f"{path.name}:1", "header is not " + "<TAB>".join(COLUMNS))
        lines = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        values = line.split("\t")
        where = f"{path.name}:{number}"
        if len(values) != len(COLUMNS):
            problems.add(where, f"{len(values)} columns, expected {len(COLUMNS)}")
            continue
        row = NegExRow(**dict(zip(COLUMNS, values, strict=True)))
        if (
            row.negation not in _NEGATION
            or row.temporality not in _TEMPORALITY
            or row.experiencer not in _EXPERIENCER
        ):
            problems.add(where, "unknown label")
            continue
        rows.append(row)
    problems.raise_if_any(hint="use the NegEx annotated test set format (7 tab-separated columns)")
    return rows


def read_negex(path: Path, *, text_dir: Path | None = None) -> Corpus:
    """The NegEx rows as a corpus: one document (the sentence) per row."""
    rows = read_negex_rows(path)
    documents = {row.id: row.to_document() for row in rows}
    return Corpus(documents=documents, source=path.name, format="negex")


def write_negex(rows: list[NegExRow], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("\t".join(COLUMNS) + "\n")
        for row in rows:
            out.write("\t".join(getattr(row, column) for column in COLUMNS) + "\n")
