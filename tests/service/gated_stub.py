"""An extractor whose load waits for a gate file (``CLINEX_TEST_LOAD_GATE``), or fails when the
gate file says ``fail``: /ready can be seen loading, then ready or failed, with no race.
Imported by name in the service's worker process (tests/service is on its sys.path)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from clinex.core.errors import ModelError
from clinex.core.types import Entity
from clinex.pipeline import load_extractor

GATE_ENV = "CLINEX_TEST_LOAD_GATE"


class GatedExtractor:
    name = "gated"

    def __init__(self) -> None:
        gate = Path(os.environ[GATE_ENV])
        while not gate.exists():
            time.sleep(0.05)
        if gate.read_text().strip() == "fail":
            raise ModelError("model file missing: /models/x", hint="give --model a model folder")
        self.inner = load_extractor("rules")

    def extract(self, text: str) -> list[Entity]:
        return self.inner.extract(text)
