"""Finding the words of a note that are the evidence of a code recorded for it.

A code's *names* are its terminology display and synonyms (ICD-10-CM's inclusion terms and
clinex's curated synonyms among them) and the display the coded data gives; at a lower level,
the names of its ICD-10-CM parent categories and block and, for a category, of its children
(the text may say "chronic ischemic heart disease" for I25.10), and for a SNOMED CT code the
names of the ICD-10-CM code it maps to. Each name is searched for in the note by:

========== ===================================================================== ===========
method     what matches                                                           score
========== ===================================================================== ===========
name       the display, word for word (case, accents, punctuation ignored)        1.0
synonym    a synonym or the coded data's own display, word for word               0.95
abbrev.    a word of :data:`ABBREVIATIONS` whose expansion says the name           0.9 (0.7)
variant    the name's core words (qualifiers and stopwords out), as stems (plural, 0.85 (0.7)
           inflection, British spelling), in any order, close together in one
           sentence; or a parent's or child's name word for word
========== ===================================================================== ===========

(in brackets: by a parent's or child's name). The similarity search over candidate phrases
(:mod:`clinex.align.similar`) runs only for codes none of these finds. Overlapping hits of one
code keep the best; a code found twice is aligned twice.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from clinex.align import systems
from clinex.align.text import NoteWords, core, words
from clinex.core.systems import ICD10CM, SNOMED

Method = Literal["name", "synonym", "abbreviation", "variant", "embedding"]
METHODS: tuple[Method, ...] = ("name", "synonym", "abbreviation", "variant", "embedding")

SCORES: dict[tuple[str, int], float] = {
    ("name", 0): 1.0,
    ("synonym", 0): 0.95,
    ("abbreviation", 0): 0.9,
    ("variant", 0): 0.85,
    ("name", 1): 0.75,
    ("synonym", 1): 0.75,
    ("abbreviation", 1): 0.7,
    ("variant", 1): 0.65,
}
#: At most this many synonyms of one concept are searched (ICD-10-CM has codes with hundreds).
MAX_SYNONYMS = 60
#: Core words of a name may lie at most this many words apart per core word (plus one).
WINDOW_PER_WORD = 2


@dataclass(frozen=True, slots=True)
class Name:
    """One name of a code: its text, whether it is the display, and its level (0: the code's
    own, 1: a parent's or child's)."""

    text: str
    display: bool
    level: int


@dataclass(frozen=True, slots=True)
class Hit:
    """A span of the note that is evidence of a code."""

    start: int
    end: int
    method: Method
    score: float


@functools.cache
def abbreviations() -> dict[str, tuple[str, ...]]:
    """The packaged abbreviation table: abbreviation → expansions."""
    path = resources.files("clinex.align") / "data" / "abbreviations.tsv"
    found: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        for row in rows:
            found.setdefault(row["abbreviation"], []).append(row["expansion"])
    return {abbreviation: tuple(expansions) for abbreviation, expansions in found.items()}


def names_of(system: str, code: str, display: str | None) -> list[Name] | None:
    """The names of a code (see the module docstring); None where its system has a terminology
    that does not hold the code and the coded data gives no display either."""
    found = _names(system, code, display)
    return None if found is None else list(found)


@functools.lru_cache(maxsize=8192)
def _names(system: str, code: str, display: str | None) -> tuple[Name, ...] | None:
    # Cached: a hospital's notes repeat the same few thousand codes.
    names: list[Name] = []
    terminology = systems.terminology(system)
    concept = terminology.get(code) if terminology is not None else None
    if concept is not None:
        names.append(Name(concept.display, True, 0))
        names.extend(Name(s, False, 0) for s in concept.synonyms[:MAX_SYNONYMS])
    if display:
        names.append(Name(display, concept is None, 0))
    if concept is None and not display:
        return None
    if system == ICD10CM and concept is not None:
        names.extend(_relatives(code))
    if system == SNOMED and display:
        names.extend(_mapped(code, display))
    return tuple(_unique(names))


def _mapped(code: str, display: str) -> list[Name]:
    """The names of the ICD-10-CM code a SNOMED CT condition maps to (as ``clinex synth`` maps
    Synthea's conditions), at the lower level: "hypertension" for "Essential hypertension (disorder)"."""
    from clinex.synth.icd_mapping import IcdMapper
    from clinex.terminology import icd10cm

    mapped = IcdMapper().map(code, display)
    concept = icd10cm.load().get(mapped.code) if mapped is not None else None
    if concept is None:
        return []
    return [Name(concept.display, False, 1), *(Name(s, False, 1) for s in concept.synonyms[:MAX_SYNONYMS])]


def _relatives(code: str) -> list[Name]:
    from clinex.terminology import icd10cm

    cm = icd10cm._cm()
    terminology = icd10cm.load()
    found: list[Name] = []
    try:
        ancestors = [a for a in cm.get_ancestors(code) if not cm.is_chapter(a)]
        children = [] if cm.is_leaf(code) else list(cm.get_children(code))
    except ValueError:
        return []
    for relative in [*ancestors, *children]:
        concept = terminology.get(relative)
        if concept is not None:
            found.append(Name(concept.display, False, 1))
            found.extend(Name(s, False, 1) for s in concept.synonyms[:MAX_SYNONYMS])
        elif cm.is_block(relative):
            found.append(Name(str(cm.get_description(relative)), False, 1))
    return found


def _unique(names: Iterable[Name]) -> list[Name]:
    seen: set[tuple[str, ...]] = set()
    kept = []
    for name in names:
        key = tuple(words(name.text))
        if key and key not in seen:
            seen.add(key)
            kept.append(name)
    return kept


def find_evidence(note: NoteWords, names: list[Name]) -> list[Hit]:
    """Every lexical hit of ``names`` in the note, overlaps resolved to the best (see module)."""
    hits: list[Hit] = []
    cores = [(name, core(name.text)) for name in names]
    for name in names:
        # A relative's name word for word is a variant of the code's own evidence.
        method: Method = "variant" if name.level else "name" if name.display else "synonym"
        score = SCORES[("name" if name.display else "synonym", name.level)]
        hits.extend(_exact(note, name.text, score, method))
    for name, stems in cores:
        if stems:
            hits.extend(_variant(note, stems, SCORES[("variant", name.level)]))
    hits.extend(_abbreviated(note, cores))
    return best_of(hits)


def best_of(hits: list[Hit]) -> list[Hit]:
    """Hits without overlaps: the higher score wins, then the longer span, then the earlier."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (-h.score, -(h.end - h.start), h.start)):
        if all(hit.end <= k.start or hit.start >= k.end for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.start)


def _exact(note: NoteWords, text: str, score: float, method: Method) -> list[Hit]:
    name = words(text)
    # A name ending in a bracket ("... (situation)") keeps the bracket where the note has it.
    closing = text.rstrip()[-1:] if text.rstrip().endswith((")", "]")) else ""
    if not name:
        return []
    hits = []
    for first in note.by_norm.get(name[0], []):
        last = first + len(name) - 1
        if last >= len(note.tokens) or note.tokens[last].sentence != note.tokens[first].sentence:
            continue
        if all(note.tokens[first + i].norm == word for i, word in enumerate(name)):
            start, end = note.span(first, last)
            if closing and note.text[end : end + 1] == closing:
                end += 1
            hits.append(Hit(start, end, method, score))
    return hits


def _variant(note: NoteWords, stems: frozenset[str], score: float) -> list[Hit]:
    """The core stems of a name, in any order, within a short window of one sentence."""
    places = [note.by_stem.get(s, []) for s in stems]
    if not all(places):
        return []
    rarest = min(places, key=len)
    width = WINDOW_PER_WORD * len(stems) + 1
    hits = []
    for anchor in rarest:
        sentence = note.tokens[anchor].sentence
        chosen = []
        for positions in places:
            near = [p for p in positions if abs(p - anchor) < width and note.tokens[p].sentence == sentence]
            if not near:
                break
            chosen.append(min(near, key=lambda p: abs(p - anchor)))
        else:
            first, last = min(chosen), max(chosen)
            if last - first < width and note.gap_is_plain(first, last):
                start, end = note.span(first, last)
                hits.append(Hit(start, end, "variant", score))
    return hits


def _abbreviated(note: NoteWords, cores: list[tuple[Name, frozenset[str]]]) -> list[Hit]:
    table = abbreviations()
    hits = []
    for token in note.tokens:
        expansions = table.get(token.surface)
        if expansions is None and len(token.surface) >= 4 and token.surface.isalpha():
            expansions = table.get(token.surface.upper())
        if not expansions:
            continue
        best = 0.0
        for expansion in expansions:
            said = core(expansion)
            for name, stems in cores:
                if said and stems and said >= stems:
                    best = max(best, SCORES[("abbreviation", name.level)])
        if best:
            hits.append(Hit(token.start, token.end, "abbreviation", best))
    return hits
