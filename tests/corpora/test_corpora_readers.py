import base64
import datetime as dt
import json
from pathlib import Path

import pytest

from clinex.core.errors import EvaluationError
from clinex.core.serialize import entity_to_dict
from clinex.core.systems import ICD10CM, RXNORM
from clinex.core.types import Assertion, Code, Document, Entity
from clinex.corpora import (
    detect_format,
    read_brat,
    read_codiesp,
    read_corpus,
    read_fhir,
    read_jsonl,
    read_negex_rows,
    write_brat,
    write_codiesp,
    write_jsonl,
    write_negex,
)
from clinex.corpora.fhir import read_fhir_with_subjects
from clinex.corpora.jsonl import read_jsonl_with_subjects
from clinex.corpora.subject import Subject
from clinex.fhir.extensions import DERIVATION_REFERENCE

NOTE = "Metformin 500 mg twice daily. No chest pain. Mother had breast cancer. HbA1c 7.2 %. Invasive ductal carcinoma pT2N1M0 G2."


def sample_document(doc_id: str = "n1") -> Document:
    return Document(
        id=doc_id,
        text=NOTE,
        entities=[
            Entity(
                type="medication",
                text="Metformin",
                start=0,
                end=9,
                code=Code(system=RXNORM, code="6809", display="metformin"),
                attributes={"dose": "500 mg", "frequency": "twice daily"},
                confidence=0.9,
            ),
            Entity(type="condition", text="chest pain", start=33, end=43, assertion=Assertion(negated=True)),
            Entity(
                type="condition",
                text="breast cancer",
                start=56,
                end=69,
                assertion=Assertion(family=True),
                code=Code(system=ICD10CM, code="C50.919"),
            ),
            Entity(type="lab", text="HbA1c", start=71, end=76, attributes={"value": "7.2", "unit": "%"}),
            Entity(
                type="tumor",
                text="ductal carcinoma",
                start=93,
                end=109,
                attributes={"tnm": "pT2N1M0", "histology": "ductal carcinoma", "grade": "2"},
            ),
        ],
    )


def records(documents: list[Document]) -> list[list[dict[str, object]]]:
    return [[entity_to_dict(e) for e in doc.entities] for doc in documents]


def test_jsonl_round_trip(tmp_path: Path) -> None:
    docs = [sample_document("n1"), sample_document("n2")]
    first = tmp_path / "a.jsonl"
    write_jsonl(docs, first, with_text=True)
    corpus = read_jsonl(first)
    assert list(corpus.documents) == ["n1", "n2"]
    assert corpus.documents["n1"].text == NOTE
    second = tmp_path / "b.jsonl"
    write_jsonl(list(corpus.documents.values()), second, with_text=True)
    assert first.read_text() == second.read_text()
    assert corpus.location("n2") == "a.jsonl:2"


def test_jsonl_errors_name_the_first_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"id": "n1", "entities": []})
    unknown_type = json.dumps({"id": "n2", "entities": [{"type": "allergy", "text": "x"}]})
    path.write_text("\n".join([good, "{not json", unknown_type, good]) + "\n")
    with pytest.raises(EvaluationError) as error:
        read_jsonl(path)
    message = str(error.value)
    assert "bad.jsonl:2 (not JSON)" in message
    assert "bad.jsonl:3" in message and "allergy" in message
    assert "bad.jsonl:4 (id 'n1' repeats bad.jsonl:1)" in message


def test_jsonl_spans_must_reproduce_the_note(tmp_path: Path) -> None:
    doc = sample_document()
    doc.entities[1] = doc.entities[1].with_(start=34, end=44)  # shifted by one character
    path = tmp_path / "shifted.jsonl"
    write_jsonl([doc], path, with_text=True)
    with pytest.raises(
        EvaluationError, match=r"shifted.jsonl:1 \(entity 1 of 'n1': text is not note\[start:end\]\)"
    ):
        read_jsonl(path)


