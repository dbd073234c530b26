"""The dataset directory: letters, splits, card, per-letter FHIR, determinism and bad sources."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from clinex.core.errors import InputError
from clinex.core.serialize import document_from_record
from clinex.corpora.fhir import read_fhir_with_subjects
from clinex.corpora.jsonl import read_jsonl_with_subjects
from clinex.fhir.validate import validate_bundle
from clinex.synth import SynthConfig, generate_dataset, load_letters
from clinex.synth.dataset import note_type
from clinex.synth.facts import Encounter


def _config(out: Path, fhir: Path, **kw: object) -> SynthConfig:
    return SynthConfig(out_dir=out, letters=60, fhir=(fhir,), seed=3, **kw)  # type: ignore[arg-type]


def test_dataset_files_card_and_splits(oncology_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    progress: list[int] = []
    card = generate_dataset(_config(out, oncology_dir), progress=lambda done, total: progress.append(done))
    assert progress[-1] == 60
    records = load_letters(out / "letters.jsonl")
    assert len(records) == card["letters"] == 60
    for record in records:
        doc = document_from_record(record)  # the JSONL format of DESIGN.md
        assert doc.entities and not doc.ungrounded()
        assert (out / "source" / f"{doc.id}.json").is_file()
    by_split = {s: load_letters(out / "splits" / f"{s}.jsonl") for s in ("train", "dev", "test")}
    assert sorted(r["id"] for rs in by_split.values() for r in rs) == sorted(r["id"] for r in records)
    assert {s: len(rs) for s, rs in by_split.items()} == card["splits"]
    assert by_split["test"] and by_split["train"]
    assert {(r["meta"]["layout"], r["meta"]["family"]) for r in by_split["test"]} == {("de_b", "c")}
    assert all(r["meta"]["layout"] != "de_b" and r["meta"]["family"] != "c" for r in by_split["train"])
    counts: Counter[tuple[str, str]] = Counter()
    for record in records:
        for e in record["entities"]:
            flags = "/".join(k for k, v in e["assertion"].items() if v) or "affirmed"
            counts[(e["type"], flags)] += 1
    assert {(t, a): n for t, per in card["entities"].items() for a, n in per.items()} == dict(counts)
    assert card["writer"] == "template.v1" and card["seed"] == 3
    assert json.loads((out / "card.json").read_text()) == card
    assert "| medication | affirmed |" in (out / "CARD.md").read_text()


def test_source_fhir_per_letter_holds_the_patient_and_the_used_resources(
    oncology_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ds"
    generate_dataset(_config(out, oncology_dir))
    record = load_letters(out / "letters.jsonl")[0]
    bundle = json.loads((out / "source" / f"{record['id']}.json").read_text())
    kinds = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds["Patient"] == 1 and kinds["Encounter"] == 1
    assert bundle["entry"][0]["resource"]["id"] == record["meta"]["patient"]


def test_gold_fhir_bundles_validate(oncology_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    card = generate_dataset(_config(out, oncology_dir))
    assert card["gold_fhir"] == "written"
    files = sorted((out / "gold").glob("*.json"))
    assert len(files) == 60
    kinds: Counter[str] = Counter()
    for path in files:
        bundle = json.loads(path.read_text())
        validate_bundle(bundle)
        kinds.update(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds["FamilyMemberHistory"] and kinds["MedicationStatement"] and kinds["Observation"]


def test_same_seed_same_dataset(oncology_dir: Path, tmp_path: Path) -> None:
    generate_dataset(_config(tmp_path / "a", oncology_dir, write_fhir=False))
    generate_dataset(_config(tmp_path / "b", oncology_dir, write_fhir=False))
    generate_dataset(
        SynthConfig(out_dir=tmp_path / "c", letters=60, fhir=(oncology_dir,), seed=4, write_fhir=False)
    )
    a, b, c = ((tmp_path / x / "letters.jsonl").read_bytes() for x in "abc")
    assert a == b and a != c


def test_bad_records_are_counted_in_the_card(oncology_dir: Path, tmp_path: Path) -> None:
    (oncology_dir / "broken.json").write_text("{", encoding="utf-8")
    (oncology_dir / "nobody.ndjson").write_text(json.dumps({"resourceType": "Patient", "id": "x"}) + "\n")
    card = generate_dataset(_config(tmp_path / "ds", oncology_dir, write_fhir=False))
    assert card["letters"] == 60
    assert card["source"]["warning_counts"] == {"malformed JSON": 1, "patient has no encounters": 1}


def test_sources_without_usable_patients_are_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "p.ndjson").write_text(json.dumps({"resourceType": "Patient", "id": "x"}) + "\n")
    with pytest.raises(InputError, match="usable facts"):
        generate_dataset(_config(tmp_path / "ds", tmp_path))


@pytest.mark.parametrize("bad", [{"letters": 0}, {"split": (0.5, 0.5, 0.5)}, {"fhir": ()}])
def test_config_rejects_bad_values(tmp_path: Path, bad: dict[str, object]) -> None:
    options: dict[str, object] = {"out_dir": tmp_path, "letters": 5, "fhir": (tmp_path,), **bad}
    with pytest.raises(ValueError):
        SynthConfig(**options)  # type: ignore[arg-type]


def test_letters_carry_their_subject_in_jsonl_and_gold_fhir(oncology_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate_dataset(_config(out, oncology_dir))
    records = load_letters(out / "letters.jsonl")
    # Both hand-written patients: born 1955-04-02, female, one inpatient stay ending 2024-03-09.
    expected = {
        "age": 68,
        "sex": "female",
        "note_type": "discharge letter (inpatient)",
        "site": "Riverside General Hospital",
        "date": "2024-03-09",
    }
    assert all(r["subject"] == expected for r in records)
    corpus, subjects = read_jsonl_with_subjects(out / "letters.jsonl")
    assert set(subjects) == set(corpus.documents) and subjects[records[0]["id"]].age == 68
    # The gold Bundles say the same through Patient, Encounter and DocumentReference.
    _, from_fhir = read_fhir_with_subjects(out / "gold")
    assert from_fhir == subjects
    bundle = json.loads((out / "gold" / f"{records[0]['id']}.json").read_text())
    encounter = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter")
    assert encounter["period"] == {"start": "2024-03-01", "end": "2024-03-09"}
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert (patient["birthDate"], patient["gender"]) == ("1955-04-02", "female")


def test_note_type_follows_the_encounter_class() -> None:
    def encounter(kind: str) -> Encounter:
        return Encounter(id="e", start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 2), kind=kind)

    assert note_type(encounter("EMER")) == "discharge letter (emergency)"
    assert note_type(encounter("AMB")) == "discharge letter (ambulatory)"
    assert note_type(encounter("VR")) == "discharge letter (other)"
