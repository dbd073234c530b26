import csv
import re
from pathlib import Path

import pytest

from clinex.assertion import assert_entities
from clinex.core.types import Assertion, Entity

NEGEX = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "negex" / "dev.tsv"
needs_negex = pytest.mark.skipif(not NEGEX.is_file(), reason="shared NegEx data not present")


def _mention(sentence: str, condition: str) -> Entity | None:
    found = re.search(r"\s+".join(map(re.escape, condition.split())), sentence, re.IGNORECASE)
    if not found:
        return None
    return Entity(type="condition", text=found[0], start=found.start(), end=found.end())


def _rows() -> list[dict[str, str]]:
    with NEGEX.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _flag(text: str, target: str) -> Assertion:
    entity = _mention(text, target)
    assert entity is not None
    return assert_entities(text, [entity], learned=False)[0].assertion


def test_context_and_sections_set_flags() -> None:
    assert _flag("No evidence of pneumonia.", "pneumonia").negated
    assert _flag("Possible pneumonia.", "pneumonia").uncertain
    assert _flag("History of stroke in 2010.", "stroke").historical
    assert _flag("His mother had breast cancer.", "breast cancer").family
    assert _flag("Return if chest pain develops.", "chest pain").hypothetical
    assert _flag("Pneumonia.", "pneumonia").affirmed
    assert _flag("Family History:\nDiabetes.", "diabetes").family
    assert _flag("Past Medical History:\nAsthma.", "asthma").historical
    assert _flag("CT was negative for pulmonary embolism.", "pulmonary embolism").negated
    assert not _flag("A 40-year-old man with a two-day history of fever.", "fever").historical


def test_flags_already_set_stay_and_unspanned_entities_pass_through() -> None:
    text = "Pneumonia."
    given = Entity(type="condition", text="Pneumonia", start=0, end=9, assertion=Assertion(family=True))
    unspanned = Entity(type="condition", text="asthma", alignment="none")
    out = assert_entities(text, [given, unspanned])
    assert out[0].assertion.family and out[1] is unspanned


def test_overlapping_mentions_are_each_assessed() -> None:
    text = "No chronic kidney disease."
    outer = _mention(text, "chronic kidney disease")
    inner = _mention(text, "kidney disease")
    assert outer is not None and inner is not None
    out = assert_entities(text, [outer, inner], learned=False)
    assert all(e.assertion.negated for e in out)


@needs_negex
@pytest.mark.parametrize("index", range(0, 1188, 99))
def test_sampled_negex_negation(index: int) -> None:
    row = _rows()[index]
    entity = _mention(row["sentence"], row["condition"].strip())
    if entity is None:
        pytest.skip("condition not verbatim in sentence")
    got = assert_entities(row["sentence"], [entity], learned=False)[0].assertion
    assert got.negated == (row["negation"] == "Negated")


@needs_negex
def test_negex_file_f1_stays_above_medspacy_default() -> None:
    counts = {"negated": [0, 0, 0], "historical": [0, 0, 0]}
    for row in _rows():
        entity = _mention(row["sentence"], row["condition"].strip())
        if entity is None:
            continue
        got = assert_entities(row["sentence"], [entity], learned=False)[0].assertion
        gold = {"negated": row["negation"] == "Negated", "historical": row["temporality"] == "Historical"}
        for flag, tally in counts.items():
            predicted = getattr(got, flag)
            tally[0] += predicted and gold[flag]
            tally[1] += predicted and not gold[flag]
            tally[2] += gold[flag] and not predicted
    f1 = {flag: 2 * tp / (2 * tp + fp + fn) for flag, (tp, fp, fn) in counts.items()}
    # medspaCy's default ConText scores 0.93 and 0.59 on this file (see README). The rules
    # alone no longer read "known X" as historical (a known diagnosis is an active one), which
    # costs historical recall here; the learned layer carries historical (its own test).
    assert f1["negated"] >= 0.92
    assert f1["historical"] >= 0.59
