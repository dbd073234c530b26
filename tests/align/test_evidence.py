"""Alignment of hand-made notes with known codes, against the real terminologies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from clinex.align import Aligner, AlignReport, CodedFact, align_notes
from clinex.align.evidence import find_evidence, names_of
from clinex.align.text import NoteWords, core, stem
from clinex.core.systems import ICD10CM, LOINC, RXNORM, SNOMED
from clinex.inputs import NoteRecord

NOTE = (
    "Discharge summary\n"
    "Diagnoses: portal hypertension. Essential hypertension. Known PNA on admission.\n"
    "History: diabetes mellitus, type 2, for years; ischaemic cardiomyopathy.\n"
    "She had fever on day 1 and fever again on day 3.\n"
    "No pulmonary embolism on CT. Bilateral kidney cysts.\n"
)
CODES = {
    "K76.6": "name",  # "portal hypertension": the display itself
    "I10": "synonym",  # "Essential hypertension": ICD's display without "(primary)"
    "J18.9": "abbreviation",  # "PNA"
    "N28.1": "variant",  # "kidney cysts": plural and other word order than "Cyst of kidney"
    "R50.9": "synonym",  # "fever", twice
    "I26.99": "synonym",  # "pulmonary embolism", negated
    "Z79.4": None,  # long-term insulin use: not in the note
}


def _align(text: str, facts: list[CodedFact]) -> tuple[dict[str, Any], AlignReport]:
    report = AlignReport(source="codes.tsv")
    records = list(
        align_notes(
            [NoteRecord("n1", text, "n1.txt")], facts, source="codes.tsv", aligner=Aligner(), report=report
        )
    )
    assert len(records) == 1
    return records[0], report


def _facts(codes: Mapping[str, object], system: str = ICD10CM) -> list[CodedFact]:
    return [
        CodedFact(note_id="n1", system=system, code=c, where=f"codes.tsv:{i}") for i, c in enumerate(codes, 1)
    ]


def test_each_method_finds_its_code_and_an_unmentioned_code_is_implicit() -> None:
    record, report = _align(NOTE, _facts(CODES))
    methods = record["meta"]["align"]["entities"]
    found: dict[str, set[str]] = {}
    for entity, method in zip(record["entities"], methods, strict=True):
        assert method["code"] == entity["code"]["code"]
        assert entity["confidence"] == method["score"]
        found.setdefault(method["code"], set()).add(method["method"])
    for code, expected in CODES.items():
        if expected is None:
            assert code not in found
        else:
            assert expected in found.get(code, set()), code
    assert record["meta"]["align"]["implicit"] == [
        {"system": ICD10CM, "code": "Z79.4", "display": "Long term (current) use of insulin"}
    ]
    assert record["meta"]["align"]["partial"] is True
    assert report.to_dict()["implicit"] == 1


def test_two_mentions_are_both_aligned_and_a_negated_one_is_flagged() -> None:
    record, _ = _align(NOTE, _facts(CODES))
    fevers = [e for e in record["entities"] if e["code"]["code"] == "R50.9"]
    assert [e["text"] for e in fevers] == ["fever", "fever"]
    assert fevers[0]["start"] != fevers[1]["start"]
    embolism = [e for e in record["entities"] if e["code"]["code"] == "I26.99"]
    assert len(embolism) == 1 and embolism[0]["assertion"]["negated"] is True
    assert all(not e["assertion"]["negated"] for e in fevers)


def test_every_span_is_grounded() -> None:
    record, _ = _align(NOTE, _facts(CODES))
    assert record["entities"]
    for entity in record["entities"]:
        assert record["text"][entity["start"] : entity["end"]] == entity["text"]
        assert entity["type"] == "condition"


def test_a_parent_name_is_evidence_at_a_lower_score() -> None:
    # I25.10 names the coronary atherosclerosis; the note says only its category's name (I25).
    words = NoteWords("Known chronic ischemic heart disease, stable.")
    hits = find_evidence(words, names_of(ICD10CM, "I25.10", None) or [])
    assert [(words.text[h.start : h.end], h.method) for h in hits] == [
        ("chronic ischemic heart disease", "variant")
    ]
    assert hits[0].score < 0.85


def test_a_code_with_no_evidence_is_never_forced_onto_a_span() -> None:
    record, report = _align("Routine visit, nothing to report.", _facts({"I10": None, "K76.6": None}))
    assert record["entities"] == []
    assert [c["code"] for c in record["meta"]["align"]["implicit"]] == ["I10", "K76.6"]
    assert report.to_dict()["share_grounded"] == 0.0


def test_labs_and_drugs_from_their_terminologies_and_a_snomed_display() -> None:
    text = "Hemoglobin 13.2 g/dL. Started metformin 500 mg. Medication review due (situation)."
    facts = [
        CodedFact(note_id="n1", system=LOINC, code="718-7", where="b.json", type="lab"),
        CodedFact(note_id="n1", system=RXNORM, code="6809", where="b.json", type="medication"),
        CodedFact(
            note_id="n1",
            system=SNOMED,
            code="314529007",
            where="b.json",
            display="Medication review due (situation)",
            type="condition",
        ),
    ]
    record, _ = _align(text, facts)
    got = {(e["code"]["code"], e["type"], e["text"]) for e in record["entities"]}
    assert ("718-7", "lab", "Hemoglobin") in got
    assert ("6809", "medication", "metformin") in got
    assert ("314529007", "condition", "Medication review due (situation)") in got


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("fractures", "fractured"),
        ("diabetes", "diabetic"),
        ("oedema", "edema"),
        ("tumour", "tumor"),
        ("haemorrhage", "hemorrhagic"),
        ("kidneys", "kidney"),
        ("II", "2"),
    ],
)
def test_variants_share_a_stem(a: str, b: str) -> None:
    assert stem(a.lower()) == stem(b.lower())


def test_core_drops_qualifiers_and_keeps_negations() -> None:
    assert core("Type 2 diabetes mellitus without complications") == {"2", "diabet", "mellitus"}
    assert "without" in core("Concussion without loss of consciousness")
    assert core("Other specified disorders") == frozenset()
