"""Aligning the codes recorded for notes to their words: silver records and the report.

For every note with codes, each code's evidence is searched (:mod:`clinex.align.evidence`, then
:mod:`clinex.align.similar` for what that misses); mentions of different codes that overlap
keep the better one (an identical span may carry two codes); each mention becomes a grounded
entity with its code and the alignment score as confidence, and the assertion stage flags it as
the pipeline would (a negated mention stays aligned, flagged). A code without evidence is
*implicit*: listed in ``meta.align.implicit``, never put on a span.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinex.align import systems
from clinex.align.coded import CodedFact, Skip, read_coded
from clinex.align.evidence import Hit, find_evidence, names_of
from clinex.align.report import AlignReport, CodeOutcome, Example, to_markdown
from clinex.align.similar import SimilaritySearch, candidates
from clinex.align.text import NoteWords
from clinex.core.errors import InternalError
from clinex.core.serialize import document_to_record
from clinex.core.types import Code, Document, Entity
from clinex.inputs import InputItem, InputProblem, NoteRecord, read_inputs

_NOTE_SUFFIXES = {".json", ".jsonl", ".ndjson", ".parquet"}


@dataclass(slots=True)
class Aligner:
    """Aligns notes to their codes; ``search`` is the similarity search (None: lexical only)."""

    search: SimilaritySearch | None = None
    #: the assertion layer: the learned one (the pipeline's default) or ConText's cues alone
    learned_assertion: bool = True

    def align_note(
        self, note: NoteRecord, facts: list[CodedFact], *, source: str, report: AlignReport
    ) -> dict[str, Any]:
        """The silver record of one note (see the package docstring); outcomes go to ``report``."""
        words = NoteWords(note.text)
        readable: list[tuple[CodedFact, Code, list[Hit]]] = []
        phrases: list[tuple[int, int]] | None = None
        for fact in facts:
            names = names_of(fact.system, fact.code, fact.display)
            if names is None:
                report.skip(_unreadable(fact))
                continue
            code = Code(system=fact.system, code=fact.code, display=_display(fact))
            hits = find_evidence(words, names)
            if not hits and self.search is not None:
                own = [n.text for n in names if n.level == 0]
                phrases = candidates(words) if phrases is None else phrases
                hits = self.search.find(words, phrases, own)
            readable.append((fact, code, hits))
        kept = _resolve([(i, hit) for i, (_, _, hits) in enumerate(readable) for hit in hits])
        entities: list[Entity] = []
        owners: list[int] = []
        methods: list[dict[str, Any]] = []
        for index, hit in kept:
            fact, code, _ = readable[index]
            text = note.text[hit.start : hit.end]
            entity = Entity(
                type=fact.entity_type,
                text=text,
                start=hit.start,
                end=hit.end,
                code=code,
                confidence=hit.score,
            )
            if not entity.is_grounded_in(note.text):
                raise InternalError(f"note {note.id!r}: an aligned span is not the note's text")
            entities.append(entity)
            owners.append(index)
            methods.append({"method": hit.method, "score": round(hit.score, 4), "code": code.code})
        entities = _asserted(note.text, entities, learned=self.learned_assertion)
        implicit = []
        for index, (fact, code, _) in enumerate(readable):
            mine = [(e, m) for e, m, o in zip(entities, methods, owners, strict=True) if o == index]
            if not mine:
                implicit.append({"system": code.system, "code": code.code, "display": code.display})
            best = max(mine, key=lambda pair: pair[1]["score"], default=None)
            report.codes.append(
                CodeOutcome(
                    note_id=note.id,
                    system=fact.system,
                    code=fact.code,
                    display=code.display,
                    method=None if best is None else best[1]["method"],
                    mentions=len(mine),
                    flagged=sum(not e.assertion.affirmed for e, _ in mine),
                )
            )
        for entity, method in zip(entities, methods, strict=True):
            report.mentions_by_method[method["method"]] += 1
            report.flags.update(entity.assertion.names())
            display = entity.code.display if entity.code else None
            report.example(
                method["method"], Example(note.id, method["code"], display, entity.text, method["score"])
            )
        doc = Document(text=note.text, id=note.id, entities=entities, patient=note.patient)
        doc.meta = {
            "align": {
                "source": source,
                "entities": methods,
                "implicit": implicit,
                "partial": True,
            }
        }
        record = document_to_record(doc)
        return {"id": record["id"], "text": note.text, "entities": record["entities"], "meta": record["meta"]}


def align_notes(
    notes: Iterable[InputItem],
    facts: list[CodedFact],
    *,
    source: str,
    aligner: Aligner,
    report: AlignReport,
) -> Iterator[dict[str, Any]]:
    """Silver records of the notes that have codes, in input order; everything left out (bad
    notes, notes without codes, codes of notes not in the input, unreadable codes) is counted."""
    by_note: dict[str, list[CodedFact]] = defaultdict(list)
    seen_codes: set[tuple[str, str, str]] = set()
    for fact in facts:
        key = (fact.note_id, fact.system, fact.code)
        if key not in seen_codes:
            seen_codes.add(key)
            by_note[fact.note_id].append(fact)
    seen: set[str] = set()
    for item in notes:
        if isinstance(item, InputProblem):
            report.skip(Skip("unreadable note", item.source, item.error.message))
            continue
        report.notes_read += 1
        if item.id in seen:
            report.skip(
                Skip("repeated note", item.source, f"{item.source}: note {item.id!r} repeats an earlier id")
            )
            continue
        seen.add(item.id)
        mine = by_note.get(item.id)
        if not mine:
            report.skip(
                Skip("note without codes", item.source, f"{item.source}: note {item.id!r} has no codes")
            )
            continue
        report.notes_aligned += 1
        yield aligner.align_note(item, mine, source=source, report=report)
    for note_id, orphans in by_note.items():
        if note_id not in seen:
            for fact in orphans:
                report.skip(
                    Skip(
                        "no note",
                        fact.where,
                        f"{fact.where}: code for note {note_id!r}, which is not in the notes",
                    )
                )


def note_paths(notes: Path) -> list[Path]:
    """What NOTES stands for: a folder of ``.txt`` notes and any FHIR/JSONL/Parquet files in it
    (a Synthea export is a folder of Bundles), else the path itself."""
    if not notes.is_dir():
        return [notes]
    others = sorted(p for p in notes.rglob("*") if p.is_file() and p.suffix.lower() in _NOTE_SUFFIXES)
    has_text = any(p.suffix.lower() == ".txt" for p in notes.rglob("*.txt"))
    return ([notes] if has_text or not others else []) + others


def run_align(
    notes: Path,
    coded: Path,
    out: Path,
    *,
    system: str | None = None,
    embeddings: bool = True,
    threshold: float | None = None,
) -> dict[str, Any]:
    """``clinex align``: write ``silver.jsonl``, ``report.json`` and ``report.md`` to ``out``
    and return the report. Raises ClinexError where nothing can be aligned (a missing path, an
    unknown ``--system``)."""
    from clinex.inputs import check_inputs

    started = time.perf_counter()
    check_inputs([notes])
    facts, skips = read_coded(coded, system=system)
    search = _search(threshold) if embeddings else None
    report = AlignReport(
        source=coded.name, embeddings=search is not None, threshold=search.threshold if search else None
    )
    for skip in skips:
        report.skip(skip)
    out.mkdir(parents=True, exist_ok=True)
    aligner = Aligner(search=search)
    with (out / "silver.jsonl").open("w", encoding="utf-8") as silver:
        for record in align_notes(
            read_inputs(note_paths(notes)), facts, source=coded.name, aligner=aligner, report=report
        ):
            silver.write(json.dumps(record, ensure_ascii=False) + "\n")
    report.seconds = time.perf_counter() - started
    figures = report.to_dict()
    (out / "report.json").write_text(
        json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "report.md").write_text(to_markdown(figures), encoding="utf-8")
    return figures


def _search(threshold: float | None) -> SimilaritySearch:
    from clinex.align.similar import THRESHOLD
    from clinex.extractors.encoder.retrieval import SentenceEmbedder

    return SimilaritySearch(SentenceEmbedder(), threshold=THRESHOLD if threshold is None else threshold)


def _display(fact: CodedFact) -> str | None:
    terminology = systems.terminology(fact.system)
    concept = terminology.get(fact.code) if terminology is not None else None
    return concept.display if concept is not None else fact.display


def _unreadable(fact: CodedFact) -> Skip:
    name = systems.short_name(fact.system)
    if systems.terminology(fact.system) is not None:
        return Skip("unknown code", fact.where, f"{fact.where}: code {fact.code[:20]!r} is not in {name}")
    return Skip(
        "unreadable system",
        fact.where,
        f"{fact.where}: clinex holds no terminology for {name[:60]} and the coded data gives no display",
    )


def _resolve(hits: list[tuple[int, Hit]]) -> list[tuple[int, Hit]]:
    """Mentions of different codes without partial overlaps: the higher score, then the longer
    span wins; an identical span keeps every code on it."""
    kept: list[tuple[int, Hit]] = []
    for index, hit in sorted(hits, key=lambda p: (-p[1].score, -(p[1].end - p[1].start), p[1].start, p[0])):
        clash = any(
            not (hit.end <= k.start or hit.start >= k.end) and (hit.start, hit.end) != (k.start, k.end)
            for _, k in kept
        )
        if not clash:
            kept.append((index, hit))
    return sorted(kept, key=lambda p: (p[1].start, p[1].end, p[0]))


def _asserted(text: str, entities: list[Entity], *, learned: bool) -> list[Entity]:
    if not entities:
        return entities
    from clinex.assertion import assert_entities
    from clinex.text.structure import prepare

    return assert_entities(text, entities, learned=learned, structure=prepare(text))
