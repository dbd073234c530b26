"""Numbers with units from free text → FHIR Quantity with UCUM codes where the unit is valid UCUM."""

from __future__ import annotations

import functools
import re
from typing import Any

UCUM_SYSTEM = "http://unitsofmeasure.org"

# Spellings seen in notes that are not UCUM as written; keys are lower-case.
_UCUM_SPELLINGS = {
    "mcg": "ug",
    "µg": "ug",
    "μg": "ug",
    "ml": "mL",
    "cc": "mL",
    "l": "L",
    "dl": "dL",
    "mg/dl": "mg/dL",
    "g/dl": "g/dL",
    "mmol/l": "mmol/L",
    "umol/l": "umol/L",
    "µmol/l": "umol/L",
    "μmol/l": "umol/L",
    "mEq/l": "meq/L",
    "meq/l": "meq/L",
    "iu": "[iU]",
    "unit": "[iU]",
    "units": "[iU]",
    "u/l": "U/L",
    "iu/l": "[iU]/L",
    "ng/ml": "ng/mL",
    "pg/ml": "pg/mL",
    "mg/l": "mg/L",
    "g/l": "g/L",
    "x10^9/l": "10*9/L",
    "x 10^9/l": "10*9/L",
    "10^9/l": "10*9/L",
    "x10^12/l": "10*12/L",
    "10^12/l": "10*12/L",
    "k/ul": "10*3/uL",
    "mmhg": "mm[Hg]",
    "bpm": "/min",
    "tablet": "{tbl}",
    "tablets": "{tbl}",
    "tab": "{tbl}",
    "tabs": "{tbl}",
    "puff": "{puff}",
    "puffs": "{puff}",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73 m2": "mL/min/{1.73_m2}",
}

_NUMBER_UNIT = re.compile(
    r"^\s*(?P<comparator><=|>=|<|>)?\s*"
    r"(?P<number>(?P<thousands>\d{1,3}(?:,\d{3})+(?:\.\d+)?)|\d+,\d+|\d*\.?\d+)\s*(?P<unit>.*?)\s*$"
)

# A unit written after a number starts like one; "1-2 tablets" or "5 / 10 mg" is not one quantity.
_UNIT_START = re.compile(r"^[A-Za-z%µμ\[{]")


@functools.lru_cache(maxsize=1)
def _ucum_parser() -> Any:
    from ucumvert import get_ucum_parser

    return get_ucum_parser()


@functools.lru_cache(maxsize=4096)
def ucum_code(unit: str) -> str | None:
    """The UCUM code for a unit as written in a note, or None if it is not (made) valid UCUM."""
    unit = unit.strip()
    if not unit:
        return None
    candidate = _UCUM_SPELLINGS.get(unit.lower(), unit)
    try:
        _ucum_parser().parse(candidate)
    except Exception:  # ucumvert raises lark errors of several kinds for an invalid unit
        return None
    return candidate


def parse_quantity(value: str, unit: str | None = None) -> dict[str, Any] | None:
    """A FHIR Quantity for ``value`` (e.g. ``"500 mg"``, ``"<0.01"``), or None if not numeric.

    ``unit`` overrides a unit written inside ``value``. The unit text is kept as written; the
    UCUM system and code are added only when the unit is valid UCUM.
    """
    match = _NUMBER_UNIT.match(value)
    if match is None:
        return None
    written_unit = (unit if unit is not None else match["unit"]).strip()
    if unit is None and written_unit and not _UNIT_START.match(written_unit):
        return None  # "1-2 tablets", "5 / 10 mg": not one number with a unit
    # "1,200" groups thousands; any other comma is a decimal comma ("76,4 bpm" in German letters).
    number = match["number"].replace(",", "" if match["thousands"] else ".")
    quantity: dict[str, Any] = {"value": float(number) if "." in number else int(number)}
    if match["comparator"]:
        quantity["comparator"] = match["comparator"]
    if written_unit:
        quantity["unit"] = written_unit
        code = ucum_code(written_unit)
        if code is not None:
            quantity["system"] = UCUM_SYSTEM
            quantity["code"] = code
    return quantity
