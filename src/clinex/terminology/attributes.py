"""The one vocabulary of entity attributes: how notes write doses, routes, frequencies, lab
values and dates, and the canonical form and codes each route and frequency has.

Every part of clinex reads it from here: the extractors' recognisers (:data:`DOSE`,
:data:`ROUTE`, :data:`FREQUENCY`, :data:`LAB_VALUE`, :data:`DATE`), the normaliser, which writes
every route and frequency in its canonical form (``"p.o."`` → ``"oral"``, ``"1-0-1"`` →
``"twice daily"``), the FHIR mapping (SNOMED CT route codes; HL7 v3 GTSAbbreviation codes and
``Timing.repeat``; as needed → ``asNeededBoolean``), the synthetic letter writer (the spellings
it writes, :attr:`Route.written` and :attr:`Frequency.written`), and evaluation, which compares
attributes in canonical form.

German-style dosing schemes ("1-0-1": morning, noon, evening, and night when a fourth number is
given) are read by :func:`frequency` too: the number of non-zero doses per day and when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clinex.terminology.ucum import NUMBER


@dataclass(frozen=True, slots=True)
class Route:
    """A route of administration: canonical name, SNOMED CT concept, spellings."""

    name: str
    snomed: str
    display: str
    #: Every spelling recognised (lower case).
    spellings: tuple[str, ...]
    #: The spellings the synthetic letter writer uses, in the order it draws them.
    written: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Frequency:
    """A dosing frequency: canonical name, HL7 v3 GTSAbbreviation code, ``Timing.repeat``."""

    name: str
    #: The GTSAbbreviation code, or None where the value set has none.
    gts: str | None
    #: ``Timing.repeat`` as (frequency, period, periodUnit); None where no schedule is implied.
    repeat: tuple[int, float, str] | None
    spellings: tuple[str, ...]
    #: ``Timing.repeat.when`` (EventTiming codes), where the frequency says when.
    when: tuple[str, ...] = ()
    #: Doses per day for the synthetic writer (0: as needed), None for other schedules.
    per_day: int | None = None
    written: tuple[str, ...] = ()
    #: German-style dosing schemes the writer uses for this frequency.
    schemes: tuple[str, ...] = ()
    #: Taken only when needed (FHIR ``asNeededBoolean``).
    as_needed: bool = False


ROUTES: tuple[Route, ...] = (
    Route(
        "oral",
        "26643006",
        "Oral route",
        ("oral", "orally", "po", "p.o.", "by mouth", "per os"),
        written=("p.o.", "po", "PO", "orally", "oral"),
    ),
    Route("intravenous", "47625008", "Intravenous route", ("intravenous", "intravenously", "iv", "i.v.")),
    Route(
        "subcutaneous",
        "34206005",
        "Subcutaneous route",
        ("subcutaneous", "subcutaneously", "sc", "s.c.", "sq", "s.q.", "subcut"),
        written=("s.c.", "SC", "subcutaneously"),
    ),
    Route(
        "intramuscular",
        "78421000",
        "Intramuscular route",
        ("intramuscular", "intramuscularly", "im", "i.m."),
        written=("i.m.", "IM"),
    ),
    Route("sublingual", "37839007", "Sublingual route", ("sublingual", "sublingually", "sl")),
    Route("rectal", "37161004", "Rectal route", ("rectal", "rectally", "pr", "p.r.")),
    Route("topical", "6064005", "Topical route", ("topical", "topically"), written=("topical", "topically")),
    Route(
        "transdermal",
        "45890007",
        "Transdermal route",
        ("transdermal", "transdermally"),
        written=("transdermal",),
    ),
    Route(
        "inhalation",
        "447694001",
        "Respiratory tract route",
        ("inhaled", "inhalation", "by inhalation", "inh", "inh.", "nebulised", "nebulized"),
        written=("inhaled", "inh."),
    ),
    Route(
        "nasal",
        "46713006",
        "Nasal route",
        ("nasal", "intranasal", "intranasally"),
        written=("nasal", "intranasal"),
    ),
    Route("intrathecal", "72607000", "Intrathecal route", ("intrathecal", "intrathecally")),
    Route("ophthalmic", "54485002", "Ophthalmic route", ("ophthalmic",)),
)

FREQUENCIES: tuple[Frequency, ...] = (
    Frequency(
        "as needed",
        None,
        None,
        ("as needed", "prn", "p.r.n.", "as required", "when required", "if needed", "on demand"),
        per_day=0,
        written=("as needed", "prn", "p.r.n.", "PRN", "on demand"),
        as_needed=True,
    ),
    Frequency(
        "once daily",
        "QD",
        (1, 1, "d"),
        (
            "once daily",
            "once a day",
            "once per day",
            "daily",
            "every day",
            "each day",
            "qd",
            "q.d.",
            "od",
            "1x daily",
        ),
        per_day=1,
        written=("once daily", "qd", "daily", "od", "1x daily", "QD"),
        schemes=("1-0-0", "0-0-1"),
    ),
    Frequency(
        "twice daily",
        "BID",
        (2, 1, "d"),
        ("twice daily", "twice a day", "two times a day", "bid", "b.i.d.", "bd", "b.d.", "2x daily"),
        per_day=2,
        written=("twice daily", "bid", "b.i.d.", "BID", "2x daily"),
        schemes=("1-0-1",),
    ),
    Frequency(
        "three times daily",
        "TID",
        (3, 1, "d"),
        ("three times daily", "three times a day", "tid", "t.i.d.", "tds", "t.d.s.", "3x daily"),
        per_day=3,
        written=("three times daily", "tid", "t.i.d.", "TID", "3x daily"),
        schemes=("1-1-1",),
    ),
    Frequency(
        "four times daily",
        "QID",
        (4, 1, "d"),
        ("four times daily", "four times a day", "qid", "q.i.d.", "qds", "q.d.s.", "4x daily"),
        per_day=4,
        written=("four times daily", "qid", "q.i.d.", "4x daily"),
        schemes=("1-1-1-1",),
    ),
    Frequency(
        "every other day",
        "QOD",
        (1, 2, "d"),
        ("every other day", "on alternate days", "alternate days", "qod", "q.o.d."),
    ),
    Frequency("every hour", "Q1H", (1, 1, "h"), ("every hour", "hourly")),
    Frequency(
        "every morning", "AM", (1, 1, "d"), ("every morning", "in the morning", "mane", "qam"), when=("MORN",)
    ),
    Frequency("every evening", "PM", (1, 1, "d"), ("every evening", "in the evening", "qpm"), when=("EVE",)),
    Frequency("at bedtime", "BED", (1, 1, "d"), ("at bedtime", "qhs"), when=("HS",)),
    Frequency(
        "at night", "BED", (1, 1, "d"), ("at night", "nightly", "at night time", "nocte"), when=("HS",)
    ),
    Frequency("weekly", "WK", (1, 1, "wk"), ("weekly", "once weekly", "once a week", "every week")),
    Frequency("monthly", "MO", (1, 1, "mo"), ("monthly", "once a month", "every month")),
    Frequency("once", None, None, ("once", "stat")),
)

#: GTSAbbreviation codes of "every N hours" (the value set has no code for other N).
_HOURLY_GTS = {1: "Q1H", 2: "Q2H", 3: "Q3H", 4: "Q4H", 6: "Q6H", 8: "Q8H"}
#: EventTiming of the places of a dosing scheme: morning, noon, evening, night.
_SCHEME_WHEN = ("MORN", "NOON", "EVE", "NIGHT")
#: A dosing scheme: three or four single-digit doses (halves allowed), so a date never reads as one.
_SCHEME = re.compile(r"\d(?:[.,]5)?(?:-\d(?:[.,]5)?){2,3}")
_EVERY = r"(?:q\s*(\d+)\s*h|every\s+(\d+)\s*(?:hours|hrs|h))"
_DAILY = {1: "once daily", 2: "twice daily", 3: "three times daily", 4: "four times daily"}

_ROUTE_BY_SPELLING = {spelling: route for route in ROUTES for spelling in route.spellings}
_FREQUENCY_BY_SPELLING = {spelling: f for f in FREQUENCIES for spelling in f.spellings}
_FREQUENCY_BY_NAME = {f.name: f for f in FREQUENCIES}


def _alternatives(spellings: list[str]) -> str:
    # Longest first, so "twice a day" wins over "daily"; any run of spaces matches one.
    return "|".join(sorted((re.escape(s).replace(r"\ ", r"\s+") for s in spellings), key=len, reverse=True))


_DOSE_UNIT = (
    r"(?:mg|mcg|µg|μg|ug|g|gm|ml|mL|l|L|units?|iu|IU|meq|mEq|mmol|%|puffs?|tabs?|tablets?|caps?|"
    r"capsules?|drops?)(?:\s*/\s*(?:kg|day|d|h|hr|ml|mL|dose|m2))?"
)
#: A unit a dose is written in ("mg", "puffs", "mg/kg").
DOSE_UNIT = re.compile(_DOSE_UNIT, re.IGNORECASE)
#: A dose: a number (or range) and its unit; group 1 is the dose.
DOSE = re.compile(rf"(?<![\w.])((?:{NUMBER})(?:\s*-\s*(?:{NUMBER}))?\s*{_DOSE_UNIT})(?![\w])", re.IGNORECASE)
#: A route as written; group 1 is the route.
ROUTE = re.compile(
    rf"(?<![\w.])({_alternatives(list(_ROUTE_BY_SPELLING))})(?![\w])",
    re.IGNORECASE,
)
#: A frequency as written ("bid", "every 8 hours", "1-0-1"); group 1 is the frequency.
FREQUENCY = re.compile(
    rf"(?<![\w.])({_SCHEME.pattern}|{_EVERY}|{_alternatives(list(_FREQUENCY_BY_SPELLING))})(?![\w])",
    re.IGNORECASE,
)
#: Used with ``.match(text, pos)`` after a lab name: optional "level(s)", "of", "was", ":", "=",
#: then a number (group ``value``) and a unit (group ``unit``).
LAB_VALUE = re.compile(
    r"[ \t]*(?:\((?:[^()\n]{0,30})\)[ \t]*)?(?:levels?[ \t]+)?(?:(?:was|were|is|of|at|:|=|-)[ \t]*){0,3}"
    rf"(?P<value>[<>]?\s?(?:{NUMBER}))(?![\d/])[ \t]*(?P<unit>(?:x[ \t]*)?10\^?\*?\d+/[A-Za-zµμ]+|"
    r"[A-Za-zµμ%°][A-Za-zµμ0-9%°/.\[\]]{0,15})?",
)
#: A date as notes write it; group 1 is the date.
DATE = re.compile(
    r"(?<!\d)(\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|"
    r"(?:\d{1,2}\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+(?:\d{1,2},?\s+)?\d{4})(?!\d)"
)

#: Words of an RxNorm dose form → the route a Synthea medication of that form is written with
#: (first match wins; "inject" is subcutaneous in the Synthea modules' drugs).
FORM_ROUTES: tuple[tuple[str, str], ...] = (
    ("oral", "oral"),
    ("chewable", "oral"),
    ("inhal", "inhalation"),
    ("inject", "subcutaneous"),
    ("prefilled syringe", "subcutaneous"),
    ("topical", "topical"),
    ("transdermal", "transdermal"),
    ("nasal", "nasal"),
)


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def route(text: str) -> Route | None:
    """The route a spelling names (``"p.o."`` → oral), or None."""
    return _ROUTE_BY_SPELLING.get(_key(text))


def frequency(text: str) -> Frequency | None:
    """The frequency a spelling names (``"bid"``, ``"q8h"``, ``"1-0-1"``), or None."""
    key = _key(text)
    known = _FREQUENCY_BY_SPELLING.get(key)
    if known is not None:
        return known
    every = re.fullmatch(_EVERY, key)
    if every:
        hours = int(every[1] or every[2])
        name = f"every {hours} hours" if hours != 1 else "every hour"
        return Frequency(name, _HOURLY_GTS.get(hours), (1, hours, "h"), (key,))
    if _SCHEME.fullmatch(key):
        doses = [float(d.replace(",", ".")) for d in key.split("-")]
        per_day = sum(1 for d in doses if d)
        if not per_day:
            return None
        when = tuple(w for w, d in zip(_SCHEME_WHEN, doses, strict=False) if d)
        base = _FREQUENCY_BY_NAME.get(_DAILY.get(per_day, ""))
        if per_day == 1 and when in (("MORN",), ("EVE",)):
            base = _FREQUENCY_BY_NAME["every morning" if when == ("MORN",) else "every evening"]
            return base
        name = base.name if base is not None else f"{per_day} times daily"
        gts = base.gts if base is not None else None
        return Frequency(name, gts, (per_day, 1, "d"), (key,), when=when)
    return None


def canonical_route(text: str) -> str:
    """The canonical name of a written route, or the text as written when it names none."""
    found = route(text)
    return found.name if found is not None else text


def canonical_frequency(text: str) -> str:
    """The canonical name of a written frequency, or the text as written when it names none."""
    found = frequency(text)
    return found.name if found is not None else text


def letter_routes() -> dict[str, tuple[str, ...]]:
    """Canonical route → the spellings the synthetic writer draws from (routes it writes)."""
    return {r.name: r.written for r in ROUTES if r.written}


def letter_frequencies() -> dict[int, tuple[str, ...]]:
    """Doses per day (0: as needed) → the spellings the synthetic writer draws from."""
    return {f.per_day: f.written for f in FREQUENCIES if f.per_day is not None}


def letter_schemes() -> dict[int, tuple[str, ...]]:
    """Doses per day → the German-style dosing schemes the synthetic writer draws from."""
    return {f.per_day: f.schemes for f in FREQUENCIES if f.per_day is not None and f.schemes}


def route_of_form(form: str) -> str | None:
    """The route of an RxNorm dose form's words (``"oral tablet"`` → oral), see :data:`FORM_ROUTES`."""
    lowered = form.lower()
    return next((r for key, r in FORM_ROUTES if key in lowered), None)
