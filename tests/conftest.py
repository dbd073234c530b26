"""Shared test fixtures and the opt-in flags.

Flags (spacy-llm's pattern): ``--gpu`` (or ``CLINEX_TEST_GPU=1``) runs tests marked ``gpu``,
``--slow`` (or ``CLINEX_TEST_SLOW=1``) those marked ``slow``, ``--external`` those marked
``external`` (a remote server or API); without the flag each is skipped with the reason.
The public data of ``../shared/data`` is reached through the ``shared_data`` fixture, which
skips with one reason where the folder is absent (a clone outside the workspace).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from clinex.core.registry import extractors
from clinex.core.systems import ICD10CM, LOINC, RXNORM
from clinex.core.types import Assertion, Code, Entity

#: The workspace's public data (read-only; see its README).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_FLAGS = {
    "gpu": "needs a CUDA GPU: run with --gpu (or CLINEX_TEST_GPU=1)",
    "slow": "slow on 2 CPU cores: run with --slow (or CLINEX_TEST_SLOW=1)",
    "external": "needs a server or API outside this machine: run with --external",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    for flag, text in _FLAGS.items():
        parser.addoption(f"--{flag}", action="store_true", default=False, help=text)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    enabled = {
        flag
        for flag in _FLAGS
        if config.getoption(f"--{flag}")
        or os.environ.get(f"CLINEX_TEST_{flag.upper()}", "") in {"1", "true", "yes"}
    }
    for item in items:
        for flag, reason in _FLAGS.items():
            if flag in item.keywords and flag not in enabled:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (CodiEsp, NegEx, MACCROBAT), or a skip where the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the workspace's public data is not here ({SHARED_DATA}); see ../shared/data/README.md")
    return SHARED_DATA


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
