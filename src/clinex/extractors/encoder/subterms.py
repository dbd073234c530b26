"""Condition spans the tagger runs on over a list or a clause, split into the terms they name.

The tagger, trained on synthetic letters, often runs on over a list or a clause of free
narrative ("duodenal ulcer and constipation complaining of pain"). A condition span that
terminology lookup cannot code (or matches only fuzzily while naming several terms exactly)
and that runs over more than one phrase is split into one entity per ICD-10-CM name or synonym
inside it. A span that is one phrase around one name ("right varicocele") keeps its extent
(the normaliser gives it that name's code). A procedure span that only names conditions
("pruritus", "hydrocele and varicocele") becomes those conditions. Spans only: the codes are
the normaliser's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from clinex.core.types import Entity
from clinex.terminology.base import SYNONYM_SCORE
from clinex.terminology.coding import Coder, FoundTerm
from clinex.terminology.normalise import PHRASE_GLUE

#: The words a list of condition names may hold besides the names.
_LIST_WORDS = frozenset({"and", "or", "with", "of", "the", "a", "an", "bilateral", "left", "right"})


def terms_to_split(entity: Entity, coder: Coder) -> list[FoundTerm] | None:
    """The names inside a condition span to split it into, or None to keep it: split when
    lookup finds nothing, or only a fuzzy match for a list in which more than one name is found
    exactly ("shortness of breath, fever" read as shortness of breath, dropping the fever)."""
    match = coder.lookup(entity.text)
    if match is not None and (match.score >= SYNONYM_SCORE or not PHRASE_GLUE.search(entity.text)):
        return None
    terms = coder.terms_in(entity.text)
    return terms if match is None or len(terms) > 1 else None


def split_into_terms(entity: Entity, terms: Sequence[FoundTerm]) -> list[Entity]:
    """``entity`` split into the ``terms`` found inside it (:meth:`Coder.terms_in`) when it
    runs over more than one phrase (same type, assertion and attributes); a span that is one
    phrase around one name, or names nothing, stays whole."""
    if not terms or (len(terms) == 1 and not PHRASE_GLUE.search(entity.text)):
        return [entity]
    return term_entities(entity, terms)


def conditions_in_procedure(entity: Entity, terms: Sequence[FoundTerm]) -> list[Entity]:
    """A procedure span that is only condition names becomes those conditions: the tagger,
    trained on letters whose procedures are named apart, calls a finding or a list of them on
    narrative a procedure ("pruritus", "hydrocele and varicocele"). Any other word keeps it a
    procedure: "depression screening" or "suture of open wound" name no present condition."""
    rest = entity.text
    for t in sorted(terms, key=lambda t: -t.start):
        rest = rest[: t.start] + " " + rest[t.end :]
    if not terms or any(w.lower() not in _LIST_WORDS for w in re.findall(r"[^\W_]+", rest)):
        return [entity]
    return term_entities(entity.with_(type="condition"), terms)


def term_entities(entity: Entity, terms: Sequence[FoundTerm]) -> list[Entity]:
    """One entity per term found inside ``entity`` (offsets into its text), each keeping its
    type, assertion, attributes and confidence."""
    start = entity.start or 0
    return [
        entity.with_(text=entity.text[t.start : t.end], start=start + t.start, end=start + t.end, code=None)
        for t in terms
    ]
