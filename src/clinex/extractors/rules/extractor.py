"""The rules extractor: lexicon matching and the attribute grammar (the pipeline asserts and codes)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from clinex.core.errors import ConfigError
from clinex.core.extractor import ASSERTION_LAYERS
from clinex.core.systems import ICD10CM, LOINC
from clinex.core.types import Code, Entity
from clinex.extractors.rules.lexicon import CONFIDENCE, Lexicon, Term, lexicon_digest, load_lexicon
from clinex.terminology import attributes
from clinex.terminology.ucum import normalise_unit
from clinex.text.chunking import DEFAULT_CHUNK_CHARS, windows
from clinex.text.sections import blank_nlp

log = logging.getLogger("clinex.rules")

# How far after a medication name its dose, route and frequency are looked for.
_MED_WINDOW = 80
_DATE_WINDOW = 60
_LINE_BREAKS_TO_SPACES = str.maketrans("\n\r", "  ")
_CODE_SYSTEMS = {"condition": ICD10CM, "lab": LOINC}
_MEDICATION_END = re.compile(r";|\.(?=\s+[A-Z])|,\s*(?=[A-Z])")


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    term: Term


class RulesExtractor:
    """Finds conditions, medications, labs and procedures by lexicon, with their attributes.

    Options (keyword-only): ``types`` limits the entity types returned; ``assertion`` is the
    layer the pipeline runs for it: ``"learned"`` (ConText, sections and the learned layer of
    :mod:`clinex.assertion.learned`), ``"context"`` (ConText and sections only) or ``"off"``;
    ``require_lab_value`` drops lab names without a value; ``chunk_chars`` sets the piece size
    for long notes. Codes are the normaliser's (the pipeline's coding stage).
    """

    name = "rules.v2"

    def __init__(
        self,
        *,
        types: tuple[str, ...] = ("condition", "medication", "lab", "procedure"),
        assertion: str = "learned",
        require_lab_value: bool = False,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
    ) -> None:
        if assertion not in ASSERTION_LAYERS:
            raise ConfigError(
                f"unknown assertion mode {assertion!r}", hint=f"choose one of: {', '.join(ASSERTION_LAYERS)}"
            )
        self.types = frozenset(types)
        #: The assertion the pipeline runs on these entities.
        self.assertion_layer = assertion
        self.require_lab_value = require_lab_value
        self.chunk_chars = chunk_chars
        self._lexicon: Lexicon = load_lexicon()

    def extract(self, text: str) -> list[Entity]:
        """Grounded entities of ``text`` (``text[e.start:e.end] == e.text``), in text order."""
        entities: list[Entity] = []
        for window in windows(text, max_chars=self.chunk_chars):
            chunk = text[window.start : window.end]
            # Line breaks become spaces (same length, so offsets hold) so that a term wrapped
            # over two lines still matches.
            hits = self._hits(blank_nlp()(chunk.translate(_LINE_BREAKS_TO_SPACES)))
            # Each mention's attributes are read up to the next mention at most.
            limits = [h.start for h in hits[1:]] + [len(chunk)] * bool(hits)
            candidates = (self._entity(chunk, hit, limit) for hit, limit in zip(hits, limits, strict=True))
            entities.extend(_shift(e, window.start, text) for e in candidates if e is not None)
        log.debug("rules: %d entities in %d characters", len(entities), len(text))
        return entities

    def provenance(self) -> dict[str, str]:
        """The lexicons this extractor matches with (their digest)."""
        return {"name": "clinex rules lexicons", "checksum": lexicon_digest()}

    def _hits(self, doc: Any) -> list[_Hit]:
        from spacy.util import filter_spans

        lexicon = self._lexicon
        spans = []
        meanings: dict[tuple[int, int], Term] = {}
        for matcher, table, lower in (
            (lexicon.matcher, lexicon.terms, True),
            (lexicon.exact_matcher, lexicon.exact_terms, False),
        ):
            for _, start, end in matcher(doc):
                span = doc[start:end]
                meaning = table.get(span.text.lower() if lower else span.text)
                if meaning is None:
                    # Tokens matched by LOWER but spelt with other inner spacing: re-key by tokens.
                    meaning = table.get(" ".join(t.lower_ for t in span))
                if meaning is None or meaning.type not in self.types:
                    continue
                spans.append(span)
                meanings.setdefault((start, end), meaning)
        return [
            _Hit(span.start_char, span.end_char, meanings[(span.start, span.end)])
            for span in filter_spans(spans)
        ]

    def _entity(self, text: str, hit: _Hit, limit: int) -> Entity | None:
        term = hit.term
        attributes: dict[str, str] = {}
        if term.type == "medication":
            attributes = _medication_attributes(text, hit.end, limit)
        elif term.type == "lab":
            attributes = _lab_attributes(text, hit.end, limit)
            if "value" not in attributes:
                if text[hit.start : hit.end].lower() in self._lexicon.medication_names:
                    return self._entity(text, _Hit(hit.start, hit.end, Term("medication", "term")), limit)
                if self.require_lab_value or term.kind == "abbreviation":
                    return None
        date = _date_near(text, hit.start, hit.end)
        if date and term.type != "medication":
            attributes["date"] = date
        system = _CODE_SYSTEMS.get(term.type)
        return Entity(
            type=term.type,  # type: ignore[arg-type]
            text=text[hit.start : hit.end],
            start=hit.start,
            end=hit.end,
            attributes=attributes,
            # A curated short form's code ("CP" → R07.9): lookup cannot read an abbreviation.
            code=Code(system=system, code=term.code) if term.code and system else None,
            confidence=CONFIDENCE[term.kind],
        )


def _line_end(text: str, start: int, window: int, limit: int | None = None) -> int:
    stop = min(len(text), start + window, len(text) if limit is None else limit)
    end = text.find("\n", start, stop)
    return end if end != -1 else stop


def _medication_attributes(text: str, end: int, limit: int) -> dict[str, str]:
    stop = _line_end(text, end, _MED_WINDOW, limit)
    # A following sentence or another drug's list item ends this drug's window; the dot of an
    # abbreviation ("p.o. bid", "inh. p.r.n.") does not.
    boundary = _MEDICATION_END.search(text[end:stop])
    window = text[end : end + boundary.start()] if boundary else text[end:stop]
    found = {}
    dose = attributes.DOSE.search(window)
    if dose:
        found["dose"] = re.sub(r"\s+", " ", dose[1])
    route = attributes.ROUTE.search(window)
    if route:
        found["route"] = route[1]
    frequency = attributes.FREQUENCY.search(window)
    if frequency:
        found["frequency"] = frequency[1]
    return found


def _lab_attributes(text: str, end: int, limit: int) -> dict[str, str]:
    match = attributes.LAB_VALUE.match(text, end, _line_end(text, end, 60, limit))
    if not match:
        return {}
    found = {"value": match["value"].replace(" ", "").replace(",", ".")}
    if match["unit"]:
        unit = normalise_unit(match["unit"].rstrip("."))
        if unit is not None:
            found["unit"] = unit
    return found


def _date_near(text: str, start: int, end: int) -> str | None:
    """A date in the same sentence as the mention (looked for on its line, near it)."""
    left = max(text.rfind("\n", 0, start) + 1, text.rfind(". ", 0, start) + 1, start - _DATE_WINDOW)
    right = _line_end(text, end, _DATE_WINDOW)
    sentence_end = text.find(". ", end, right)
    found = attributes.DATE.search(text, left, right if sentence_end == -1 else sentence_end)
    return found[1] if found else None


def _shift(entity: Entity, offset: int, text: str) -> Entity:
    if not offset:
        return entity
    start, end = (entity.start or 0) + offset, (entity.end or 0) + offset
    assert text[start:end] == entity.text  # windows are slices of text, so spans shift exactly
    return entity.with_(start=start, end=end)
