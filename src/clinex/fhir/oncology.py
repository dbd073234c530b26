"""Tumor entities → a Condition for the neoplasm plus Observations for stage, histology and grade.

Codes (LOINC, NAACCR-derived, as used by mCODE and cancer registries):

- TNM categories: cT 21905-5, cN 21906-3, cM 21907-1; pT 21899-0, pN 21900-6, pM 21901-4
  (``p``/``yp`` prefixes count as pathological, everything else as clinical), one Observation
  per category with the category as written in ``valueCodeableConcept.text``;
- a stage group ("stage IIIA"): 21908-9 (clinical) or 21902-2 (pathological), with
  ``hasMember`` pointing at the category Observations;
- a TNM string that parses into neither: one Observation coded only by text
  ("TNM classification"), the string in ``valueString``;
- histology: 59847-4 "Histology and Behavior ICD-O-3 Cancer" (text value: no ICD-O-3 code is
  guessed); grade: 21858-6 "Grade Cancer".

Each Observation has ``focus`` → the tumor Condition, and the Condition lists the staging
Observations in ``stage.assessment`` with the TNM string as ``stage.summary.text``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from clinex.core.systems import LOINC
from clinex.core.types import Entity
from clinex.fhir import codes
from clinex.fhir.dates import parse_date
from clinex.fhir.resources import Refs, condition

# A TNM category: optional c/p/yp/r prefix, the letter, its value; "pT2N1M0" and "T2 N0 M0" alike.
_CATEGORY = re.compile(r"(?P<prefix>y?[cpr])?(?P<category>[TNM])(?P<value>is|[Xx]|[0-4][a-d]?)(?![a-z])")
_STAGE_GROUP = re.compile(r"\bstage\s+(?P<group>[0IV]{1,4}[ABC]?\d?|[0-4][ABC]?)\b", re.IGNORECASE)

#: Returns a new urn:uuid fullUrl for the tumor's n-th extra resource.
NewRef = Callable[[str], str]


def tumor_resources(entity: Entity, refs: Refs, new_ref: NewRef) -> list[tuple[str, dict[str, Any]]]:
    """(fullUrl, resource) pairs; the first is the Condition, at ``new_ref("condition")``."""
    condition_url = new_ref("condition")
    resource = condition(entity, refs)
    pairs: list[tuple[str, dict[str, Any]]] = [(condition_url, resource)]
    if entity.assertion.negated:
        return pairs  # a refuted tumor has no stage, histology or grade
    effective = parse_date(entity.attributes.get("date", ""))

    def observation(code: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
        obs: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "code": code,
            "subject": {"reference": refs.patient},
            "focus": [{"reference": condition_url}],
        }
        if effective:
            obs["effectiveDateTime"] = effective
        obs.update(value)
        obs["derivedFrom"] = [{"reference": refs.note}]
        return obs

    tnm = entity.attributes.get("tnm", "").strip()
    if tnm:
        staging = _staging(tnm, observation, new_ref)
        pairs.extend(staging)
        resource["stage"] = [
            {"summary": {"text": tnm}, "assessment": [{"reference": url} for url, _ in staging]}
        ]
    histology = entity.attributes.get("histology", "").strip()
    if histology:
        code = codes.concept(LOINC, *codes.HISTOLOGY_LOINC)
        pairs.append((new_ref("histology"), observation(code, {"valueCodeableConcept": {"text": histology}})))
    grade = entity.attributes.get("grade", "").strip()
    if grade:
        code = codes.concept(LOINC, *codes.GRADE_LOINC)
        pairs.append((new_ref("grade"), observation(code, {"valueCodeableConcept": {"text": grade}})))
    return pairs


def _staging(
    tnm: str, observation: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]], new_ref: NewRef
) -> list[tuple[str, dict[str, Any]]]:
    categories = parse_tnm(tnm)
    group = _STAGE_GROUP.search(tnm)
    pairs: list[tuple[str, dict[str, Any]]] = []
    for kind, category, written in categories:
        code = codes.concept(LOINC, *codes.TNM_CATEGORY_LOINC[(kind, category)])
        pairs.append(
            (new_ref(f"tnm-{category}"), observation(code, {"valueCodeableConcept": {"text": written}}))
        )
    if group:
        kind = categories[0][0] if categories else "c"
        code = codes.concept(LOINC, *codes.STAGE_GROUP_LOINC[kind])
        value: dict[str, Any] = {"valueCodeableConcept": {"text": f"Stage {group['group'].upper()}"}}
        if pairs:
            value["hasMember"] = [{"reference": url} for url, _ in pairs]
        pairs.insert(0, (new_ref("stage-group"), observation(code, value)))
    if not pairs:
        pairs.append((new_ref("tnm"), observation({"text": "TNM classification"}, {"valueString": tnm})))
    return pairs


def parse_tnm(tnm: str) -> list[tuple[str, str, str]]:
    """``(kind, category, as written)`` per TNM category, kind ``c`` or ``p``; e.g. ``pT2 N1 M0``
    gives ``[("p","T","pT2"), ("p","N","N1"), ("p","M","M0")]`` (a prefix carries forward)."""
    found: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    kind = "c"
    for match in _CATEGORY.finditer(tnm):
        prefix, category = match["prefix"], match["category"]
        if category in seen:
            continue
        if prefix:
            kind = "p" if prefix.endswith("p") else "c"
        seen.add(category)
        found.append((kind, category, match[0]))
    return found
