from pathlib import Path

import pytest

from clinex.core.errors import EvaluationError
from clinex.core.types import Assertion, Entity
from clinex.corpora import detect_format, maccrobat_halves, read_corpus, read_maccrobat, write_brat
from clinex.corpora.maccrobat import lab_value

NOTE = (
    "A 60-year-old woman with a history of asthma presented with fever. Her mother had lupus. "
    "She denied chest pain. Possible pneumonia was considered. Aspirin 100 mg p.o. daily was given. "
    "Serum creatinine was 2.2 mg/dL. Chest X-ray was normal. She underwent appendectomy. "
    "Renal and hepatic cysts were seen."
)
ANN = """\
T1	Age 2 13	60-year-old
T2	History 27 44	history of asthma
T3	Disease_disorder 38 44	asthma
E1	Disease_disorder:T3 
T4	Sign_symptom 60 65	fever
E2	Sign_symptom:T4 
R1	BEFORE Arg1:E1 Arg2:E2	
T5	Family_history 71 87	mother had lupus
T6	Disease_disorder 82 87	lupus
T7	Sign_symptom 100 105;106 110	chest pain
E3	Sign_symptom:T7 
A1	POLARITY E3 NEG
T8	Disease_disorder 121 130	pneumonia
E4	Disease_disorder:T8 
A2	MODALITY E4 UNCERTAIN
T9	Medication 147 154	Aspirin
E5	Medication:T9 
T10	Dosage 155 161	100 mg
R2	MODIFY Arg1:T10 Arg2:E5	
T11	Administration 162 166	p.o.
R3	MODIFY Arg1:T11 Arg2:E5	
T12	Frequency 167 172	daily
R4	MODIFY Arg1:T12 Arg2:T9	
T13	Diagnostic_procedure 184 200	Serum creatinine
E6	Diagnostic_procedure:T13 
T14	Lab_value 205 214	2.2 mg/dL
R5	MODIFY Arg1:T14 Arg2:E6	
A3	TREND E6 INC
T15	Diagnostic_procedure 216 227	Chest X-ray
E7	Diagnostic_procedure:T15 
T16	Lab_value 232 238	normal
R6	MODIFY Arg1:T16 Arg2:E7	
T17	Therapeutic_procedure 254 266	appendectomy
E8	Therapeutic_procedure:T17 
A4	POLARITY E8 POS
T18	Disease_disorder 268 273;286 291	Renal cysts
T19	Disease_disorder 278 291	hepatic cysts
*	OVERLAP E1 E2
#1	AnnotatorNotes T3	free text is skipped
"""


def write_case(folder: Path, doc_id: str = "123", ann: str = ANN, note: str = NOTE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{doc_id}.ann").write_text(ann, encoding="utf-8")
    (folder / f"{doc_id}.txt").write_text(note, encoding="utf-8")
    return folder


def test_every_mapping_rule(tmp_path: Path) -> None:
    corpus = read_maccrobat(write_case(tmp_path))
    assert corpus.format == "maccrobat"
    assert corpus.location("123") == "123.ann"
    doc = corpus.documents["123"]
    assert doc.id == "123" and doc.text == NOTE
    assert doc.entities == [
        Entity(type="condition", text="asthma", start=38, end=44, assertion=Assertion(historical=True)),
        Entity(type="condition", text="fever", start=60, end=65),
        Entity(type="condition", text="lupus", start=82, end=87, assertion=Assertion(family=True)),
        # discontinuous, but the fragments joined are the note's text: kept whole
        Entity(type="condition", text="chest pain", start=100, end=110, assertion=Assertion(negated=True)),
        Entity(type="condition", text="pneumonia", start=121, end=130, assertion=Assertion(uncertain=True)),
        Entity(
            type="medication",
            text="Aspirin",
            start=147,
            end=154,
            attributes={"dose": "100 mg", "route": "p.o.", "frequency": "daily"},
        ),
        Entity(
            type="lab",
            text="Serum creatinine",
            start=184,
            end=200,
            attributes={"value": "2.2", "unit": "mg/dL"},
        ),
        # a Lab_value that is not a number leaves a Diagnostic_procedure a procedure
        Entity(type="procedure", text="Chest X-ray", start=216, end=227),
        Entity(type="procedure", text="appendectomy", start=254, end=266),
        # "Renal ... cysts": the fragments joined are not the note's text, so the first one only
        Entity(type="condition", text="Renal", start=268, end=273),
        Entity(type="condition", text="hepatic cysts", start=278, end=291),
    ]
    assert all(e.is_grounded_in(NOTE) for e in doc.entities)


def test_first_modifier_in_text_order_and_duplicates(tmp_path: Path) -> None:
    note = "Ibuprofen 200 mg then 400 mg. Blood pressure 90/60 mmHg, later 120/80 mmHg."
    ann = (
        "T1\tMedication 0 9\tIbuprofen\n"
        "T2\tDosage 22 28\t400 mg\n"
        "T3\tDosage 10 16\t200 mg\n"
        "R1\tMODIFY Arg1:T2 Arg2:T1\n"
        "R2\tMODIFY Arg1:T3 Arg2:T1\n"
        "T4\tDiagnostic_procedure 30 44\tBlood pressure\n"
        "T5\tLab_value 63 74\t120/80 mmHg\n"
        "T6\tLab_value 45 55\t90/60 mmHg\n"
        "R3\tMODIFY Arg1:T5 Arg2:T4\n"
        "R4\tMODIFY Arg1:T6 Arg2:T4\n"
        "T7\tDiagnostic_procedure 30 44\tBlood pressure\n"
        "T8\tMedication 0 9\tIbuprofen\n"
    )
    entities = read_maccrobat(write_case(tmp_path, "7", ann, note)).documents["7"].entities
    assert [(e.type, e.text, e.attributes) for e in entities] == [
        ("medication", "Ibuprofen", {"dose": "200 mg"}),
        ("lab", "Blood pressure", {"value": "90/60", "unit": "mmHg"}),
        ("procedure", "Blood pressure", {}),
    ]  # T8 repeats T1: one entity, the first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.2 mg/dL", {"value": "2.2", "unit": "mg/dL"}),
        ("<3 μmol/L", {"value": "<3", "unit": "μmol/L"}),
        ("36.8°C", {"value": "36.8", "unit": "°C"}),
        ("20%", {"value": "20", "unit": "%"}),
        ("487/μL", {"value": "487", "unit": "/μL"}),
        ("585 × 109/L", {"value": "585", "unit": "× 109/L"}),
        ("15 to 20 percent", {"value": "15 to 20", "unit": "percent"}),
        ("0.20", {"value": "0.20"}),
        ("more than 4 ng/ml", {"value": "more than 4 ng/ml"}),
        ("10th percentile", {"value": "10th percentile"}),
    ],
)
def test_lab_value_splits_number_and_unit(text: str, expected: dict[str, str]) -> None:
    assert lab_value(text) == expected


