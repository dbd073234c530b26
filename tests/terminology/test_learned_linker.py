"""The learned code linker: built from tiny coded JSONL, it overrides the terminology only where
its evidence is stronger; the file round-trips with its digest and Documents record it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import clinex
from clinex.core.errors import ConfigError, InputError
from clinex.core.systems import ICD10CM
from clinex.core.types import Code, Entity
from clinex.terminology.learned import LearnedLinker, build_linker, load_linker
from clinex.terminology.normalise import normalise


def _record(number: int, mention: str, code: str, *, review: bool = False) -> dict[str, object]:
    text = f"Seen in clinic. {mention} noted today."
    start = text.index(mention)
    entity = {
        "type": "condition",
        "text": mention,
        "start": start,
        "end": start + len(mention),
        "code": {"system": ICD10CM, "code": code, "display": None},
        "confidence": 0.9,
    }
    meta = {"review": {"reviewer": "coder-1"}} if review else {"align": {"partial": True}}
    return {"id": f"n{number}", "text": text, "entities": [entity], "meta": meta}


def _write(path: Path, pairs: list[tuple[str, str]]) -> Path:
    lines = [json.dumps(_record(i, m, c, review=i % 2 == 0)) for i, (m, c) in enumerate(pairs)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# The hospital's coded notes: each pattern is what one test below needs.
PAIRS = [
    *[("prior MI", "I25.2")] * 3,  # the terminology cannot name it; coded one way
    *[("Old myocardial infarction", "I21.9")] * 3,  # against an exact name: too few
    *[("hypertension", "I10")] * 3 + [("hypertension", "I11.9")] * 2,  # a minority code
    *[("type 2 diabetes", "E11.65")] * 2,  # a refinement, but seen twice only
    *[("breast cancer", "C50.911")] * 8 + [("breast cancer", "C50.919")],  # strong majority, child code
    *[("Right knee osteoarthritis", "m17.11")] * 4,  # CodiEsp's spelling of a code
    *[("asthma", "J45")] * 6,  # a category: its billable leaf is the terminology's own code
]


@pytest.fixture(scope="module")
def linker(tmp_path_factory: pytest.TempPathFactory) -> LearnedLinker:
    folder = tmp_path_factory.mktemp("linker")
    return build_linker([_write(folder / "silver.jsonl", PAIRS)], folder / "linker.json")


def _coded(text: str, linker: LearnedLinker | None) -> Entity:
    entity = Entity(type="condition", text=text, start=0, end=len(text), confidence=0.8)
    return normalise([entity], f"{text}.", linker=linker)[0]


def test_a_mention_the_hospital_codes_one_way_takes_its_code(linker: LearnedLinker) -> None:
    before, after = _coded("prior MI", None), _coded("prior MI", linker)
    assert before.code is None
    assert after.code is not None and after.code.code == "I25.2"
    assert after.code.display == "Old myocardial infarction"  # the terminology's display
    # Three consistent observations against no prior: posterior share 3 / (3 + 0 + 1).
    assert after.confidence == pytest.approx(0.8 * (0.5 + 0.5 * 0.75))


def test_an_exact_name_keeps_its_code_against_weak_learned_evidence(linker: LearnedLinker) -> None:
    # The conflicting pair: the terminology's exact display (score 1.0, worth 4 observations)
    # against 3 observations of another code: the terminology stands, confidence unchanged.
    before, after = _coded("Old myocardial infarction", None), _coded("Old myocardial infarction", linker)
    assert before.code is not None and before.code.code == "I25.2"
    assert after == before


def test_a_minority_code_never_overrides(linker: LearnedLinker) -> None:
    assert _coded("hypertension", linker) == _coded("hypertension", None)  # I10 3 of 5: agrees


def test_too_few_observations_never_override(linker: LearnedLinker) -> None:
    after = _coded("type 2 diabetes", linker)
    assert after == _coded("type 2 diabetes", None) and after.code is not None
    assert after.code.code == "E11.9"


def test_a_strong_majority_teaches_the_coders_specificity(linker: LearnedLinker) -> None:
    before, after = _coded("breast cancer", None), _coded("breast cancer", linker)
    assert before.code is not None and before.code.code == "C50.919"
    assert after.code is not None and after.code.code == "C50.911"  # the side the coders use
    # A refinement (same category) must beat half the synonym's prior: 8 > 1 + 0.5 × 4 × 0.95.
    assert after.confidence == pytest.approx(round(0.8 * (0.5 + 0.5 * round(8 / (9 + 1.9 + 1), 4)), 4))
    assert after.confidence < before.confidence  # the terminology disagreed: less sure


def test_codes_are_read_in_any_spelling(linker: LearnedLinker) -> None:
    after = _coded("right knee osteoarthritis", linker)  # case and spacing ignored
    assert after.code is not None and after.code.code == "M17.11"


def test_a_learned_category_is_its_billable_leaf_not_a_rival_code(linker: LearnedLinker) -> None:
    before, after = _coded("asthma", None), _coded("asthma", linker)
    assert before.code is not None and before.code.code == "J45.909"
    assert after == before  # J45 ×6 is J45.909 ×6: agreement, the terminology's score stands


def test_an_unseen_mention_is_coded_by_the_terminology_as_before(linker: LearnedLinker) -> None:
    for text in ("pneumonia", "chest pain", "fractured wrist"):
        assert _coded(text, linker) == _coded(text, None)


def test_a_code_the_extractor_gave_is_not_relinked(linker: LearnedLinker) -> None:
    given = Entity(
        type="condition",
        text="prior MI",
        start=0,
        end=8,
        confidence=0.8,
        code=Code(system=ICD10CM, code="I21.9"),
    )
    coded = normalise([given], "prior MI.", linker=linker)[0].code
    assert coded is not None and coded.code == "I21.9"


def test_the_file_round_trips_with_its_digest(linker: LearnedLinker, tmp_path: Path) -> None:
    silver = _write(tmp_path / "silver.jsonl", PAIRS)
    out = tmp_path / "linker.json"
    built = build_linker([silver], out)
    loaded = load_linker(out)
    assert loaded.digest == built.digest == hashlib.sha256(out.read_bytes()).hexdigest()
    assert loaded.table == built.table
    assert loaded.table[ICD10CM]["prior mi"] == {"I25.2": 3}
    assert loaded.pairs == len(PAIRS)
    (source,) = loaded.built["sources"]
    assert source["sha256"] == hashlib.sha256(silver.read_bytes()).hexdigest()
    assert (source["records"], source["pairs"]) == (len(PAIRS), len(PAIRS))
    # Built again from the same file: the same bytes.
    assert build_linker([silver], tmp_path / "again.json").digest == built.digest


def test_bad_files_name_the_file_and_line(tmp_path: Path) -> None:
    silver = _write(tmp_path / "silver.jsonl", PAIRS[:2])
    with silver.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    with pytest.raises(InputError, match=r"silver\.jsonl:3: not JSON"):
        build_linker([silver], tmp_path / "linker.json")
    (tmp_path / "other.json").write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a clinex-linker/1 file"):
        load_linker(tmp_path / "other.json")
    with pytest.raises(ConfigError, match="not found"):
        load_linker(tmp_path / "missing.json")


def test_documents_record_the_linker_in_their_provenance(tmp_path: Path) -> None:
    out = tmp_path / "linker.json"
    built = build_linker([_write(tmp_path / "silver.jsonl", PAIRS)], out)
    note = "Past history: prior MI. Hypertension."
    doc = clinex.extract(note, extractor="rules", linker=out)
    assert doc.meta["linker"]["sha256"] == built.digest
    assert doc.meta["linker"]["pairs"] == len(PAIRS)
    assert "linker" not in clinex.extract(note, extractor="rules").meta