def test_brat_round_trip(tmp_path: Path) -> None:
    doc = sample_document()
    write_brat(doc, tmp_path)
    corpus = read_brat(tmp_path)
    assert records(list(corpus.documents.values())) == records([doc])
    (tmp_path / "again").mkdir()
    write_brat(corpus.documents["n1"], tmp_path / "again")
    assert (tmp_path / "again" / "n1.ann").read_text() == (tmp_path / "n1.ann").read_text()


def test_brat_reads_common_label_names_and_discontinuous_spans(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("No chest or back pain.")
    (tmp_path / "d.ann").write_text(
        "T1\tProblem 3 8;17 21\tchest pain\nA1\tNegated T1\nR1\tRel Arg1:T1 Arg2:T1\n"
    )
    entity = read_brat(tmp_path).documents["d"].entities[0]
    assert (entity.type, entity.start, entity.end, entity.assertion.negated) == ("condition", 3, 21, True)


def test_brat_unknown_label_and_wrong_offsets_are_named(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("Aspirin daily.")
    (tmp_path / "d.ann").write_text("T1\tAllergy 0 7\tAspirin\nT2\tDrug 1 7\tAspirin\n")
    with pytest.raises(EvaluationError) as error:
        read_brat(tmp_path)
    assert "d.ann:1 (unknown label 'Allergy')" in str(error.value)
    assert "d.ann:2 (offsets do not match" in str(error.value)


def test_codiesp_reads_the_shared_dev_codes(shared_data: Path) -> None:
    corpus = read_codiesp(shared_data / "codiesp" / "dev" / "devD.tsv")
    lines = (shared_data / "codiesp" / "dev" / "devD.tsv").read_text().splitlines()
    assert sum(len(d.entities) for d in corpus.documents.values()) == len(lines)
    assert corpus.sparse and not corpus.grounded
    first_id, first_code = lines[0].split("\t")
    assert corpus.documents[first_id].entities[0].code == Code(system=ICD10CM, code=first_code)


def test_codiesp_round_trip_keeps_rank_confidences(tmp_path: Path) -> None:
    doc = Document(
        id="S1",
        text="",
        entities=[
            Entity(
                type="condition",
                text="n44.8",
                alignment="none",
                code=Code(system=ICD10CM, code="n44.8"),
                confidence=0.7,
            ),
            Entity(
                type="condition",
                text="r31.9",
                alignment="none",
                code=Code(system=ICD10CM, code="r31.9"),
                confidence=0.4,
            ),
        ],
    )
    path = tmp_path / "predD.tsv"
    write_codiesp([doc], path)
    again = read_codiesp(path).documents["S1"]
    assert [(e.code.code, e.confidence) for e in again.entities if e.code] == [("n44.8", 0.7), ("r31.9", 0.4)]


def test_codiesp_malformed_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "goldD.tsv"
    path.write_text("S1\tn44.8\nS1 n44.8\nS2\tnot a code\nS3\tr31.9\t1.7\n")
    with pytest.raises(EvaluationError) as error:
        read_codiesp(path)
    message = str(error.value)
    assert message.startswith("[E700] 3 problem(s) in goldD.tsv: goldD.tsv:2")
    assert "goldD.tsv:3 (not an ICD-10 code)" in message and "goldD.tsv:4 (confidence" in message


def test_negex_round_trip_of_the_shared_file(tmp_path: Path, shared_data: Path) -> None:
    source = shared_data / "negex" / "dev.tsv"
    rows = read_negex_rows(source)
    assert len(rows) == len(source.read_text().splitlines()) - 1
    copy = tmp_path / "copy.tsv"
    write_negex(rows, copy)
    assert read_negex_rows(copy) == rows
    negated = [r for r in rows if r.negation == "Negated"]
    assert all(r.assertion.negated for r in negated)
    grounded = [r for r in rows if r.span is not None]
    start, end = grounded[0].span  # type: ignore[misc]
    assert grounded[0].sentence[start:end].lower().split() == grounded[0].condition.lower().split()


def test_negex_unknown_label_is_named(tmp_path: Path) -> None:
    path = tmp_path / "n.tsv"
    header = "id\treport\tcondition\tsentence\tnegation\ttemporality\texperiencer"
    path.write_text(
        f"{header}\n1\t \tpain\tNo pain.\tNegated\tRecent\tPatient\n3\t \tpain\tpain.\tMaybe\tRecent\tPatient\n"
    )
    with pytest.raises(EvaluationError, match=r"n.tsv:3 \(unknown label\)"):
        read_negex_rows(path)


def derivation(offset: int, length: int) -> dict[str, object]:
    return {
        "url": DERIVATION_REFERENCE,
        "extension": [
            {"url": "reference", "valueReference": {"reference": "DocumentReference/d1"}},
            {"url": "offset", "valueInteger": offset},
            {"url": "length", "valueInteger": length},
        ],
    }


def hand_built_bundle() -> dict[str, object]:
    """A FHIR R4 Bundle written from the specification, not from clinex's exporter."""
    note = base64.b64encode(NOTE.encode()).decode()
    resources = [
        {
            "resourceType": "DocumentReference",
            "id": "d1",
            "identifier": [{"system": "urn:example", "value": "n1"}],
            "status": "current",
            "content": [{"attachment": {"contentType": "text/plain", "data": note}}],
        },
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "extension": [derivation(0, 9), {"url": "https://example.org/confidence", "valueDecimal": 0.8}],
            "medicationCodeableConcept": {
                "coding": [{"system": RXNORM, "code": "6809", "display": "metformin"}]
            },
            "subject": {"reference": "Patient/p"},
            "dosage": [
                {
                    "text": "500 mg twice daily",
                    "timing": {"code": {"text": "twice daily"}},
                    "doseAndRate": [
                        {
                            "doseQuantity": {
                                "value": 500.0,
                                "unit": "mg",
                                "system": "http://unitsofmeasure.org",
                            }
                        }
                    ],
                }
            ],
        },
        {
            "resourceType": "Condition",
            "extension": [derivation(33, 10)],
            "verificationStatus": {"coding": [{"code": "refuted"}]},
            "code": {"text": "chest pain"},
            "subject": {"reference": "Patient/p"},
        },
        {
            "resourceType": "FamilyMemberHistory",
            "status": "completed",
            "patient": {"reference": "Patient/p"},
            "relationship": {"coding": [{"code": "MTH"}]},
            "condition": [
                {
                    "extension": [derivation(56, 13)],
                    "code": {"coding": [{"system": ICD10CM, "code": "C50.919"}]},
                }
            ],
        },
        {
            "resourceType": "Observation",
            "extension": [derivation(71, 5)],
            "status": "final",
            "code": {"text": "HbA1c"},
            "valueQuantity": {"value": 7.2, "unit": "%"},
        },
        {
            "resourceType": "Condition",
            "id": "tumour",
            "extension": [derivation(93, 16)],
            "code": {"text": "ductal carcinoma"},
            "stage": [{"summary": {"text": "pT2N1M0"}}],
            "subject": {"reference": "Patient/p"},
        },
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "59847-4"}]},
            "focus": [{"reference": "Condition/tumour"}],
            "valueCodeableConcept": {"text": "ductal carcinoma"},
        },
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "21858-6"}]},
            "focus": [{"reference": "Condition/tumour"}],
            "valueCodeableConcept": {"text": "2"},
        },
        {
            "resourceType": "Procedure",
            "status": "not-done",
            "subject": {"reference": "Patient/p"},
            "code": {"text": "biopsy"},
        },
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def test_fhir_bundle_to_entities(tmp_path: Path) -> None:
    path = tmp_path / "n1.json"
    path.write_text(json.dumps(hand_built_bundle()))
    doc = read_fhir(path).documents["n1"]
    assert doc.text == NOTE
    by_text = {e.text: e for e in doc.entities}
    expected = {e.text: e for e in sample_document().entities}
    assert len(doc.entities) == 6  # the tumour's detail Observations are attributes, not labs
    for text in ("Metformin", "chest pain", "breast cancer", "HbA1c", "ductal carcinoma"):
        got, want = by_text[text], expected[text]
        assert (got.type, got.start, got.end, got.assertion) == (
            want.type,
            want.start,
            want.end,
            want.assertion,
        )
        assert got.attributes == want.attributes
        assert (got.code.code if got.code else None) == (want.code.code if want.code else None)
    assert by_text["Metformin"].confidence == 0.8
    procedure = by_text["biopsy"]
    assert (procedure.type, procedure.grounded, procedure.assertion.negated) == ("procedure", False, True)


