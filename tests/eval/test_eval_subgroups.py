"""Subgroup scores: hand-computed counts per group, age bands, the largest gap, and where the
subjects come from (JSONL ``subject``, FHIR Patient/Encounter/DocumentReference)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from rich.console import Console

from clinex.core.errors import EvaluationError
from clinex.core.types import Document, Entity
from clinex.corpora import Corpus, write_jsonl
from clinex.corpora.subject import Subject
from clinex.eval import EvalOptions, evaluate, evaluate_paths, print_report, render_html
from clinex.eval.subgroups import AGE_BANDS, Subgroups, age_band, group_of

NOTE = "Cough. Fever. Rash."
OPTIONS = EvalOptions(bootstrap=200, seed=1)


def span(text: str) -> Entity:
    start = NOTE.index(text)
    return Entity(type="condition", text=text, start=start, end=start + len(text))


def corpus(docs: dict[str, list[Entity]]) -> Corpus:
    return Corpus(
        documents={d: Document(id=d, text=NOTE, entities=e) for d, e in docs.items()},
        source="c",
        format="jsonl",
    )


COUGH, FEVER, RASH = span("Cough"), span("Fever"), span("Rash")
# Gold: two conditions a note. a perfect (tp 2); b misses one (tp 1, fn 1); c adds one (tp 2, fp 1);
# d predicts nothing (fn 2); e has no subject at all.
GOLD = corpus({d: [COUGH, FEVER] for d in "abcde"})
PRED = corpus({"a": [COUGH, FEVER], "b": [COUGH], "c": [COUGH, FEVER, RASH], "d": [], "e": [COUGH, FEVER]})
SUBJECTS = {
    "a": Subject(age=30, sex="female", note_type="discharge", site="north", date=dt.date(2023, 2, 1)),
    "b": Subject(age=44, sex="male", note_type="discharge", site="south", date=dt.date(2023, 11, 30)),
    "c": Subject(age=75, sex="female", note_type="ed note", site="north", date=dt.date(2024, 1, 15)),
    "d": Subject(age=91, sex="male", site="south", date=dt.date(2024, 3, 31)),
}


def counts(subgroups: Subgroups, dimension: str, category: str = "entities") -> dict[str, tuple[int, ...]]:
    found = {}
    for group in subgroups.groups[dimension]:
        micro = group.results[category].micro
        found[group.name] = (group.documents, micro.tp, micro.fp, micro.fn)
    return found


def test_slices_have_hand_computed_counts_per_group() -> None:
    run = evaluate(GOLD, PRED, OPTIONS, subjects=SUBJECTS).runs[0]
    sub = run.subgroups
    assert sub is not None
    assert counts(sub, "age") == {"18–44": (2, 3, 0, 1), "≥75": (2, 2, 1, 2)}
    assert counts(sub, "sex") == {"female": (2, 4, 1, 0), "male": (2, 1, 0, 3)}
    assert counts(sub, "note_type") == {"discharge": (2, 3, 0, 1), "ed note": (1, 2, 1, 0)}
    assert counts(sub, "site") == {"north": (2, 4, 1, 0), "south": (2, 1, 0, 3)}
    assert counts(sub, "period") == {"2023": (2, 3, 0, 1), "2024": (2, 2, 1, 2)}
    assert sub.missing == {"age": 1, "sex": 1, "note_type": 2, "site": 1, "period": 1}
    # Every scored category is sliced, code sets included.
    assert counts(sub, "sex", "entities:condition") == counts(sub, "sex")
    female = sub.groups["sex"][0].results["entities"]
    assert female.micro.fscore == pytest.approx(8 / 9)
    low, high = female.ci["f"]  # type: ignore[misc]
    assert low <= 8 / 9 <= high
    again = evaluate(GOLD, PRED, OPTIONS, subjects=SUBJECTS).runs[0].subgroups
    assert again is not None and again.to_dict() == sub.to_dict()  # seeded: the same every run


def test_quarters_and_the_report_forms() -> None:
    report = evaluate(GOLD, PRED, EvalOptions(bootstrap=50, period="quarter"), subjects=SUBJECTS)
    sub = report.runs[0].subgroups
    assert sub is not None
    assert list(counts(sub, "period")) == ["2023-Q1", "2023-Q4", "2024-Q1"]
    data = report.to_dict()["runs"]["predictions"]["subgroups"]
    ages = data["dimensions"]["age"]
    assert ages["documents_without_value"] == 1
    assert ages["groups"]["≥75"]["categories"]["entities"]["tp"] == 2
    assert "macro_f" not in ages["groups"]["≥75"]["categories"]["entities"]
    console = Console(record=True, width=200)
    print_report(report, console)
    text = console.export_text()
    assert "entities by subgroup" in text and "≥75" in text and "2023-Q4" in text
    html = render_html(report)
    assert "Subgroups of “entities”" in html and "≥75" in html


@pytest.mark.parametrize(
    ("age", "band"),
    [
        *((age, "<18") for age in (0, 17)),
        *((age, "18–44") for age in (18, 44)),
        *((age, "45–64") for age in (45, 64)),
        *((age, "65–74") for age in (65, 74)),
        *((age, "≥75") for age in (75, 103)),
    ],
)
def test_age_bands(age: int, band: str) -> None:
    assert age_band(age) == band
    assert group_of(Subject(age=age), "age") == band


def test_the_bands_include_75_and_over() -> None:
    assert [name for name, _ in AGE_BANDS] == ["<18", "18–44", "45–64", "65–74", "≥75"]
    assert group_of(Subject(), "age") is None and group_of(Subject(sex="other"), "sex") == "other"


def _two_groups(
    perfect: tuple[int, int], missed: tuple[int, int]
) -> tuple[Corpus, Corpus, dict[str, Subject]]:
    """Group "a" and group "b": ``perfect[i]`` notes predicted right, ``missed[i]`` predicted empty."""
    gold, pred, subjects = {}, {}, {}
    for group, right, wrong in zip("ab", perfect, missed, strict=True):
        for i in range(right + wrong):
            doc_id = f"{group}{i}"
            gold[doc_id] = [COUGH]
            pred[doc_id] = [COUGH] if i < right else []
            subjects[doc_id] = Subject(site=group)
    return corpus(gold), corpus(pred), subjects


def test_a_gap_whose_interval_excludes_zero_is_flagged() -> None:
    gold, pred, subjects = _two_groups(perfect=(20, 0), missed=(0, 20))
    sub = evaluate(gold, pred, OPTIONS, subjects=subjects).runs[0].subgroups
    assert sub is not None
    gap = sub.gap("site", "entities")
    assert gap is not None
    assert (gap.low, gap.high, gap.low_f, gap.high_f) == ("b", "a", 0.0, 1.0)
    assert gap.delta == 1.0 and gap.interval == (1.0, 1.0) and gap.flagged
    assert gap.samples == 200
    # In the terminal, a dimension of many groups folds those too small to compare into one line.
    subjects.update({f"b{i}": Subject(site=f"c{i}") for i in range(10)})
    console = Console(record=True, width=250)
    print_report(evaluate(gold, pred, OPTIONS, subjects=subjects), console)
    text = console.export_text()
    assert "(10 groups of < 10 docs)" in text and "│ c0 " not in text
    assert "2 of 2 gaps flagged" in text  # entities and entities:condition


def test_a_gap_whose_interval_holds_zero_is_not_flagged() -> None:
    # a: 3 of 6 notes right, F1 = 6 / 9; b: 4 of 6, F1 = 8 / 10.
    gold, pred, subjects = _two_groups(perfect=(3, 4), missed=(3, 2))
    report = evaluate(
        gold, pred, EvalOptions(bootstrap=200, seed=1, min_group_documents=6), subjects=subjects
    )
    sub = report.runs[0].subgroups
    assert sub is not None
    gap = sub.gap("site", "entities")
    assert gap is not None
    assert (gap.low, gap.high) == ("a", "b")
    assert gap.delta == pytest.approx(0.8 - 2 / 3)
    assert gap.interval is not None and gap.interval[0] < 0 < gap.interval[1]
    assert not gap.flagged
    entry = next(
        g for g in report.to_dict()["runs"]["predictions"]["subgroups"]["gaps"] if g["category"] == "entities"
    )
    assert entry["groups"] == ["a", "b"] and entry["flagged"] is False


def test_groups_under_the_minimum_size_are_not_compared() -> None:
    gold, pred, subjects = _two_groups(perfect=(20, 0), missed=(0, 9))
    sub = evaluate(gold, pred, OPTIONS, subjects=subjects).runs[0].subgroups
    assert sub is not None and sub.gap("site", "entities") is None  # b has 9 notes, fewer than 10
    loose = EvalOptions(bootstrap=50, min_group_documents=9)
    sub = evaluate(gold, pred, loose, subjects=subjects).runs[0].subgroups
    assert sub is not None and sub.gap("site", "entities") is not None


def test_no_subjects_no_subgroups() -> None:
    assert evaluate(GOLD, PRED, OPTIONS).runs[0].subgroups is None
    assert evaluate(GOLD, PRED, OPTIONS).to_dict()["runs"]["predictions"]["subgroups"] is None


def test_subjects_are_read_from_the_jsonl_gold(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    write_jsonl(
        [Document(id=d, text=NOTE, entities=e) for d, e in [("a", [COUGH]), ("b", [COUGH])]],
        gold,
        with_text=True,
    )
    records = [json.loads(line) for line in gold.read_text().splitlines()]
    records[0]["subject"] = {
        "age": 80,
        "sex": "female",
        "note_type": "discharge",
        "site": "north",
        "date": "2024-03-01",
    }
    records[1]["subject"] = {"age": 30}
    gold.write_text("".join(json.dumps(r) + "\n" for r in records))
    pred = tmp_path / "pred.jsonl"
    write_jsonl([Document(id="a", text=NOTE, entities=[COUGH]), Document(id="b", text=NOTE)], pred)
    sub = evaluate_paths(gold, {"p": pred}, options=OPTIONS).runs[0].subgroups
    assert sub is not None
    assert counts(sub, "age") == {"18–44": (1, 0, 0, 1), "≥75": (1, 1, 0, 0)}
    assert counts(sub, "period") == {"2024": (1, 1, 0, 0)} and sub.missing["period"] == 1


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ({"age": "old"}, "subject.age is not a whole number"),
        ({"age": -1}, "subject.age is not a whole number"),
        ({"sex": "F"}, "subject.sex is not one of male, female, other, unknown"),
        ({"date": "March"}, "subject.date is not a date"),
        ({"gender": "female"}, "unknown subject key(s) ['gender']"),
        ("female", "'subject' is not an object"),
    ],
)
def test_a_malformed_subject_names_its_line(tmp_path: Path, subject: object, message: str) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "a", "text": NOTE, "entities": [], "subject": subject}) + "\n")
    with pytest.raises(EvaluationError) as error:
        evaluate_paths(gold, {"p": gold}, options=OPTIONS)
    assert f"gold.jsonl:1 ({message}" in str(error.value)
    assert "March" not in str(error.value)  # the value is not quoted


def test_subjects_are_read_from_the_fhir_gold(tmp_path: Path) -> None:
    folder = tmp_path / "gold"
    folder.mkdir()
    for doc_id, birth, gender in (("a", "1940-06-01", "male"), ("b", "1990-01-01", "female")):
        bundle = Document(
            id=doc_id,
            text=NOTE,
            entities=[COUGH],
            patient={"resourceType": "Patient", "id": f"p{doc_id}", "birthDate": birth, "gender": gender},
        ).to_fhir()
        doc_ref = next(
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"
        )
        doc_ref["context"] = {"encounter": [{"reference": f"urn:uuid:enc-{doc_id}"}]}
        bundle["entry"] += [
            {
                "fullUrl": f"urn:uuid:enc-{doc_id}",
                "resource": {
                    "resourceType": "Encounter",
                    "id": f"enc-{doc_id}",
                    "status": "finished",
                    "class": {"code": "IMP"},
                    "period": {"start": "2024-02-20", "end": "2024-03-01"},
                    "serviceProvider": {"reference": "urn:uuid:org"},
                },
            },
            {
                "fullUrl": "urn:uuid:org",
                "resource": {"resourceType": "Organization", "id": "org", "name": "North"},
            },
        ]
        (folder / f"{doc_id}.json").write_text(json.dumps(bundle))
    pred = tmp_path / "pred.jsonl"
    write_jsonl([Document(id="a", text=NOTE, entities=[COUGH]), Document(id="b", text=NOTE)], pred)
    sub = evaluate_paths(folder, {"p": pred}, options=OPTIONS).runs[0].subgroups
    assert sub is not None
    assert counts(sub, "age") == {"18–44": (1, 0, 0, 1), "≥75": (1, 1, 0, 0)}  # 83 and 34 on 2024-03-01
    assert counts(sub, "sex") == {"female": (1, 0, 0, 1), "male": (1, 1, 0, 0)}
    assert counts(sub, "site") == {"North": (2, 1, 0, 1)}
