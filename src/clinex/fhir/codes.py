"""Fixed code tables the mappers use: family relations and oncology, and Coding builders.

Relations use HL7 v3 RoleCode; oncology observations use the NAACCR-derived LOINC codes that
mCODE and cancer registries use (listed in :data:`TNM_CATEGORY_LOINC` and below). Route and
frequency codes come from the one attribute vocabulary, :mod:`clinex.terminology.attributes`.
"""

from __future__ import annotations

import re
from typing import Any

ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

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


def find_relation(window: str, *, anchor: int) -> tuple[str, str]:
    """The family relation mentioned in ``window`` nearest to position ``anchor``, else FAMMEMB."""
    best: tuple[int, tuple[str, str]] | None = None
    for match in _RELATION_WORD.finditer(window):
        distance = min(abs(match.start() - anchor), abs(match.end() - anchor))
        if best is None or distance < best[0]:
            best = (distance, RELATIONS[match[1].lower()])
    return best[1] if best else FAMILY_MEMBER