def test_fhir_reader_reads_clinex_bundles_back(tmp_path: Path) -> None:
    doc = sample_document()
    path = tmp_path / "out.json"
    path.write_text(json.dumps(doc.to_fhir()))
    again = read_fhir(path).documents[doc.id]
    assert again.text == NOTE

    def summary(entities: list[Entity]) -> set[tuple[object, ...]]:
        return {(e.type, e.start, e.end, tuple(e.assertion.names())) for e in entities}

    assert summary(again.entities) == summary(doc.entities)
    tumour = next(e for e in again.entities if e.type == "tumor")
    assert tumour.attributes == {"tnm": "pT2N1M0", "histology": "ductal carcinoma", "grade": "2"}


def test_fhir_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"resourceType": "Patient"}))
    with pytest.raises(EvaluationError, match=r"a.json \(resourceType 'Patient', expected Bundle\)"):
        read_fhir(tmp_path)


def test_formats_are_detected(tmp_path: Path) -> None:
    write_jsonl([sample_document()], tmp_path / "p.jsonl")
    (tmp_path / "b.ndjson").write_text(json.dumps(hand_built_bundle()) + "\n")
    assert detect_format(tmp_path / "p.jsonl") == "jsonl"
    assert detect_format(tmp_path / "b.ndjson") == "fhir"
    with pytest.raises(EvaluationError, match="cannot tell the format"):
        detect_format(tmp_path / "x.csv")
    with pytest.raises(EvaluationError, match="does not exist"):
        read_corpus(tmp_path / "missing.jsonl")


