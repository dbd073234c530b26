"""Attribute → entity linking: each tagged attribute, completed to the whole attribute written
there, joins the nearest entity that may hold it (after the entity's type is checked against
the attributes written after it).

Letters write an attribute next to its entity ("metformin 500 mg orally twice daily",
"haemoglobin 13.2 g/dL"), nearly always after it ("500 mg of metformin" is the exception), so the
nearest compatible entity before the attribute on the same line wins, and one after it only
when there is none before. When two attributes of one
kind compete for an entity, the closer one is kept.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from clinex.core.types import ATTRIBUTES
from clinex.terminology import attributes as grammar
from clinex.terminology.ucum import NUMBER

#: Farthest an attribute may sit from its entity, in characters.
MAX_DISTANCE = 160
#: Entity types with attributes of their own; a date fits every type and tells none apart.
_DISTINCT_TYPES = ("medication", "lab", "tumor")


#: The whole attribute of a kind, for widening a tag that covers only its first word ("at" of
#: "at night", "every" of "every 4 hours"); group 1 is the attribute.
_WHOLE_ATTRIBUTE = {
    "dose": grammar.DOSE,
    "route": grammar.ROUTE,
    "frequency": grammar.FREQUENCY,
    "date": grammar.DATE,
}
#: How far before or after a tag its whole attribute may reach, in characters.
_WIDEN_REACH = 40
#: A bare number: a measurement, not a date, unless it is a year.
_BARE_NUMBER = re.compile(NUMBER)
_YEAR = re.compile(r"(?:19|20)\d\d")
#: A unit of time alone is no frequency ("day" of "a five-day course").
_TIME_UNIT = re.compile(r"(?:hours?|hrs?|days?|weeks?|months?)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Span:
    type: str
    start: int
    end: int


def complete_attributes(text: str, attributes: Sequence[Span]) -> list[Span]:
    """Attribute spans widened to the whole dose, route, frequency or date written around them,
    less the dates that are only a measurement ("38.9" of "fever of 38.9 C") and the
    frequencies that are only a unit of time ("day" of "a five-day course")."""
    completed = []
    for attribute in attributes:
        pattern = _WHOLE_ATTRIBUTE.get(attribute.type)
        if pattern is not None:
            window = (max(0, attribute.start - _WIDEN_REACH), attribute.end + _WIDEN_REACH)
            for match in pattern.finditer(text, *window):
                if match.start(1) <= attribute.start and attribute.end <= match.end(1):
                    attribute = Span(attribute.type, match.start(1), match.end(1))
                    break
        value = text[attribute.start : attribute.end]
        if attribute.type == "date" and _BARE_NUMBER.fullmatch(value) and not _YEAR.fullmatch(value):
            continue
        if attribute.type == "frequency" and _TIME_UNIT.fullmatch(value):
            continue
        completed.append(attribute)
    return completed


def link_attributes(text: str, entities: Sequence[Span], attributes: Sequence[Span]) -> list[dict[str, str]]:
    """For each entity (same order), the attribute texts linked to it, keyed by attribute kind.

    Only entities within :data:`MAX_DISTANCE` of an attribute are candidates, found by bisection,
    so linking stays near-linear in the note's length.
    """
    linked: list[dict[str, tuple[int, str]]] = [{} for _ in entities]
    by_end = sorted(range(len(entities)), key=lambda i: entities[i].end)
    ends = [entities[i].end for i in by_end]
    by_start = sorted(range(len(entities)), key=lambda i: entities[i].start)
    starts = [entities[i].start for i in by_start]
    for attribute in attributes:
        before = by_end[
            bisect.bisect_left(ends, attribute.start - MAX_DISTANCE) : bisect.bisect_right(
                ends, attribute.start
            )
        ]
        after = by_start[
            bisect.bisect_left(starts, attribute.end) : bisect.bisect_right(
                starts, attribute.end + MAX_DISTANCE
            )
        ]
        best: tuple[int, int] | None = None
        for index in sorted({*before, *after}):
            entity = entities[index]
            if attribute.type not in ATTRIBUTES.get(entity.type, ()):
                continue
            if attribute.start >= entity.end:
                gap, penalty = text[entity.end : attribute.start], 0
            elif attribute.end <= entity.start:
                gap, penalty = text[attribute.end : entity.start], 2 * MAX_DISTANCE + 1
            else:
                continue
            if "\n" in gap or len(gap) > MAX_DISTANCE:
                continue
            distance = 2 * len(gap) + penalty
            if best is None or distance < best[0]:
                best = (distance, index)
        if best is None:
            continue
        distance, index = best
        current = linked[index].get(attribute.type)
        if current is None or distance < current[0]:
            linked[index][attribute.type] = (distance, text[attribute.start : attribute.end])
    return [{kind: value for kind, (_, value) in attrs.items()} for attrs in linked]


def retype_by_attributes(text: str, entities: Sequence[Span], attributes: Sequence[Span]) -> list[str]:
    """Each entity's type (same order), corrected where the attributes written after it on its
    line, up to the next entity, belong to one other type only.

    The tagger sometimes calls the name in "Metformin 500 mg orally twice daily" a lab while it
    tags the dose, route and frequency right; those attributes would then link to nothing. Only
    medication (dose, route, frequency), lab (value, unit) and tumour (TNM, histology, grade)
    are exchanged: a condition or procedure has no attributes of its own to tell it by.
    """
    starts = sorted(e.start for e in entities)
    ordered = sorted(attributes, key=lambda a: a.start)
    attribute_starts = [a.start for a in ordered]
    types = []
    for entity in entities:
        following = bisect.bisect_left(starts, entity.end)
        until = starts[following] if following < len(starts) else len(text)
        first = bisect.bisect_left(attribute_starts, entity.end)
        last = bisect.bisect_left(attribute_starts, min(until, entity.end + MAX_DISTANCE + 1))
        kinds = {a.type for a in ordered[first:last] if "\n" not in text[entity.end : a.start]} - {"date"}
        fits = [t for t in _DISTINCT_TYPES if kinds and kinds <= set(ATTRIBUTES[t])]
        retype = entity.type in _DISTINCT_TYPES and entity.type not in fits and len(fits) == 1
        types.append(fits[0] if retype else entity.type)
    return types
