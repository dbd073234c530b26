"""UCUM units: normalise the spellings clinicians write to valid UCUM codes (checked with
``ucumvert``'s UCUM grammar) and parse quantities such as ``"500 mg"``."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

# Clinical spellings that are not UCUM (or not its conventional case), lower-cased.
_ALIASES = {
    "mcg": "ug",
    "µg": "ug",
    "μg": "ug",
    "meq": "meq",
    "iu": "[IU]",
    "units": "[IU]",
    "unit": "[IU]",
    "u": "U",
    "u/l": "U/L",
    "k/ul": "10*3/uL",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73 m2": "mL/min/{1.73_m2}",
    "bpm": "/min",
    "beats/min": "/min",
    "/min": "/min",
    "mmhg": "mm[Hg]",
    "mm hg": "mm[Hg]",
    "cc": "mL",
    "gm": "g",
    "gr": "g",
    "grams": "g",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "sec": "s",
    "mins": "min",
    "tab": "{tbl}",
    "tabs": "{tbl}",
    "tablet": "{tbl}",
    "tablets": "{tbl}",
    "puff": "{puff}",
    "puffs": "{puff}",
    "drop": "{drop}",
    "drops": "{drop}",
    "cap": "{cap}",
    "caps": "{cap}",
    "capsule": "{cap}",
    "capsules": "{cap}",
    "celsius": "Cel",
    "°c": "Cel",
    "c": "Cel",
}
_POWER = re.compile(r"^(?:x\s*)?10\s*(?:\^|\*|e)\s*(\d+)\s*/\s*(\w+)$", re.IGNORECASE)
_LITRE = re.compile(r"(?<![A-Za-z])([munpfdcµμ]?)l\b")
_MICRO = re.compile(r"[µμ]")
_SUPERSCRIPTS = str.maketrans("²³", "23")
#: A number as notes write it: "1,200" groups thousands, any other comma is a decimal comma
#: ("76,4" in German-convention letters). Read it with :func:`number_value`.
NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+,\d+|\d*\.?\d+"
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_QUANTITY = re.compile(rf"^\s*({NUMBER})\s*([^\d\s].*?)?\s*$")


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with a UCUM unit (``unit`` is ``"1"`` for a bare number)."""

    value: float
    unit: str


@functools.cache
def _parser() -> Any:
    import ucumvert

    return ucumvert.get_ucum_parser()


@functools.lru_cache(maxsize=4096)
def is_valid(unit: str) -> bool:
    """Whether ``unit`` is a valid UCUM expression (case-sensitive, as UCUM is)."""
    if not unit or unit != unit.strip():
        return False
    try:
        _parser().parse(unit)
    except Exception:  # ucumvert raises lark's errors of several kinds for invalid input
        return False
    return True


@functools.lru_cache(maxsize=4096)
def normalise_unit(text: str) -> str | None:
    """The UCUM code for a clinical unit spelling (``"mg/dl"`` → ``"mg/dL"``), or None."""
    unit = text.strip().rstrip(".")
    if not unit:
        return None
    alias = _ALIASES.get(unit.lower())
    if alias is not None:
        return alias
    power = _POWER.match(unit)
    if power:
        unit = f"10*{power[1]}/{normalise_unit(power[2]) or power[2]}"
    unit = _MICRO.sub("u", unit).translate(_SUPERSCRIPTS)
    unit = re.sub(r"(?i)(?<![a-z])([mk]?)iu\b", lambda m: f"{m[1].lower()}[IU]", unit)
    unit = re.sub(r"(?i)\bmcg\b", "ug", unit)
    unit = re.sub(r"(?i)\bmeq\b", "meq", unit)
    unit = re.sub(r"(?i)mmhg", "mm[Hg]", unit)
    unit = re.sub(r"\s*/\s*", "/", unit)
    # UCUM accepts both l and L for the litre; L is the convention on lab reports and in FHIR.
    unit = _LITRE.sub(lambda m: f"{m[1]}L", unit)
    return unit if is_valid(unit) else None


def number_value(number: str) -> int | float:
    """The value of a :data:`NUMBER` match: ``"1,200"`` → 1200, ``"7,2"`` → 7.2, ``"12"`` → 12."""
    number = number.replace(",", "" if _THOUSANDS.fullmatch(number) else ".")
    return float(number) if "." in number else int(number)


def parse_quantity(text: str) -> Quantity | None:
    """``"500 mg"`` → ``Quantity(500.0, "mg")``; ``"7,2 mmol/l"`` → ``(7.2, "mmol/L")``; else None."""
    match = _QUANTITY.match(text)
    if not match:
        return None
    value = float(number_value(match[1]))
    if match[2] is None:
        return Quantity(value, "1")
    unit = normalise_unit(match[2])
    return None if unit is None else Quantity(value, unit)