def test_the_shared_corpora_formats_are_detected(shared_data: Path) -> None:
    assert detect_format(shared_data / "negex" / "dev.tsv") == "negex"
    assert detect_format(shared_data / "codiesp" / "dev") == "codiesp"


def test_jsonl_subjects_are_read_with_the_gold_and_ignored_in_predictions(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    subject = {
        "age": 68,
        "sex": "Female",
        "note_type": "discharge",
        "site": " North ",
        "date": "2024-03-01T10:00",
    }
    lines = [
        {"id": "n1", "entities": [], "subject": subject, "meta": {"split": "test"}},
        {"id": "n2", "entities": []},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    corpus, subjects = read_jsonl_with_subjects(path)
    assert list(corpus.documents) == ["n1", "n2"]
    assert subjects == {
        "n1": Subject(age=68, sex="female", note_type="discharge", site="North", date=dt.date(2024, 3, 1))
    }
    assert subjects["n1"].to_record() == {
        "age": 68,
        "sex": "female",
        "note_type": "discharge",
        "site": "North",
        "date": "2024-03-01",
    }
    # A malformed subject is a problem of the gold only: predictions never carry one that counts.
    lines[1]["subject"] = {"age": 1.5}
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert list(read_jsonl(path).documents) == ["n1", "n2"]
    with pytest.raises(EvaluationError, match=r"gold.jsonl:2 \(subject.age is not a whole number"):
        read_jsonl_with_subjects(path)


def _bundle_with_setting(
    doc_id: str, *, patient: dict[str, object], doc_ref: dict[str, object], extra: list[dict[str, object]]
) -> dict[str, object]:
    bundle = Document(id=doc_id, text="Cough.", patient=patient).to_fhir()
    reference = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"
    )
    reference.update(doc_ref)
    bundle["entry"] += [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in extra]
    return bundle


def test_fhir_subjects_come_from_patient_encounter_and_document_reference(tmp_path: Path) -> None:
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1950-03-02", "gender": "male"}
    encounter = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"code": "EMER"},
        "period": {"start": "2025-02-27T22:00:00Z", "end": "2025-03-01T08:00:00Z"},
        "serviceProvider": {"reference": "urn:uuid:o1", "display": "ignored: the Organization has a name"},
    }
    organisation = {"resourceType": "Organization", "id": "o1", "name": "St. Mary"}
    linked = _bundle_with_setting(
        "n1",
        patient=patient,
        doc_ref={
            "type": {
                "coding": [
                    {"system": "http://loinc.org", "code": "34111-5", "display": "Emergency department note"}
                ]
            },
            "context": {"encounter": [{"reference": "urn:uuid:e1"}]},
            "custodian": {"display": "Records office"},  # the site of care comes first
        },
        extra=[encounter, organisation],
    )
    # No Encounter: the date and custodian of the DocumentReference say when and where.
    alone = _bundle_with_setting(
        "n2",
        patient={**patient, "birthDate": "1950-03-02"},
        doc_ref={
            "date": "2025-03-01T09:00:00Z",
            "type": {"text": "discharge"},
            "custodian": {"display": "North"},
        },
        extra=[],
    )
    (tmp_path / "a.json").write_text(json.dumps(linked))
    (tmp_path / "b.json").write_text(json.dumps(alone))
    corpus, subjects = read_fhir_with_subjects(tmp_path)
    assert list(corpus.documents) == ["n1", "n2"]
    assert subjects["n1"] == Subject(
        age=74, sex="male", note_type="Emergency department note", site="St. Mary", date=dt.date(2025, 3, 1)
    )
    assert subjects["n2"] == Subject(
        age=74, sex="male", note_type="discharge", site="North", date=dt.date(2025, 3, 1)
    )
    # A day later the patient is 75.
    alone_later = _bundle_with_setting("n3", patient=patient, doc_ref={"date": "2025-03-02"}, extra=[])
    (tmp_path / "b.json").write_text(json.dumps(alone_later))
    assert read_fhir_with_subjects(tmp_path)[1]["n3"].age == 75


def test_fhir_subjects_partial_and_malformed_dates(tmp_path: Path) -> None:
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1950", "gender": "female"}
    path = tmp_path / "a.json"
    path.write_text(
        json.dumps(_bundle_with_setting("n1", patient=patient, doc_ref={"date": "2025-03-01"}, extra=[]))
    )
    # A birth year only: valid FHIR, but no age can be counted from it.
    assert read_fhir_with_subjects(path)[1]["n1"] == Subject(sex="female", date=dt.date(2025, 3, 1))
    path.write_text(
        json.dumps(_bundle_with_setting("n1", patient=patient, doc_ref={"date": "01.03.2025"}, extra=[]))
    )
    assert "n1" in read_fhir(path).documents  # predictions do not read subjects
    with pytest.raises(EvaluationError, match=r"a.json \(DocumentReference.date is not a FHIR date\)"):
        read_fhir_with_subjects(path)
    bad_gender = {**patient, "gender": "f"}
    path.write_text(json.dumps(_bundle_with_setting("n1", patient=bad_gender, doc_ref={}, extra=[])))
    with pytest.raises(EvaluationError, match=r"Patient\.gender is not one of male, female, other, unknown"):
        read_fhir_with_subjects(path)
