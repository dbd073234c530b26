"""The alignment report: how many codes found evidence, by system, ICD-10-CM chapter and method.

``report.json`` holds the figures, examples per method (note id, code, display and the aligned
words: the user's own output, never logged) and what was skipped, by kind, with the first
:data:`SKIPS_KEPT` messages verbatim (file:line or file and entry; never note text).
``report.md`` says the same for people.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from clinex.align.coded import Skip
from clinex.align.evidence import METHODS
from clinex.align.systems import short_name
from clinex.core.systems import ICD10CM

#: Examples kept per method, and skip messages kept verbatim.
EXAMPLES = 5
SKIPS_KEPT = 200


@dataclass(frozen=True, slots=True)
class CodeOutcome:
    """What alignment found for one code of one note."""

    note_id: str
    system: str
    code: str
    display: str | None
    #: the method of its best mention, None where it is implicit
    method: str | None
    mentions: int
    flagged: int


@dataclass(slots=True)
class Example:
    note_id: str
    code: str
    display: str | None
    text: str
    score: float


@dataclass(slots=True)
class AlignReport:
    """Counts gathered while aligning; :meth:`to_dict` is ``report.json``."""

    source: str
    notes_read: int = 0
    notes_aligned: int = 0
    codes: list[CodeOutcome] = field(default_factory=list)
    mentions_by_method: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[Example]] = field(default_factory=lambda: defaultdict(list))
    skips: list[Skip] = field(default_factory=list)
    seconds: float = 0.0
    embeddings: bool = True
    threshold: float | None = None

    def skip(self, skip: Skip) -> None:
        self.skips.append(skip)

    def example(self, method: str, example: Example) -> None:
        if len(self.examples[method]) < EXAMPLES:
            self.examples[method].append(example)

    def to_dict(self) -> dict[str, Any]:
        grounded = [c for c in self.codes if c.method is not None]
        by_system: dict[str, list[CodeOutcome]] = defaultdict(list)
        by_chapter: dict[str, list[CodeOutcome]] = defaultdict(list)
        for outcome in self.codes:
            by_system[short_name(outcome.system)].append(outcome)
            if outcome.system == ICD10CM:
                by_chapter[_chapter(outcome.code)].append(outcome)
        skip_counts = Counter(s.kind for s in self.skips)
        return {
            "source": self.source,
            "notes": {"read": self.notes_read, "aligned": self.notes_aligned},
            "codes": len(self.codes),
            "grounded": len(grounded),
            "implicit": len(self.codes) - len(grounded),
            "share_grounded": _share(len(grounded), len(self.codes)),
            "by_system": {k: _shares(v) for k, v in sorted(by_system.items())},
            "by_chapter": {k: _shares(v) for k, v in sorted(by_chapter.items())},
            "by_method": {
                "codes": {m: sum(c.method == m for c in self.codes) for m in METHODS},
                "mentions": {m: self.mentions_by_method.get(m, 0) for m in METHODS},
            },
            "mentions": sum(c.mentions for c in self.codes),
            "codes_with_two_or_more_mentions": sum(c.mentions >= 2 for c in self.codes),
            "mentions_flagged": dict(sorted(self.flags.items())),
            "examples": {
                m: [asdict(e) | {"score": round(e.score, 4)} for e in self.examples.get(m, [])]
                for m in METHODS
            },
            "skipped": {
                "total": len(self.skips),
                "by_kind": dict(sorted(skip_counts.items())),
                "first": [s.message for s in self.skips[:SKIPS_KEPT]],
            },
            "embeddings": {"used": self.embeddings, "threshold": self.threshold},
            "seconds": round(self.seconds, 1),
        }


def _chapter(code: str) -> str:
    from clinex.terminology.icd10cm import chapter

    return chapter(code) or "unknown"


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _shares(outcomes: list[CodeOutcome]) -> dict[str, Any]:
    grounded = sum(c.method is not None for c in outcomes)
    return {"codes": len(outcomes), "grounded": grounded, "share": _share(grounded, len(outcomes))}


def to_markdown(report: dict[str, Any]) -> str:
    """``report.md``: the figures of ``report.json`` as tables."""
    lines = [
        "# Alignment report",
        "",
        f"Coded data: `{report['source']}`. Notes read: {report['notes']['read']}, aligned:"
        f" {report['notes']['aligned']}. Runtime: {report['seconds']} s. Similarity search:"
        f" {'on, threshold ' + str(report['embeddings']['threshold']) if report['embeddings']['used'] else 'off'}.",
        "",
        f"**{report['grounded']} of {report['codes']} codes grounded"
        f" ({_percent(report['share_grounded'])})**; {report['implicit']} implicit (no evidence in the"
        f" note, recorded without a span); {report['mentions']} mentions aligned,"
        f" {report['codes_with_two_or_more_mentions']} codes with two or more.",
        "",
    ]
    flagged = report["mentions_flagged"]
    if flagged:
        lines += ["Mentions with assertion flags: " + ", ".join(f"{k} {v}" for k, v in flagged.items()), ""]
    lines += _table("By code system", "system", report["by_system"])
    if report["by_chapter"]:
        lines += _table("By ICD-10-CM chapter", "chapter", report["by_chapter"])
    lines += ["## By method", "", "| method | codes (best mention) | mentions |", "|---|---:|---:|"]
    for method in report["by_method"]["codes"]:
        lines.append(
            f"| {method} | {report['by_method']['codes'][method]} | {report['by_method']['mentions'][method]} |"
        )
    lines += ["", "## Examples", ""]
    for method, examples in report["examples"].items():
        if not examples:
            continue
        lines += [
            f"### {method}",
            "",
            "| note | code | display | aligned text | score |",
            "|---|---|---|---|---:|",
        ]
        for e in examples:
            lines.append(
                f"| {_cell(e['note_id'])} | {e['code']} | {_cell(e['display'] or '')} |"
                f" {_cell(e['text'])} | {e['score']} |"
            )
        lines.append("")
    skipped = report["skipped"]
    lines += ["## Skipped", "", f"{skipped['total']} item(s) skipped."]
    if skipped["by_kind"]:
        lines += ["", "| kind | count |", "|---|---:|"]
        lines += [f"| {k} | {v} |" for k, v in skipped["by_kind"].items()]
        lines += ["", "First messages:", ""] + [f"- {_cell(m)}" for m in skipped["first"][:20]]
    return "\n".join(lines) + "\n"


def _table(title: str, key: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"## {title}", "", f"| {key} | codes | grounded | share |", "|---|---:|---:|---:|"]
    for name, row in rows.items():
        lines.append(f"| {_cell(name)} | {row['codes']} | {row['grounded']} | {_percent(row['share'])} |")
    return [*lines, ""]


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.1f}%"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
