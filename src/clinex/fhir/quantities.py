"""Numbers with units from free text → FHIR Quantity with UCUM codes where the unit is valid UCUM."""

from __future__ import annotations

import re
from typing import Any

from clinex.core.systems import UCUM
from clinex.terminology.ucum import NUMBER, normalise_unit, number_value

_NUMBER_UNIT = re.compile(rf"^\s*(?P<comparator><=|>=|<|>)?\s*(?P<number>{NUMBER})\s*(?P<unit>.*?)\s*$")

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
    quantity: dict[str, Any] = {"value": number_value(match["number"])}
    if match["comparator"]:
        quantity["comparator"] = match["comparator"]
    if written_unit:
        quantity["unit"] = written_unit
        code = normalise_unit(written_unit)
        if code is not None:
            quantity["system"] = UCUM
            quantity["code"] = code
    return quantity
