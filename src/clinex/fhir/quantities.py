"""Numbers with units from free text → FHIR Quantity with UCUM codes where the unit is valid UCUM."""

from __future__ import annotations

import re
from typing import Any

from clinex.terminology.ucum import normalise_unit

UCUM_SYSTEM = "http://unitsofmeasure.org"

_NUMBER_UNIT = re.compile(
    r"^\s*(?P<comparator><=|>=|<|>)?\s*"
    r"(?P<number>(?P<thousands>\d{1,3}(?:,\d{3})+(?:\.\d+)?)|\d+,\d+|\d*\.?\d+)\s*(?P<unit>.*?)\s*$"
)

# A unit written after a number starts like one; "1-2 tablets" or "5 / 10 mg" is not one quantity.
_UNIT_START = re.compile(r"^[A-Za-z%µμ\[{]")


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
        code = normalise_unit(written_unit)
        if code is not None:
            quantity["system"] = UCUM_SYSTEM
            quantity["code"] = code
    return quantity
