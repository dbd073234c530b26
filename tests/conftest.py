"""Shared test fixtures: a test-only extractor with fixed, hand-written entities."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from clinex.core.registry import extractors
from clinex.core.types import Assertion, Code, Entity

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"

#: phrase → the entity FixedEntitiesExtractor reports where the phrase occurs (first occurrence).
LETTER_ENTITIES: dict[str, dict[str, Any]] = {
    "Community-acquired pneumonia": {"type": "condition", "code": Code(system=ICD10CM, code="J18.9")},
    "pulmonary embolism": {
        "type": "condition",
        "assertion": Assertion(negated=True),
        "code": Code(system=ICD10CM, code="I26.99"),
    },
    "myocardial infarction": {
        "type": "condition",
        "assertion": Assertion(historical=True),
        "code": Code(system=ICD10CM, code="I25.2", display="Old myocardial infarction"),
        "attributes": {"date": "2015"},
    },
    "pleural effusion": {
        "type": "condition",
        "assertion": Assertion(uncertain=True),
        "code": Code(system=ICD10CM, code="J90"),
    },
    "acute coronary syndrome": {"type": "condition", "assertion": Assertion(negated=True)},
    "breast cancer": {
        "type": "condition",
        "assertion": Assertion(family=True),
        "code": Code(system=ICD10CM, code="C50.919"),
    },
    "stroke": {"type": "condition", "assertion": Assertion(family=True)},
    "Metformin": {
        "type": "medication",
        "code": Code(system=RXNORM, code="6809", display="metformin"),
        "attributes": {"dose": "1000 mg", "route": "orally", "frequency": "twice daily"},
        "confidence": 0.97,
    },
    "Tiotropium": {
        "type": "medication",
        "attributes": {"dose": "18 mcg", "route": "inhaled", "frequency": "once daily"},
    },
    "Warfarin": {
        "type": "medication",
        "assertion": Assertion(historical=True),
        "attributes": {"date": "2022"},
    },
    "aspirin": {"type": "medication", "assertion": Assertion(negated=True)},
    "HbA1c": {
        "type": "lab",
        "code": Code(system=LOINC, code="4548-4", display="Hemoglobin A1c/Hemoglobin.total in Blood"),
        "attributes": {"value": "8.4", "unit": "%", "date": "03/11/2024"},
    },
    "white cell count": {
        "type": "lab",
        "attributes": {"value": "14.8", "unit": "x10^9/L", "date": "03/11/2024"},
    },
    "Blood cultures": {"type": "lab", "attributes": {"value": "no growth"}},
    "CT pulmonary angiogram": {"type": "procedure", "attributes": {"date": "03/11/2024"}},
    "appendectomy": {
        "type": "procedure",
        "assertion": Assertion(historical=True),
        "attributes": {"date": "2009"},
    },
    "sleep study": {"type": "procedure", "assertion": Assertion(hypothetical=True), "confidence": 0.5},
}


@dataclass
class FixedEntitiesExtractor:
    """TEST ONLY: reports hand-written entities wherever their phrase occurs in the note.

    Stands in for the real extractors so FHIR mapping and the CLI are tested on known entities.
    Each phrase is grounded at its first occurrence (``note[start:end] == phrase``); phrases
    not in the note are not reported.
    """

    entities: Mapping[str, dict[str, Any]] = field(default_factory=lambda: LETTER_ENTITIES)
    #: A JSON file ``{phrase: {"type": ..., ...}}`` replacing the table (how ``--model`` is tested).
    model: str | None = None
    name: str = "fixed-test.v1"

    def __post_init__(self) -> None:
        if self.model is not None:
            self.entities = json.loads(Path(self.model).read_text(encoding="utf-8"))

    def extract(self, text: str) -> list[Entity]:
        found = []
        for phrase, spec in self.entities.items():
            start = text.find(phrase)
            if start >= 0:
                found.append(Entity(text=phrase, start=start, end=start + len(phrase), **spec))
        return found


@pytest.fixture(scope="session")
def fixed_extractor_name() -> str:
    """Registers FixedEntitiesExtractor as ``fixed-test`` and returns that name."""
    if "fixed-test.v1" not in extractors.names():
        extractors.register("fixed-test.v1", FixedEntitiesExtractor)
    return "fixed-test"
