"""Shared test fixtures and the opt-in flags.

Flags (spacy-llm's pattern): ``--gpu`` (or ``CLINEX_TEST_GPU=1``) runs tests marked ``gpu``,
``--slow`` (or ``CLINEX_TEST_SLOW=1``) those marked ``slow``, ``--external`` those marked
``external`` (a remote server or API); without the flag each is skipped with the reason.
The public data of ``../shared/data`` is reached through the ``shared_data`` fixture, which
skips with one reason where the folder is absent (a clone outside the workspace). Stand-ins
come from :mod:`clinex.testing` and are registered only for the test that asks for them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clinex.core.registry import extractors
from clinex.core.systems import ICD10CM, LOINC, RXNORM
from clinex.testing import FixedEntitiesExtractor
from postgres_server import fresh_database, missing, postgres_server

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
def postgres_url() -> Iterator[str]:
    """The URL of a database on a real PostgreSQL server this session started (Debian's
    packages; `.ci/run` installs them), or a skip naming what is missing."""
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_database(postgres_url: str) -> str:
    """A new, empty database on the session's PostgreSQL server."""
    return fresh_database(postgres_url)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (CodiEsp, NegEx, MACCROBAT), or a skip where the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the workspace's public data is not here ({SHARED_DATA}); see ../shared/data/README.md")
    return SHARED_DATA


@pytest.fixture
def fixed_extractor_name() -> Iterator[str]:
    """:class:`clinex.testing.FixedEntitiesExtractor` with :data:`LETTER_ENTITIES` (the demo
    letter's entities), registered as ``fixed.v1`` for one test only; yields ``"fixed"``."""
    with extractors.override("fixed.v1", functools.partial(FixedEntitiesExtractor, LETTER_ENTITIES)):
        yield "fixed"


#: phrase → the entity FixedEntitiesExtractor reports where the phrase occurs (first occurrence),
#: in the JSONL form (examples/discharge_letter.txt holds every phrase).
LETTER_ENTITIES: dict[str, dict[str, Any]] = {
    "Community-acquired pneumonia": {"type": "condition", "code": {"system": ICD10CM, "code": "J18.9"}},
    "pulmonary embolism": {
        "type": "condition",
        "assertion": {"negated": True},
        "code": {"system": ICD10CM, "code": "I26.99"},
    },
    "myocardial infarction": {
        "type": "condition",
        "assertion": {"historical": True},
        "code": {"system": ICD10CM, "code": "I25.2", "display": "Old myocardial infarction"},
        "attributes": {"date": "2015"},
    },
    "pleural effusion": {
        "type": "condition",
        "assertion": {"uncertain": True},
        "code": {"system": ICD10CM, "code": "J90"},
    },
    "acute coronary syndrome": {"type": "condition", "assertion": {"negated": True}},
    "breast cancer": {
        "type": "condition",
        "assertion": {"family": True},
        "code": {"system": ICD10CM, "code": "C50.919"},
    },
    "stroke": {"type": "condition", "assertion": {"family": True}},
    "Metformin": {
        "type": "medication",
        "code": {"system": RXNORM, "code": "6809", "display": "metformin"},
        "attributes": {"dose": "1000 mg", "route": "orally", "frequency": "twice daily"},
        "confidence": 0.97,
    },
    "Tiotropium": {
        "type": "medication",
        "attributes": {"dose": "18 mcg", "route": "inhaled", "frequency": "once daily"},
    },
    "Warfarin": {
        "type": "medication",
        "assertion": {"historical": True},
        "attributes": {"date": "2022"},
    },
    "aspirin": {"type": "medication", "assertion": {"negated": True}},
    "HbA1c": {
        "type": "lab",
        "code": {"system": LOINC, "code": "4548-4", "display": "Hemoglobin A1c/Hemoglobin.total in Blood"},
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
        "assertion": {"historical": True},
        "attributes": {"date": "2009"},
    },
    "sleep study": {"type": "procedure", "assertion": {"hypothetical": True}, "confidence": 0.5},
}


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A local Ray cluster (2 CPUs) for one test module, stopped after it; yields its address.
    Skips where Ray is not installed (``pip install 'clinex[ray]'``)."""
    ray = pytest.importorskip("ray", reason="--engine ray needs Ray Data: pip install 'clinex[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()
