"""``dose_out_of_range``: a medication's dose outside the plausible single dose of its drug by
its route, from the table ``data/dose_ranges.tsv`` (coarse safety bounds for spotting extraction
and transcription errors, not dosing advice; its ``source`` column names where each figure comes
from).

A mention is matched to a drug by its RxNorm ingredient code, else by the ingredients of its
concept or name (:mod:`clinex.plausibility.ingredients`). Its dose (``"500 mg"``, normalised by
the pipeline) is converted to the table's unit where that is a change of prefix of the same
kind: g, mg, ug (mcg, µg) and ng into one another, and U into [IU] (insulin and heparin doses
are written "units"). A dose in any other unit (mL, tablets, mg/kg, a range) is not flagged,
nor a route the table has no range for. A mention with no route is flagged only when its dose is
outside the range of every route the table has for the drug.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

from clinex.core.errors import InternalError
from clinex.core.systems import RXNORM
from clinex.core.types import Document, Entity
from clinex.plausibility.findings import Finding, about
from clinex.plausibility.ingredients import drug_keys, ingredient_key
from clinex.terminology.ucum import parse_quantity

CHECK = "dose_out_of_range"
#: Units a dose may be converted between: the factor to the kind's base unit.
_FACTORS: dict[str, tuple[str, float]] = {
    "g": ("mass", 1e3),
    "mg": ("mass", 1.0),
    "ug": ("mass", 1e-3),
    "ng": ("mass", 1e-6),
    "[IU]": ("units", 1.0),
    "U": ("units", 1.0),
}
_COLUMNS = ("drug", "names", "rxcui", "route", "unit", "min", "max", "source")


@dataclass(frozen=True, slots=True)
class DoseRange:
    """The plausible single dose of one drug by one route (bounds inclusive, in ``unit``)."""

    drug: str
    route: str
    unit: str
    low: float
    high: float
    source: str


@dataclass(frozen=True, slots=True)
class DoseTable:
    """The ranges of every drug, by RxNorm code and by ingredient key."""

    by_code: dict[str, str]
    by_key: dict[str, str]
    ranges: dict[str, dict[str, DoseRange]]

    def ranges_of(self, entity: Entity) -> dict[str, DoseRange] | None:
        """The ranges by route of the drug ``entity`` names, or None where none is known."""
        if entity.code is not None and entity.code.system == RXNORM and entity.code.code in self.by_code:
            return self.ranges[self.by_code[entity.code.code]]
        for key in drug_keys(entity):
            if key in self.by_key:
                return self.ranges[self.by_key[key]]
        return None


def convert(value: float, unit: str, to: str) -> float | None:
    """``value`` in ``unit`` expressed in ``to``, or None where the units are not of one kind."""
    have, want = _FACTORS.get(unit), _FACTORS.get(to)
    if have is None or want is None or have[0] != want[0]:
        return None
    return round(value * have[1] / want[1], 9)  # 0.1 mg is 100 ug, not 100.00000000000001


def dose_findings(doc: Document) -> list[Finding]:
    """A finding for each medication whose dose is outside its drug's range."""
    table = dose_table()
    findings = []
    for index, entity in enumerate(doc.entities):
        if entity.type != "medication" or "dose" not in entity.attributes:
            continue
        ranges = table.ranges_of(entity)
        quantity = parse_quantity(entity.attributes["dose"])
        if ranges is None or quantity is None:
            continue
        route = entity.attributes.get("route")
        if route and route not in ranges:
            continue
        chosen = [ranges[route]] if route else list(ranges.values())
        unit = chosen[0].unit  # one unit per drug (checked when the table is read)
        dose = convert(quantity.value, quantity.unit, unit)
        low, high = min(r.low for r in chosen), max(r.high for r in chosen)
        if dose is None or low <= dose <= high:
            continue
        side, bound = (
            ("above the plausible maximum", high) if dose > high else ("below the plausible minimum", low)
        )
        message = (
            f"dose {quantity.value:g} {quantity.unit} of {chosen[0].drug} ({route or 'any route'}) is {side} "
            f"single dose of {bound:g} {unit}"
        )
        findings.append(about(CHECK, index, entity, message))
    return findings


@functools.cache
def dose_table() -> DoseTable:
    """The packaged table (``data/dose_ranges.tsv``), read once; a malformed row is a bug."""
    text = (resources.files("clinex.plausibility") / "data" / "dose_ranges.tsv").read_text(encoding="utf-8")
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line and not line.startswith("#")]
    rows = csv.reader([line for _, line in lines], delimiter="\t")
    if tuple(next(rows)) != _COLUMNS:
        raise InternalError("dose_ranges.tsv: unexpected header", hint=f"columns: {', '.join(_COLUMNS)}")
    by_code: dict[str, str] = {}
    by_key: dict[str, str] = {}
    ranges: dict[str, dict[str, DoseRange]] = {}
    for (number, _), row in zip(lines[1:], rows, strict=True):
        try:
            drug, names, rxcui, route, unit, low, high, source = row
            dose_range = DoseRange(drug, route, unit, float(low), float(high), source)
        except ValueError:
            raise InternalError(f"dose_ranges.tsv:{number}: malformed row") from None
        if unit not in _FACTORS or not 0 < dose_range.low <= dose_range.high or not source:
            raise InternalError(f"dose_ranges.tsv:{number}: bad unit, bounds or source")
        routes = ranges.setdefault(drug, {})
        if any(r.unit != unit for r in routes.values()):
            raise InternalError(f"dose_ranges.tsv:{number}: {drug} has ranges in two units")
        routes[route] = dose_range
        by_code.update((code, drug) for code in rxcui.split("|") if code)
        by_key.update((ingredient_key(name.split(" + ")), drug) for name in names.split("|"))
    return DoseTable(by_code, by_key, ranges)
