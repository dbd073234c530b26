"""Regular expressions for what follows a medication or lab name: dose, route, frequency,
lab value and unit, and dates."""

from __future__ import annotations

import re

_NUMBER = r"\d+(?:[.,]\d+)?"
_DOSE_UNIT = (
    r"(?:mg|mcg|µg|μg|ug|g|gm|ml|mL|l|L|units?|iu|IU|meq|mEq|mmol|%|puffs?|tabs?|tablets?|caps?|"
    r"capsules?|drops?)(?:\s*/\s*(?:kg|day|d|h|hr|ml|mL|dose|m2))?"
)
DOSE_UNIT = re.compile(_DOSE_UNIT, re.IGNORECASE)
DOSE = re.compile(rf"(?<![\w.])({_NUMBER}(?:\s*-\s*{_NUMBER})?\s*{_DOSE_UNIT})(?![\w])", re.IGNORECASE)

#: Route as written (lower-cased) → the route name recorded in attributes.
ROUTES = {
    "po": "oral",
    "p.o.": "oral",
    "oral": "oral",
    "orally": "oral",
    "by mouth": "oral",
    "iv": "intravenous",
    "i.v.": "intravenous",
    "intravenous": "intravenous",
    "intravenously": "intravenous",
    "sc": "subcutaneous",
    "s.c.": "subcutaneous",
    "sq": "subcutaneous",
    "subcut": "subcutaneous",
    "subcutaneous": "subcutaneous",
    "subcutaneously": "subcutaneous",
    "im": "intramuscular",
    "i.m.": "intramuscular",
    "intramuscular": "intramuscular",
    "intramuscularly": "intramuscular",
    "topical": "topical",
    "topically": "topical",
    "inhaled": "inhalation",
    "inh": "inhalation",
    "nebulized": "inhalation",
    "sl": "sublingual",
    "sublingual": "sublingual",
    "pr": "rectal",
    "rectal": "rectal",
    "rectally": "rectal",
    "transdermal": "transdermal",
    "intrathecal": "intrathecal",
    "ophthalmic": "ophthalmic",
    "nasal": "nasal",
    "intranasal": "nasal",
}
ROUTE = re.compile(
    r"(?<![\w.])(" + "|".join(sorted((re.escape(r) for r in ROUTES), key=len, reverse=True)) + r")(?![\w])",
    re.IGNORECASE,
)

#: Frequency as written (lower-cased, spaces collapsed) → the recorded frequency.
FREQUENCIES = {
    "qd": "once daily",
    "od": "once daily",
    "once daily": "once daily",
    "once a day": "once daily",
    "daily": "once daily",
    "every day": "once daily",
    "once per day": "once daily",
    "bid": "twice daily",
    "b.i.d.": "twice daily",
    "twice daily": "twice daily",
    "twice a day": "twice daily",
    "two times a day": "twice daily",
    "tid": "three times daily",
    "t.i.d.": "three times daily",
    "three times daily": "three times daily",
    "three times a day": "three times daily",
    "qid": "four times daily",
    "q.i.d.": "four times daily",
    "four times daily": "four times daily",
    "four times a day": "four times daily",
    "qhs": "at bedtime",
    "at bedtime": "at bedtime",
    "at night": "at night",
    "nightly": "at night",
    "every morning": "every morning",
    "qam": "every morning",
    "in the morning": "every morning",
    "weekly": "weekly",
    "once weekly": "weekly",
    "once a week": "weekly",
    "monthly": "monthly",
    "prn": "as needed",
    "as needed": "as needed",
    "when required": "as needed",
    "stat": "once",
    "once": "once",
}
_EVERY = r"(?:q\s*(\d+)\s*h|every\s+(\d+)\s*(?:hours|hrs|h))"
FREQUENCY = re.compile(
    r"(?<![\w.])("
    + _EVERY
    + "|"
    + "|".join(sorted((re.escape(f).replace(r"\ ", r"\s+") for f in FREQUENCIES), key=len, reverse=True))
    + r")(?![\w])",
    re.IGNORECASE,
)

# Used with .match(text, pos): after a lab name, optional "level(s)", "of", "was", ":", "=", then a number and a unit.
LAB_VALUE = re.compile(
    r"[ \t]*(?:\((?:[^()\n]{0,30})\)[ \t]*)?(?:levels?[ \t]+)?(?:(?:was|were|is|of|at|:|=|-)[ \t]*){0,3}"
    rf"(?P<value>[<>]?\s?{_NUMBER})(?![\d/])[ \t]*(?P<unit>(?:x[ \t]*)?10\^?\*?\d+/[A-Za-zµμ]+|"
    r"[A-Za-zµμ%°][A-Za-zµμ0-9%°/.\[\]]{0,15})?",
)
DATE = re.compile(
    r"(?<!\d)(\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|"
    r"(?:\d{1,2}\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+(?:\d{1,2},?\s+)?\d{4})(?!\d)"
)


def frequency_name(found: str) -> str:
    """The recorded form of a frequency match (``"q8h"`` → ``"every 8 hours"``)."""
    every = re.fullmatch(_EVERY, found, re.IGNORECASE)
    if every:
        return f"every {every[1] or every[2]} hours"
    return FREQUENCIES[re.sub(r"\s+", " ", found.lower())]
