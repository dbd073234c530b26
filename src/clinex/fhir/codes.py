"""Fixed code tables the mappers use: routes, dosing frequencies, family relations, oncology.

Routes are SNOMED CT route-of-administration concepts; frequencies use HL7 v3
GTSAbbreviation (the codes of FHIR's timing-abbreviation value set) plus ``Timing.repeat``;
relations use HL7 v3 RoleCode; oncology observations use the NAACCR-derived LOINC codes that
mCODE and cancer registries use (listed in :data:`TNM_CATEGORY_LOINC` and below).
"""

from __future__ import annotations

import re
from typing import Any

ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# route as written (lower-case) → (SNOMED CT code, display)
ROUTES: dict[str, tuple[str, str]] = {}
for _spellings, _code, _display in [
    (("oral", "orally", "po", "p.o.", "by mouth"), "26643006", "Oral route"),
    (("intravenous", "intravenously", "iv", "i.v."), "47625008", "Intravenous route"),
    (("subcutaneous", "subcutaneously", "sc", "s.c.", "subcut", "sq"), "34206005", "Subcutaneous route"),
    (("intramuscular", "intramuscularly", "im", "i.m."), "78421000", "Intramuscular route"),
    (("sublingual", "sublingually", "sl"), "37839007", "Sublingual route"),
    (("rectal", "rectally", "pr"), "37161004", "Rectal route"),
    (("topical", "topically"), "6064005", "Topical route"),
    (("transdermal", "transdermally"), "45890007", "Transdermal route"),
    (
        ("inhaled", "inhalation", "inh", "by inhalation", "nebulised", "nebulized"),
        "447694001",
        "Respiratory tract route",
    ),
    (("nasal", "intranasal", "intranasally"), "46713006", "Nasal route"),
]:
    for _spelling in _spellings:
        ROUTES[_spelling] = (_code, _display)

# frequency as written (lower-case, normalised spaces) → (GTS code, frequency, period, periodUnit)
FREQUENCIES: dict[str, tuple[str, int, float, str]] = {}
for _spellings, _freq in [
    (("once daily", "daily", "once a day", "od", "qd", "q.d.", "every day", "each day"), ("QD", 1, 1, "d")),
    (("twice daily", "twice a day", "bid", "b.i.d.", "bd", "b.d."), ("BID", 2, 1, "d")),
    (("three times daily", "three times a day", "tid", "t.i.d.", "tds"), ("TID", 3, 1, "d")),
    (("four times daily", "four times a day", "qid", "q.i.d.", "qds"), ("QID", 4, 1, "d")),
    (("every other day", "on alternate days", "qod", "q.o.d."), ("QOD", 1, 2, "d")),
    (("every hour", "hourly", "q1h"), ("Q1H", 1, 1, "h")),
    (("every 2 hours", "q2h"), ("Q2H", 1, 2, "h")),
    (("every 3 hours", "q3h"), ("Q3H", 1, 3, "h")),
    (("every 4 hours", "q4h"), ("Q4H", 1, 4, "h")),
    (("every 6 hours", "q6h"), ("Q6H", 1, 6, "h")),
    (("every 8 hours", "q8h"), ("Q8H", 1, 8, "h")),
    (("every morning", "in the morning", "mane", "qam"), ("AM", 1, 1, "d")),
    (("every evening", "in the evening", "nocte", "qpm"), ("PM", 1, 1, "d")),
    (("at bedtime", "at night", "nightly", "qhs", "at night time"), ("BED", 1, 1, "d")),
    (("weekly", "once weekly", "once a week", "every week"), ("WK", 1, 1, "wk")),
    (("monthly", "once a month", "every month"), ("MO", 1, 1, "mo")),
]:
    for _spelling in _spellings:
        FREQUENCIES[_spelling] = _freq

# family relation word → (v3 RoleCode, display); longest words are matched first.
RELATIONS: dict[str, tuple[str, str]] = {
    "maternal grandmother": ("MGRMTH", "maternal grandmother"),
    "maternal grandfather": ("MGRFTH", "maternal grandfather"),
    "paternal grandmother": ("PGRMTH", "paternal grandmother"),
    "paternal grandfather": ("PGRFTH", "paternal grandfather"),
    "grandmother": ("GRMTH", "grandmother"),
    "grandfather": ("GRFTH", "grandfather"),
    "mother": ("MTH", "mother"),
    "father": ("FTH", "father"),
    "brother": ("BRO", "brother"),
    "sister": ("SIS", "sister"),
    "sibling": ("SIB", "sibling"),
    "siblings": ("SIB", "sibling"),
    "son": ("SONC", "son"),
    "daughter": ("DAUC", "daughter"),
    "child": ("CHILD", "child"),
    "aunt": ("AUNT", "aunt"),
    "uncle": ("UNCLE", "uncle"),
    "cousin": ("COUSN", "cousin"),
    "parent": ("PRN", "parent"),
    "parents": ("PRN", "parent"),
}
FAMILY_MEMBER = ("FAMMEMB", "family member")
_RELATION_WORD = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, RELATIONS), key=len, reverse=True)) + r")\b", re.IGNORECASE
)

# TNM: (clinical|pathological, category) → (LOINC code, display)
TNM_CATEGORY_LOINC: dict[tuple[str, str], tuple[str, str]] = {
    ("c", "T"): ("21905-5", "Primary tumor.clinical [Class] Cancer"),
    ("c", "N"): ("21906-3", "Regional lymph nodes.clinical [Class] Cancer"),
    ("c", "M"): ("21907-1", "Distant metastases.clinical [Class] Cancer"),
    ("p", "T"): ("21899-0", "Primary tumor.pathology Cancer"),
    ("p", "N"): ("21900-6", "Regional lymph nodes.pathology Cancer"),
    ("p", "M"): ("21901-4", "Distant metastases.pathology Cancer"),
}
STAGE_GROUP_LOINC = {
    "c": ("21908-9", "Stage group.clinical Cancer"),
    "p": ("21902-2", "Stage group.pathology Cancer"),
}
HISTOLOGY_LOINC = ("59847-4", "Histology and Behavior ICD-O-3 Cancer")
GRADE_LOINC = ("21858-6", "Grade Cancer")


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    result = {"system": system, "code": code}
    if display:
        result["display"] = display
    return result


def concept(system: str, code: str, display: str, text: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        result["text"] = text
    return result


def normalise(phrase: str) -> str:
    return " ".join(phrase.lower().split())


def find_relation(window: str, *, anchor: int) -> tuple[str, str]:
    """The family relation mentioned in ``window`` nearest to position ``anchor``, else FAMMEMB."""
    best: tuple[int, tuple[str, str]] | None = None
    for match in _RELATION_WORD.finditer(window):
        distance = min(abs(match.start() - anchor), abs(match.end() - anchor))
        if best is None or distance < best[0]:
            best = (distance, RELATIONS[match[1].lower()])
    return best[1] if best else FAMILY_MEMBER
