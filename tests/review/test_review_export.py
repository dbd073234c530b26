"""Gold export of reviewed documents: the facts kept, refused while a required review is open,
read by `clinex evaluate` (the corpora reader) and the encoder trainer, kept out of dev scoring."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from clinex.core.errors import ReviewOpenError
from clinex.core.types import Document
from clinex.eval import EvalOptions, evaluate_paths
from clinex.eval.subgroups import read_gold
from clinex.review import SYSTEM_REVIEWER, DecisionRecord, Fact, gold_record, gold_records, to_jsonl
from clinex.train.encoder.config import EncoderTrainConfig
from clinex.train.encoder.data import keep_reviewed_out, read_letters, reviewed

NOTE = "Known asthma. No fever. Metformin 500 mg twice daily. Mother had breast cancer."


@dataclass(frozen=True)
class Stored:
    id: str
    text: str


def entity(text: str, kind: str = "condition", **flags: bool) -> dict[str, Any]:
    start = NOTE.index(text)
    return {
        "type": kind,
        "text": text,
        "start": start,
        "end": start + len(text),
        "assertion": flags,
        "code": None,
        "attributes": {},
        "confidence": 0.9,
    }


def fact(fact_id: str, position: int, status: str, data: dict[str, Any], *, required: bool = False) -> Fact:
    return Fact(
        id=fact_id,
        document="d1",
        position=position,
        version=2,
        entity=data,
        review_status=status,
        required=required,
        origin="reviewer" if status == "added" else "extracted",
    )


def record(
    decision_id: int, fact_id: str, reviewer: str, action: str, document: str = "d1"
) -> DecisionRecord:
    return DecisionRecord(
        id=decision_id,
        fact=fact_id,
        document=document,
        reviewer=reviewer,
        action=action,
        at="2024-05-01T10:00:00Z",
        version=2,
    )


FACTS = [
    fact("f-fever", 1, "rejected", entity("fever", negated=True), required=True),
    fact("f-asthma", 0, "accepted", entity("asthma")),
    fact("f-metformin", 2, "corrected", entity("Metformin 500 mg", "medication")),
    fact("f-daily", 3, "auto_accepted", entity("twice daily", "medication")),
    fact("f-pending", 4, "pending", entity("Mother")),
    fact("f-cancer", 5, "added", entity("breast cancer", family=True)),
]
DECISIONS = [
    record(1, "f-daily", SYSTEM_REVIEWER, "accept"),
    record(2, "f-asthma", "ana", "accept"),
    record(3, "f-metformin", "ben", "accept"),
    record(4, "f-metformin", "ana", "correct"),
    record(5, "f-fever", "ana", "reject"),
    record(6, "f-cancer", "ben", "add"),
]


def test_the_record_keeps_the_kept_facts_aligned_with_their_ids() -> None:
    gold = gold_record(Stored("d1", NOTE), FACTS, DECISIONS)
    assert gold["id"] == "d1" and gold["text"] == NOTE
    assert [e["text"] for e in gold["entities"]] == [
        "asthma",
        "Metformin 500 mg",
        "twice daily",
        "breast cancer",
    ]
    assert gold["meta"]["review"]["facts"] == [
        {"fact": "f-asthma", "decision": 2, "status": "accepted"},
        {"fact": "f-metformin", "decision": 4, "status": "corrected"},
        {"fact": "f-daily", "decision": 1, "status": "auto_accepted"},
        {"fact": "f-cancer", "decision": 6, "status": "added"},
    ]
    assert (
        gold["meta"]["review"]["reviewers"] == ["ana", "ben"] and gold["meta"]["review"]["document"] == "d1"
    )
    assert gold["entities"][3]["assertion"]["family"] is True and gold["entities"][0]["alignment"] == "exact"


def test_export_is_refused_while_a_required_review_is_open() -> None:
    still_open = [*FACTS, fact("f-open", 6, "pending", entity("No fever", negated=True), required=True)]
    with pytest.raises(ReviewOpenError) as raised:
        gold_record(Stored("d1", NOTE), still_open, DECISIONS)
    assert "1 required review(s) still open on 1 document(s): 'd1' (1)" in raised.value.message
    other = [fact("g1", 0, "pending", entity("asthma"), required=True)]
    with pytest.raises(ReviewOpenError) as both:
        gold_records([(Stored("d1", NOTE), still_open, DECISIONS), (Stored("d2", NOTE), other, [])])
    message = str(both.value)
    assert "2 required review(s) still open on 2 document(s)" in message and "'d2'" in message
    assert "fever" not in message and "asthma" not in message, "never note text in an error"


def write_gold(tmp_path: Path) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text(to_jsonl(gold_records([(Stored("d1", NOTE), FACTS, DECISIONS)])), encoding="utf-8")
    return path


def test_clinex_evaluate_reads_the_export(tmp_path: Path) -> None:
    path = write_gold(tmp_path)
    corpus, _ = read_gold(path)  # what `clinex evaluate --gold` reads
    (doc,) = corpus.documents.values()
    assert doc.id == "d1" and doc.text == NOTE and len(doc.entities) == 4
    assert doc.meta["review"]["facts"][1]["fact"] == "f-metformin"
    report = evaluate_paths(path, {"self": path}, options=EvalOptions(bootstrap=0))
    metrics = report.to_dict()["runs"]["self"]["metrics"]
    assert report.documents == 1 and metrics["entities.f"] == 1.0 and metrics["entities.tp"] == 4


def test_the_encoder_trainer_reads_the_export_and_keeps_it_out_of_dev(tmp_path: Path) -> None:
    (letter,) = read_letters(write_gold(tmp_path), what="train_file")
    assert reviewed(letter) and len(letter.entities) == 4
    plain = Document(text=NOTE, id="synth-1")
    dev, train, moved = keep_reviewed_out([letter, plain], [Document(text=NOTE, id="synth-2")])
    assert [d.id for d in dev] == ["synth-1"] and [d.id for d in train] == ["synth-2", "d1"] and moved == 1
    # Already a training letter: dropped from dev, not trained on twice.
    dev, train, moved = keep_reviewed_out([letter], [letter])
    assert dev == [] and [d.id for d in train] == ["d1"] and moved == 1
    assert EncoderTrainConfig().score_reviewed is False, "kept out by default"


def test_training_moves_reviewed_dev_letters_to_the_training_side(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="training needs the encoder extra (torch)")
    from clinex.train.encoder.trainer import train_encoder

    train_file = write_gold(tmp_path)
    again = gold_record(Stored("d2", NOTE), [replace(f, document="d2") for f in FACTS], [])
    plain = {"id": "d3", "text": NOTE, "entities": [entity("asthma")]}
    dev_file = tmp_path / "dev.jsonl"
    dev_file.write_text(to_jsonl([again, plain]), encoding="utf-8")
    settings: dict[str, Any] = {"epochs": 1, "batch_size": 2, "max_len": 48, "overlap": 8, "threads": 1}
    result = train_encoder(
        EncoderTrainConfig(
            train_file=str(train_file), dev_file=str(dev_file), output_dir=str(tmp_path / "m"), **settings
        )
    )
    assert result.metrics["train_letters"] == 2 and result.metrics["dev_letters"] == 1
    scored = train_encoder(
        EncoderTrainConfig(
            train_file=str(train_file),
            dev_file=str(dev_file),
            output_dir=str(tmp_path / "m2"),
            score_reviewed=True,
            **settings,
        )
    )
    assert scored.metrics["train_letters"] == 1 and scored.metrics["dev_letters"] == 2
