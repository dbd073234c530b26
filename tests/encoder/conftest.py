"""Tiny hand-written letters with markup, turned into `clinex synth`-style JSONL records."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from clinex.core.types import ATTRIBUTES

# "[metformin]{medication} [500 mg]{dose}"; "{condition!negated}" sets an assertion flag.
_MARK = re.compile(r"\[([^\]]+)\]\{(\w+)(?:!(\w+))?\}")

TEMPLATES = [
    "Discharge summary.\nDiagnoses: [type 2 diabetes mellitus]{condition} and [essential hypertension]{condition}.\n"
    "Medications: [metformin]{medication} [500 mg]{dose} [oral]{route} [twice daily]{frequency}.\n"
    "Labs: [hemoglobin]{lab} [13.2]{value} [g/dL]{unit} on [2024-03-02]{date}.\n"
    "The patient denies [chest pain]{condition!negated}. History of [asthma]{condition!historical}.",
    "Admission note.\nProblem: [chronic kidney disease]{condition}.\n"
    "Plan: [lisinopril]{medication} [10 mg]{dose} [oral]{route} [once daily]{frequency}.\n"
    "[creatinine]{lab} [1.4]{value} [mg/dL]{unit}. No [fever]{condition!negated}.\n"
    "Mother had [breast cancer]{condition!family}.",
    "Clinic letter.\n[atrial fibrillation]{condition} on [apixaban]{medication} [5 mg]{dose} [oral]{route} "
    "[twice daily]{frequency}.\n[potassium]{lab} [4.1]{value} [mmol/L]{unit} on [2023-11-20]{date}.",
]


def parse_markup(marked: str) -> dict[str, Any]:
    """Plain text and DESIGN.md entities (attributes attached to the preceding entity)."""
    text, entities, cursor, last = "", [], 0, None
    for match in _MARK.finditer(marked):
        text += marked[cursor : match.start()]
        start = len(text)
        text += match[1]
        kind, flag = match[2], match[3]
        if kind in ATTRIBUTES:
            last = {"type": kind, "text": match[1], "start": start, "end": len(text), "attributes": {}}
            if flag:
                last["assertion"] = {flag: True}
            entities.append(last)
        else:
            assert last is not None, "an attribute needs an entity before it"
            last["attributes"][kind] = match[1]
        cursor = match.end()
    return {"text": text + marked[cursor:], "entities": entities}


@pytest.fixture(scope="session")
def letters_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("letters") / "train.jsonl"
    with path.open("w") as fh:
        for i, marked in enumerate(TEMPLATES * 2):
            fh.write(json.dumps({"id": f"letter-{i}", **parse_markup(marked)}) + "\n")
    return path
