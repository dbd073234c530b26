"""The normaliser: codes for entities an extractor left uncoded, and UCUM units.

Codes: condition → ICD-10-CM, lab → LOINC, medication → RxNorm; procedures stay uncoded (an
ICD-10-PCS code needs body part, approach and device, which a mention rarely states). An
ICD-10-CM category, found by lookup or given by the extractor, becomes the billable leaf the
text justifies where exactly one does (J45 → J45.909; rule in :mod:`clinex.terminology.icd10cm`).

Confidence: when the normaliser codes an entity, the entity's confidence becomes
``confidence × (0.5 + 0.5 × score)``, where ``score`` is the lookup score (1.0 exact display,
0.95 synonym, at most 0.9 fuzzy): an exact hit keeps the extractor's confidence, a weak fuzzy
hit lowers it by up to half. A medication is coded with the RxNorm drug whose strength matches
the dose the note gives, else with the ingredient concept when the subset has one; an
ambiguous or merely similar name stays uncoded rather than coded with a guessed drug.
"""

from __future__ import annotations

import re

from clinex.core.types import Code, Entity
from clinex.terminology import icd10cm, loinc, rxnorm
from clinex.terminology._index import IndexedTerminology
from clinex.terminology.base import Match
from clinex.terminology.ucum import normalise_unit, parse_quantity

_BY_SYSTEM = {icd10cm.SYSTEM: icd10cm.load, loinc.SYSTEM: loinc.load, rxnorm.SYSTEM: rxnorm.load}
# Drugs whose form a bare "name + strength" does not imply: combinations and modified release.
_SPECIFIC_FORM = re.compile(r" / |\b\d+ HR\b|Extended Release|Delayed Release", re.IGNORECASE)
_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*(MG|MCG|UNT|ML|MEQ|G)\b")
_ICD_CANDIDATES = 10
_DOSE_AFTER = re.compile(r"[\s,:]*(\d+(?:[.,]\d+)?\s*[a-zA-Zµμ]+(?:/[a-zA-Z]+)?)")


def normalise(entities: list[Entity], text: str) -> list[Entity]:
    """``entities`` with missing codes filled and unit attributes in UCUM (order kept).

    ``text`` is the note, read for a medication's strength when the extractor gave no dose.
    """
    return [_normalise_one(entity, text) for entity in entities]


def _normalise_one(entity: Entity, text: str) -> Entity:
    attributes = dict(entity.attributes)
    if "unit" in attributes:
        # A unit UCUM cannot express stays as written: it is still the note's unit.
        attributes["unit"] = normalise_unit(attributes["unit"]) or attributes["unit"]
    if "dose" in attributes:
        quantity = parse_quantity(attributes["dose"])
        if quantity is not None and quantity.unit != "1":
            attributes["dose"] = f"{quantity.value:g} {quantity.unit}"
    entity = entity.with_(attributes=attributes)
    if entity.code is not None:
        return _with_display(entity, _billable(entity.code))
    match: Match | None = None
    terminology: IndexedTerminology | None = None
    if entity.type == "condition":
        terminology = icd10cm.load()
        # More than one hit: a billable leaf the text also names may follow the category.
        match = icd10cm.best_match(terminology.lookup(entity.text, limit=_ICD_CANDIDATES))
    elif entity.type == "lab":
        terminology = loinc.load()
        match = _first(terminology.lookup(entity.text, limit=1))
    elif entity.type == "medication":
        terminology = rxnorm.load()
        match = _medication(terminology, entity, text)
    if match is None or terminology is None:
        return entity
    code = Code(system=terminology.system, code=match.concept.code, display=match.concept.display)
    return entity.with_(code=code, confidence=round(entity.confidence * (0.5 + 0.5 * match.score), 4))


def _billable(code: Code) -> Code:
    if code.system != icd10cm.SYSTEM:
        return code
    leaf = icd10cm.billable(code.code)
    # A display given for the category no longer fits the leaf: _with_display sets the leaf's.
    return code if leaf == code.code else Code(system=code.system, code=leaf)


def _with_display(entity: Entity, code: Code) -> Entity:
    if code.display is None and code.system in _BY_SYSTEM:
        concept = _BY_SYSTEM[code.system]().get(code.code)
        if concept is not None:
            code = Code(system=code.system, code=code.code, display=concept.display)
    return entity if code == entity.code else entity.with_(code=code)


def _first(matches: list[Match]) -> Match | None:
    return matches[0] if matches else None


def _medication(terminology: IndexedTerminology, entity: Entity, text: str) -> Match | None:
    # No fuzzy fallback: a near name is another drug (prednisolone ≠ prednisone), and a wrong
    # drug code is worse than none.
    candidates = terminology.lookup(entity.text, limit=50, fuzzy=False)
    dose = entity.attributes.get("dose")
    if dose is None and entity.end is not None:
        after = _DOSE_AFTER.match(text, entity.end)
        dose = after[1] if after else None
    quantity = parse_quantity(dose) if dose else None
    if quantity is not None:
        for match in candidates:
            if _SPECIFIC_FORM.search(match.concept.display):
                continue
            for value, unit in _STRENGTH.findall(match.concept.display):
                if (
                    float(value) == quantity.value
                    and normalise_unit(unit.lower().replace("unt", "[IU]")) == quantity.unit
                ):
                    return match
    ingredients = [m for m in candidates if not re.search(r"\d", m.concept.display)]
    return ingredients[0] if ingredients else None
