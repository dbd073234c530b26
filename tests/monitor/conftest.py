"""Synthetic letters for the monitor tests: real Synthea patients, template letters, rules output."""

from __future__ import annotations

import json

import pytest

from clinex.core.types import Document
from clinex.pipeline import Pipeline, load_extractor
from clinex.synth.dataset import SynthConfig, generate_dataset


@pytest.fixture(scope="session")
def letters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, str]]]:
    """Letters by split (train: training layouts; test: held-out layouts), 3 Synthea patients."""
    out = tmp_path_factory.mktemp("monitor-synth")
    generate_dataset(SynthConfig(out_dir=out, synthea=3, letters=260, seed=5, write_fhir=False))
    return {
        split: [
            json.loads(line) for line in (out / "splits" / f"{split}.jsonl").read_text("utf-8").splitlines()
        ]
        for split in ("train", "test")
    }


@pytest.fixture(scope="session")
def extract_rules():
    """Notes → Documents with the rules extractor (calibrated, as clinex extract writes them)."""
    pipeline = Pipeline(load_extractor("rules"))

    def run(records: list[dict[str, str]], prefix: str = "") -> list[Document]:
        return [pipeline(r["text"], id=prefix + r["id"]) for r in records]

    return run
