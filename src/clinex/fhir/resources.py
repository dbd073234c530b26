"""One entity → its FHIR R4 resource(s) (as JSON-ready dicts, without ids or extensions).

Statuses come from the assertion flags by the table of :mod:`clinex.fhir.status` (DESIGN.md's
rules). Any entity with the family flag becomes a FamilyMemberHistory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from clinex.core.systems import GTS_ABBREVIATION, SNOMED
from clinex.core.types import Entity
from clinex.fhir import codes, status
from clinex.fhir.dates import parse_date
from clinex.fhir.quantities import parse_quantity
from clinex.terminology import attributes

# How far around a family entity to look for the relative it is about ("mother had ...").
_RELATION_WINDOW = 120
_SENTENCE_END = re.compile(r"[.;!?\n]")


@dataclass(frozen=True, slots=True)
class Refs:
    """References an entity's resources need: the patient and the note (urn:uuid fullUrls)."""

    patient: str
    note: str


def code_concept(entity: Entity) -> dict[str, Any]:
    """CodeableConcept from the entity's code (if any) with the text as written."""
    result: dict[str, Any] = {}
    if entity.code is not None:
        result["coding"] = [codes.coding(entity.code.system, entity.code.code, entity.code.display)]
    result["text"] = entity.text
    return result


def condition(entity: Entity, refs: Refs) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Condition"}
    for element, table, system in (
        ("clinicalStatus", status.CLINICAL, status.CONDITION_CLINICAL),
        ("verificationStatus", status.VERIFICATION, status.CONDITION_VERIFICATION),
    ):
        code = table.write(entity.assertion)
        if code is not None:
            resource[element] = codes.concept(system, code, code.capitalize())
    resource["code"] = code_concept(entity)
    resource["subject"] = {"reference": refs.patient}
    onset = parse_date(entity.attributes.get("date", ""))
    if onset:
        resource["onsetDateTime"] = onset
    resource["evidence"] = [{"detail": [{"reference": refs.note}]}]
    return resource


def family_member_history(entity: Entity, refs: Refs, note: str) -> dict[str, Any]:
    relation_code, relation_display = _relation(entity, note)
    item: dict[str, Any] = {"code": code_concept(entity)}
    notes = []
    if entity.type != "condition" and entity.type != "tumor":
        # FHIR R4 FamilyMemberHistory records conditions only; keep what kind of fact it was.
        notes.append({"text": f"extracted as {entity.type}"})
    if entity.assertion.negated:
        # R4 has no element to deny a relative's condition; say it where every reader sees it.
        notes.append({"text": status.FAMILY_NEGATED_NOTE})
    if notes:
        item["note"] = notes
    onset = parse_date(entity.attributes.get("date", ""))
    if onset:
        item["onsetString"] = onset
    return {
        "resourceType": "FamilyMemberHistory",
        "status": status.FAMILY_STATUS,
        "patient": {"reference": refs.patient},
        "relationship": codes.concept(codes.ROLE_CODE, relation_code, relation_display),
        "condition": [item],
    }


def _relation(entity: Entity, note: str) -> tuple[str, str]:
    if entity.start is None or entity.end is None:
        return codes.find_relation(entity.text, anchor=0)
    # Only the sentence holding the entity, so a relative named in the next sentence is not used.
    left = note[max(0, entity.start - _RELATION_WINDOW) : entity.start]
    ends = list(_SENTENCE_END.finditer(left))
    if ends:
        left = left[ends[-1].end() :]
    right = note[entity.end : entity.end + _RELATION_WINDOW]
    stop = _SENTENCE_END.search(right)
    if stop:
        right = right[: stop.start()]
    window = left + " " * (entity.end - entity.start) + right
    return codes.find_relation(window, anchor=len(left))


def medication_statement(entity: Entity, refs: Refs) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "status": status.MEDICATION.write(entity.assertion),
        "medicationCodeableConcept": code_concept(entity),
        "subject": {"reference": refs.patient},
    }
    effective = parse_date(entity.attributes.get("date", ""))
    if effective:
        resource["effectiveDateTime"] = effective
    resource["derivedFrom"] = [{"reference": refs.note}]
    dosage = _dosage(entity.attributes)
    if dosage:
        resource["dosage"] = [dosage]
    return resource


def _dosage(written: dict[str, str]) -> dict[str, Any]:
    dose, route, frequency = (written.get(k, "").strip() for k in ("dose", "route", "frequency"))
    dosage: dict[str, Any] = {}
    text = " ".join(part for part in (dose, route, frequency) if part)
    if text:
        dosage["text"] = text
    if frequency:
        dosage.update(_timing(frequency))
    if route:
        route_concept: dict[str, Any] = {"text": route}
        known_route = attributes.route(route)
        if known_route is not None:
            route_concept["coding"] = [codes.coding(SNOMED, known_route.snomed, known_route.display)]
        dosage["route"] = route_concept
    quantity = parse_quantity(dose) if dose else None
    if quantity and "comparator" not in quantity:  # doseQuantity is a SimpleQuantity: no comparator
        dosage["doseAndRate"] = [{"doseQuantity": quantity}]
    return dosage


def _timing(frequency: str) -> dict[str, Any]:
    """``timing`` (the frequency as written, its GTSAbbreviation code and ``Timing.repeat`` where
    known) and, for a frequency taken as needed, ``asNeededBoolean`` instead of a timing code."""
    timing: dict[str, Any] = {"code": {"text": frequency}}
    found: dict[str, Any] = {"timing": timing}
    known = attributes.frequency(frequency)
    if known is None:
        return found
    if known.gts is not None and not known.as_needed:
        timing["code"]["coding"] = [codes.coding(GTS_ABBREVIATION, known.gts)]
    if known.repeat is not None:
        count, period, unit = known.repeat
        timing["repeat"] = {"frequency": count, "period": period, "periodUnit": unit}
        if known.when:
            timing["repeat"]["when"] = list(known.when)
    if known.as_needed:
        found["asNeededBoolean"] = True
    return found


def lab_observation(entity: Entity, refs: Refs) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": status.OBSERVATION.write(entity.assertion),
        "category": [codes.concept(codes.OBSERVATION_CATEGORY, "laboratory", "Laboratory")],
        "code": code_concept(entity),
        "subject": {"reference": refs.patient},
    }
    effective = parse_date(entity.attributes.get("date", ""))
    if effective:
        resource["effectiveDateTime"] = effective
    value = entity.attributes.get("value", "").strip()
    if value:
        unit = entity.attributes.get("unit")
        quantity = parse_quantity(value, unit.strip() if unit else None)
        if quantity is not None:
            resource["valueQuantity"] = quantity
        else:
            resource["valueString"] = value if not unit else f"{value} {unit.strip()}"
    resource["derivedFrom"] = [{"reference": refs.note}]
    return resource


def procedure(entity: Entity, refs: Refs) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "status": status.PROCEDURE.write(entity.assertion),
        "code": code_concept(entity),
        "subject": {"reference": refs.patient},
    }
    performed = parse_date(entity.attributes.get("date", ""))
    if performed:
        resource["performedDateTime"] = performed
    return resource
