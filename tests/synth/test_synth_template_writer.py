"""The template writer: span-exact gold on 1,000 letters, determinism, variety, distractor assertions."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from clinex.core.types import Code
from clinex.synth.facts import Dose, Encounter, Fact, PatientRecord, SampledFacts
from clinex.synth.sampler import sample
from clinex.synth.sources import read_sources
from clinex.synth.writers.base import Letter
from clinex.synth.writers.template import LAYOUTS, TemplateWriter

#: Words that show a mention is written in its role (checked in the mention's line).
CUES = {
    "negated": r"\bno\b|ruled out|excluded|negative|without|denies|there was no",
    "family": r"mother|father|sister|brother|grand|family|fhx",
    "historical": r"history|h/o|previous|past|former|resolved|remote|s/p|status post|prior|after|performed"
    r"|in \d|pmh|psh|surgical|operations|anamnesis",
    "hypothetical": r"\bif\b|should|in case|such as",
}


def _letters(patients: list[PatientRecord], n: int, seed: int = 0) -> list[Letter]:
    writer = TemplateWriter()
    out = []
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        facts = sample(patients[i % len(patients)], rng, letter_id=f"l{i}")
        out.append(writer.write(facts, rng, held_out=i % 10 == 0))
    return out


@pytest.fixture(scope="module")
def thousand(synthea_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Letter]:
    import json

    from synth_fixtures import oncology_bundle

    folder = tmp_path_factory.mktemp("onc")
    (folder / "p.json").write_text(json.dumps(oncology_bundle("onc")), encoding="utf-8")
    patients = read_sources([synthea_dir, folder])[0]
    return _letters(patients, 1000)


def test_every_gold_entity_of_1000_letters_is_span_exact(thousand: list[Letter]) -> None:
    entities = [(letter, e) for letter in thousand for e in letter.entities]
    assert len(entities) > 5000
    off = [e for letter, e in entities if letter.text[e.start : e.end] != e.text]
    assert off == []
    # attributes are written in the letter exactly as recorded, on their mention's line
    for letter, e in entities:
        line_end = letter.text.find("\n", e.end)
        rest = letter.text[letter.text.rfind("\n", 0, e.start) + 1 : line_end if line_end >= 0 else None]
        for name, value in e.attributes.items():
            if name != "histology":
                assert value in rest, (name, value)


def test_all_entity_types_and_assertions_occur(thousand: list[Letter]) -> None:
    kinds = Counter((e.type, tuple(e.assertion.names())) for letter in thousand for e in letter.entities)
    for expected in [
        ("condition", ()),
        ("condition", ("negated",)),
        ("condition", ("family",)),
        ("condition", ("historical",)),
        ("condition", ("hypothetical",)),
        ("medication", ()),
        ("lab", ()),
        ("procedure", ()),
        ("procedure", ("historical",)),
        ("tumor", ()),
    ]:
        assert kinds[expected] > 0, expected


def test_distractors_are_written_with_their_cue_and_flag(thousand: list[Letter]) -> None:
    checked = Counter()
    for letter in thousand:
        for e in letter.entities:
            names = e.assertion.names()
            if not names:
                continue
            assert len(names) == 1
            start = letter.text.rfind("\n", 0, e.start) + 1
            end = letter.text.find("\n", e.end)
            # the cue of a mention stands in its own line; for run-in lists, in its own item
            line = letter.text[start : end if end >= 0 else None]
            item = re.split(r"[;.]\s", line[: e.start - start])[-1] + line[e.start - start :].split(";")[0]
            assert (
                re.search(CUES[names[0]], item, re.IGNORECASE)
                or re.search(CUES[names[0]], line.split(":")[0], re.IGNORECASE)
                or _in_section(letter.text, e.start, names[0])
            ), (names, item)
            checked[names[0]] += 1
    assert set(checked) == set(CUES)


def _in_section(text: str, position: int, flag: str) -> bool:
    headings = re.findall(r"^([A-Za-z /]+):?\n", text[:position], re.MULTILINE)
    return bool(headings) and re.search(CUES[flag], headings[-1], re.IGNORECASE) is not None


def test_same_seed_same_letters_other_seed_other_letters(synthea_dir: Path) -> None:
    patients = read_sources([synthea_dir])[0]
    first, again, other = (
        _letters(patients, 30, seed=1),
        _letters(patients, 30, seed=1),
        _letters(patients, 30, seed=2),
    )
    assert [(x.text, x.entities) for x in first] == [(x.text, x.entities) for x in again]
    assert [x.text for x in first] != [x.text for x in other]


def test_letters_vary_in_layout_wording_and_spelling(thousand: list[Letter]) -> None:
    assert {x.layout for x in thousand} == set(LAYOUTS)
    assert {x.family for x in thousand} == {"a", "b", "c"}
    texts = {e.text for x in thousand for e in x.entities}
    assert texts & {"T2DM", "HTN", "DM type 2", "NIDDM"}  # abbreviations
    frequencies = {e.attributes.get("frequency") for x in thousand for e in x.entities} - {None}
    assert {"bid", "twice daily", "1-0-1"} <= frequencies
    joined = "\n".join(x.text for x in thousand)
    assert re.search(r"\b\d\d/\d\d/\d{4}\b", joined) and re.search(r"\b\d\d\.\d\d\.\d{4}\b", joined)
    assert re.search(r"\b\d,\d\b", joined)  # decimal commas in German-style letters
    assert len({x.text for x in thousand}) == len(thousand)


def test_held_out_layouts_and_families_only_in_held_out_letters(thousand: list[Letter]) -> None:
    for i, letter in enumerate(thousand):
        held_out = i % 10 == 0
        assert (letter.layout == "de_b") == held_out
        assert (letter.family == "c") == held_out


def test_doses_are_spelled_in_equivalent_units() -> None:
    metformin = Fact(
        type="medication",
        name="metformin",
        dose=Dose(value=1000, unit="mg"),
        route="oral",
        per_day=2,
        code=Code(system="http://www.nlm.nih.gov/research/umls/rxnorm", code="6809"),
    )
    day = dt.date(2024, 1, 5)
    facts = SampledFacts(
        letter_id="x",
        patient_id="p",
        sex="male",
        age=70,
        encounter=Encounter(id="e", start=day, end=day, kind="IMP"),
        facts=[metformin],
    )
    doses = {
        e.attributes.get("dose")
        for i in range(200)
        for e in TemplateWriter().write(facts, random.Random(i)).entities
    }
    assert {"1000 mg", "1 g", "1000mg"} <= doses


def test_writer_rejects_unknown_held_out_layouts() -> None:
    with pytest.raises(ValueError, match="unknown layout"):
        TemplateWriter(held_out_layouts=("nope",))
