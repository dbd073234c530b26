from pathlib import Path

import pytest

import clinex
from clinex.core.types import Entity
from clinex.extractors.rules import RulesExtractor
from clinex.pipeline import NoteInput, Pipeline
from clinex.testing import assert_grounded

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "rules_letter.txt"


@pytest.fixture(scope="module")
def extractor() -> RulesExtractor:
    return RulesExtractor()


@pytest.fixture(scope="module")
def letter(extractor: RulesExtractor) -> tuple[str, list[Entity]]:
    text = FIXTURE.read_text(encoding="utf-8")
    return text, clinex.extract(text, extractor=extractor).entities


def _find(entities: list[Entity], text: str, nth: int = 0) -> Entity:
    hits = [e for e in entities if e.text.lower() == text.lower()]
    assert len(hits) > nth, f"{text!r} not extracted"
    return hits[nth]


def test_every_entity_is_grounded_and_exact(extractor: RulesExtractor) -> None:
    # The extractor's own output: clinex.extract would refuse a bad span before a test saw it.
    text = FIXTURE.read_text(encoding="utf-8")
    entities = extractor.extract(text)
    assert assert_grounded(text, entities, min_count=25) == entities  # every one, 25 at least
    assert all(e.alignment == "exact" and 0 < e.confidence <= 1 for e in entities)


def test_diagnoses_with_icd10cm_codes_and_assertions(letter: tuple[str, list[Entity]]) -> None:
    _, entities = letter
    expected = {
        "hypertension": "I10",
        "type 2 diabetes mellitus": "E11.9",
        "chronic kidney disease": "N18.9",
        "atrial fibrillation": "I48.91",
        "congestive heart failure": "I50.9",
        "pleural effusion": "J90",
    }
    for mention, code in expected.items():
        entity = _find(entities, mention)
        assert entity.type == "condition"
        assert entity.code is not None and entity.code.code == code
        assert entity.code.system == "http://hl7.org/fhir/sid/icd-10-cm" and entity.code.display
    assert _find(entities, "pneumonia").assertion.negated
    assert _find(entities, "chest pain").assertion.negated
    assert _find(entities, "pulmonary embolism", 1).assertion.negated
    assert _find(entities, "urinary tract infection").assertion.uncertain
    assert _find(entities, "hypertension").assertion.historical
    assert _find(entities, "breast cancer").assertion.family
    assert _find(entities, "congestive heart failure").assertion.affirmed


def test_medications_with_dose_route_frequency(letter: tuple[str, list[Entity]]) -> None:
    _, entities = letter
    furosemide = _find(entities, "furosemide")
    assert furosemide.attributes == {"dose": "40 mg", "route": "oral", "frequency": "twice daily"}
    # "40 mg po", no dose form written: the ingredient, not the 40 MG Oral Tablet.
    assert furosemide.code is not None and furosemide.code.code == "4603"
    metformin = _find(entities, "metformin")
    assert metformin.attributes["frequency"] == "twice daily" and metformin.attributes["route"] == "oral"
    atorvastatin = _find(entities, "atorvastatin")
    assert atorvastatin.attributes == {"dose": "40 mg", "route": "oral", "frequency": "at night"}
    assert _find(entities, "lisinopril").attributes == {"dose": "10 mg", "frequency": "once daily"}


def test_labs_with_value_ucum_unit_and_date(letter: tuple[str, list[Entity]]) -> None:
    _, entities = letter
    creatinine = _find(entities, "creatinine")
    assert creatinine.attributes == {"value": "1.8", "unit": "mg/dL", "date": "2024-03-03"}
    assert creatinine.code is not None and creatinine.code.code == "2160-0"
    assert _find(entities, "potassium").attributes == {"value": "5.4", "unit": "mmol/L"}
    assert _find(entities, "hba1c").attributes == {"value": "8.1", "unit": "%"}


def test_procedures_found(letter: tuple[str, list[Entity]]) -> None:
    _, entities = letter
    appendectomy = _find(entities, "appendectomy")
    assert appendectomy.type == "procedure" and appendectomy.assertion.historical
    assert _find(entities, "echocardiogram").type == "procedure"


def test_abbreviations_match_case_sensitively(extractor: RulesExtractor) -> None:
    found = {e.text for e in extractor.extract("HTN and CHF. We pe the mi and as the dm.")}
    assert found == {"HTN", "CHF"}


def test_a_term_wrapped_over_two_lines_is_found_with_its_line_break(extractor: RulesExtractor) -> None:
    text = "Family History:\nMother had breast cancer.\n\nAssessment: possible urinary tract\ninfection."
    entity = _find(clinex.extract(text, extractor=extractor).entities, "urinary tract\ninfection")
    assert entity.is_grounded_in(text) and entity.code is not None and entity.code.code == "N39.0"
    assert entity.assertion.uncertain and not entity.assertion.family


def test_types_option_limits_output(extractor: RulesExtractor) -> None:
    only = RulesExtractor(types=("medication",), assertion="off")
    text = FIXTURE.read_text(encoding="utf-8")
    assert {e.type for e in only.extract(text)} == {"medication"}


def test_grounding_on_codiesp_notes(extractor: RulesExtractor, shared_data: Path) -> None:
    notes = sorted((shared_data / "codiesp" / "dev" / "text_files_en").glob("*.txt"))[:8]
    assert len(notes) == 8
    for path in notes:
        text = path.read_text(encoding="utf-8")
        entities = extractor.extract(text)
        assert assert_grounded(text, entities, min_count=3) == entities, path.name
        assert all(e.alignment == "exact" for e in entities), path.name


def test_long_note_is_processed_whole_and_offsets_stay_exact() -> None:
    line = "Furosemide 40 mg po daily for congestive heart failure. No pneumonia.\n"
    text = "Family History:\nMother had asthma.\n" + line * (2_000_000 // len(line))
    extractor = RulesExtractor(chunk_chars=200_000)
    found = extractor.extract(text)
    assert len(text) > 2_000_000
    expected = 1 + 3 * (2_000_000 // len(line))  # asthma; per line a drug and two conditions
    assert len(found) == expected
    assert_grounded(text, found, min_count=expected)  # so every one
    last = max(found, key=lambda e: e.start or 0)
    assert last.start is not None and last.start > 1_900_000
    # The pipeline's stages on the same entities (the extractor is not run twice on 2 MB).
    entities = Pipeline(extractor).finish(NoteInput(text), found).entities
    assert len(entities) == len(found)
    assert entities[0].assertion.family
    assert all(e.assertion.negated for e in entities if e.text == "pneumonia")
