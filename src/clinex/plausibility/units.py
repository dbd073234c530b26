"""``unit_mismatch``: a lab value whose unit is not of the kind its analyte is measured in
(haemoglobin in g/dL or mmol/L fits; in mg it does not).

The kind a unit is of comes from its UCUM dimension (``ucumvert``'s UCUM-to-pint mapping of the
unit's UCUM code, as the pipeline normalised it: :mod:`clinex.terminology.ucum`). The kinds an
analyte fits come from its LOINC concept: the property its long name states in brackets in the
packaged LOINC subset ("Hemoglobin [Mass/volume] in Blood"), else the conventional and SI units
``labunits`` lists for the code (creatinine: mg/dL and µmol/L). Mass and substance concentration
fit one another (a molar mass converts them: laboratories report either), and so do catalytic and
arbitrary (international) units per volume. A finding needs both: a LOINC code whose kinds are
known, and a unit that is valid UCUM of a known dimension.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from clinex.core.systems import LOINC
from clinex.core.types import Document
from clinex.plausibility.findings import Finding, about
from clinex.terminology.ucum import is_valid, normalise_unit

CHECK = "unit_mismatch"
CONCENTRATION = frozenset({"mass concentration", "substance concentration"})
ACTIVITY = frozenset({"catalytic concentration", "arbitrary concentration"})
FRACTION = frozenset({"fraction or ratio"})
#: The kinds of unit each LOINC property (as long common names write it) fits.
PROPERTY_KINDS: dict[str, frozenset[str]] = {
    "Mass/volume": CONCENTRATION,
    "Moles/volume": CONCENTRATION,
    "Units/volume": ACTIVITY,
    "Enzymatic activity/volume": ACTIVITY,
    "Arbitrary units/volume": ACTIVITY,
    "#/volume": frozenset({"number concentration"}),
    "Volume Fraction": FRACTION,
    "Mass Fraction": FRACTION,
    "Number Fraction": FRACTION,
    "Mass Ratio": FRACTION,
    "Moles/moles": FRACTION,
    "Ratio": FRACTION,
    "Partial pressure": frozenset({"pressure"}),
    "Entitic volume": frozenset({"volume"}),
    "Entitic mass": frozenset({"mass"}),
    "Volume Rate/Area": frozenset({"volume rate"}),
    "Time": frozenset({"time"}),
    "Osmolality": frozenset({"substance content"}),
}
#: A UCUM unit of each kind: a unit is of the kind whose unit has its dimension.
_KIND_UNITS = {
    "mass concentration": "g/L",
    "substance concentration": "mol/L",
    "catalytic concentration": "kat/L",
    "number concentration": "/L",
    "fraction or ratio": "1",
    "pressure": "Pa",
    "volume": "L",
    "mass": "g",
    "time": "s",
    "volume rate": "L/s",
    "substance content": "mol/kg",
    "amount of substance": "mol",
    "length": "m",
    "temperature": "K",
}
_ARBITRARY = re.compile(r"\[(?:IU|iU|arb'U)\]")
_PROPERTY = re.compile(r"\[([^\]]+)\]")


def unit_findings(doc: Document) -> list[Finding]:
    """A finding for each LOINC-coded lab whose unit is not of a kind its analyte fits."""
    findings = []
    for index, entity in enumerate(doc.entities):
        unit = entity.attributes.get("unit")
        if entity.type != "lab" or not unit or entity.code is None or entity.code.system != LOINC:
            continue
        expected = expected_kinds(entity.code.code)
        kind = unit_kind(unit)
        if expected is None or kind is None or kind in expected[0]:
            continue
        message = f"unit {unit} ({kind}) does not fit LOINC {entity.code.code}, {expected[1]}"
        findings.append(about(CHECK, index, entity, message))
    return findings


@functools.lru_cache(maxsize=1024)
def unit_kind(unit: str) -> str | None:
    """The kind of a UCUM unit (``"mg/dL"`` → mass concentration), None where unknown."""
    if not is_valid(unit):
        return None
    dimension = _dimension(unit)
    if dimension is None:
        return None
    kind = _kinds().get(dimension)
    if kind == "number concentration" and _ARBITRARY.search(unit):
        return "arbitrary concentration"
    return kind


@functools.lru_cache(maxsize=1024)
def expected_kinds(code: str) -> tuple[frozenset[str], str] | None:
    """The unit kinds LOINC ``code`` fits and where that is known from (for messages), or None."""
    from clinex.terminology import load

    concept = load("loinc").get(code)
    named = _PROPERTY.findall(concept.display) if concept is not None else []
    if named and named[-1] in PROPERTY_KINDS:
        return PROPERTY_KINDS[named[-1]], f"a {named[-1]} result"
    units = _labunits().get(code)
    if not units:
        return None
    kinds = _closed(k for u in units if (k := unit_kind(u)) is not None)
    return (kinds, f"reported in {' or '.join(units)}") if kinds else None


def _closed(kinds: Iterable[str]) -> frozenset[str]:
    """``kinds`` with the kinds that fit each (mass with substance concentration, ...)."""
    out: set[str] = set()
    for kind in kinds:
        out |= next((group for group in (CONCENTRATION, ACTIVITY) if kind in group), {kind})
    return frozenset(out)


def _dimension(unit: str) -> Any:
    try:
        return _registry().from_ucum(unit).dimensionality
    except Exception:  # ucumvert maps most of UCUM, not all (annotations alone, some specials)
        return None


@functools.cache
def _kinds() -> dict[Any, str]:
    return {_dimension(unit): kind for kind, unit in _KIND_UNITS.items()}


@functools.cache
def _registry() -> Any:
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()


@functools.cache
def _labunits() -> dict[str, tuple[str, ...]]:
    """LOINC code → the UCUM codes of the conventional and SI units labunits gives for it."""
    from labunits import converters

    found: dict[str, tuple[str, ...]] = {}
    for analyte in converters.analytes():
        units = (normalise_unit(analyte.traditional_unit), normalise_unit(analyte.si_unit))
        found[analyte.loinc_num] = tuple(dict.fromkeys(u for u in units if u))
    return found