def test_maybe_and_polarity_uncertain_are_uncertain(tmp_path: Path) -> None:
    note = "no fever, maybe cough"
    ann = (
        "T1\tSign_symptom 3 8\tfever\nE1\tSign_symptom:T1 \nA1\tPOLARITY E1 MAYBE_NEG\n"
        "T2\tSign_symptom 16 21\tcough\nA2\tPOLARITY T2 UNCERTAIN\n"
    )
    entities = read_maccrobat(write_case(tmp_path, "1", ann, note)).documents["1"].entities
    assert [e.assertion for e in entities] == [Assertion(uncertain=True), Assertion(uncertain=True)]


@pytest.mark.parametrize(
    ("ann", "named"),
    [
        ("T1\tSign_symptom 0 x\tfever\n", "9.ann:1 (bad offsets)"),
        ("T1\tSign_symptom 0 5\tfever\nT2\tSign_symptom 6 9\tcough\n", "9.ann:2 (offsets do not match"),
        ("T1\tSign_symptom 0 5\tfever\nA1\tPOLARITY E4 NEG\n", "9.ann:2 (E4 names no T line)"),
        ("T1\tSign_symptom 0 5\tfever\nE1\tSign_symptom:T8 \n", "9.ann:2 (E1 names no T line)"),
        ("T1\tSign_symptom 0 5\tfever\nA1\tPOLARITY T1 NEGATIVE\n", "9.ann:2 (unknown attribute"),
        ("T1\tSign_symptom 0 5\tfever\nR1\tMODIFY T1 T1\n", "9.ann:2 (bad relation argument)"),
        ("T1\tSign_symptom 0 5\n", "9.ann:1 (malformed line)"),
        ("X1\tfever\n", "9.ann:1 (unknown annotation kind)"),
    ],
)
def test_malformed_lines_are_named(tmp_path: Path, ann: str, named: str) -> None:
    write_case(tmp_path, "9", ann, "fever was high")
    with pytest.raises(EvaluationError) as caught:
        read_corpus(tmp_path, format="maccrobat")
    assert named in caught.value.message
    assert "fever was high" not in str(caught.value)
    assert caught.value.hint


def test_missing_note_is_named(tmp_path: Path) -> None:
    (tmp_path / "5.ann").write_text("T1\tSign_symptom 0 5\tfever\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"5\.ann \(5\.txt is missing"):
        read_maccrobat(tmp_path)
    # --text gives the notes from elsewhere
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "5.txt").write_text("fever", encoding="utf-8")
    assert read_maccrobat(tmp_path, text_dir=tmp_path / "notes").documents["5"].entities[0].text == "fever"


def test_detection_tells_maccrobat_from_generic_brat(tmp_path: Path) -> None:
    write_case(tmp_path / "mac")
    assert detect_format(tmp_path / "mac") == "maccrobat"
    assert detect_format(tmp_path / "mac" / "123.ann") == "maccrobat"
    assert read_corpus(tmp_path / "mac").format == "maccrobat"
    (tmp_path / "generic").mkdir()
    write_brat(read_maccrobat(tmp_path / "mac").documents["123"], tmp_path / "generic")
    assert detect_format(tmp_path / "generic") == "brat"
    assert read_corpus(tmp_path / "generic").documents["123"].entities[0].text == "asthma"


def test_halves_split_sorted_ids_by_position(tmp_path: Path) -> None:
    for doc_id in ("30", "10", "50", "20", "40"):
        write_case(tmp_path, doc_id, "", "x")
    assert maccrobat_halves(tmp_path) == (["10", "30", "50"], ["20", "40"])
    with pytest.raises(EvaluationError, match=r"no \.ann files"):
        maccrobat_halves(tmp_path / "nowhere")


def test_real_case_reports_are_grounded(shared_data: Path) -> None:
    folder = shared_data / "maccrobat"
    assert detect_format(folder) == "maccrobat"
    fit, report = maccrobat_halves(folder)
    assert len(fit) == len(report) == 50 and not set(fit) & set(report)
    types: set[str] = set()
    for doc_id in sorted(fit + report)[:3]:
        doc = read_maccrobat(folder / f"{doc_id}.ann").documents[doc_id]
        assert doc.entities, doc_id
        assert all(e.is_grounded_in(doc.text) for e in doc.entities), doc_id
        assert all(e.code is None for e in doc.entities)
        types |= {e.type for e in doc.entities}
    assert {"condition", "lab", "procedure"} <= types
