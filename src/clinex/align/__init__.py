"""``clinex align``: silver span annotations from the codes recorded for notes.

Modules in the order they build on each other: :mod:`~clinex.align.systems` (code systems and
their terminologies), :mod:`~clinex.align.coded` (reading FHIR or TSV codes),
:mod:`~clinex.align.text` (a note's words, stems), :mod:`~clinex.align.evidence` (names,
synonyms, abbreviations, variants), :mod:`~clinex.align.similar` (MiniLM similarity search),
:mod:`~clinex.align.report` and :mod:`~clinex.align.aligner` (silver records, the run).

A silver record is a clinex JSONL record ``{"id", "text", "entities", "meta": {"align": {...}}}``;
``meta.align`` holds ``source`` (the coded-data file), ``entities`` (``{"method", "score",
"code"}`` per entity, in order), ``implicit`` (the codes without evidence) and ``partial: true``
(only coded facts are annotated: unlabelled text is not "nothing here").
"""

from clinex.align.aligner import Aligner, align_notes, run_align
from clinex.align.coded import CodedFact, Skip, read_coded
from clinex.align.evidence import METHODS, Hit, Name, find_evidence, names_of
from clinex.align.report import AlignReport

__all__ = [
    "METHODS",
    "AlignReport",
    "Aligner",
    "CodedFact",
    "Hit",
    "Name",
    "Skip",
    "align_notes",
    "find_evidence",
    "names_of",
    "read_coded",
    "run_align",
]
