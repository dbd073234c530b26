"""clinex.batch.process and run_batch: records → outcomes, in order, batched through extract_batch."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clinex.batch import get_engine, process_notes, run_batch
from clinex.batch.process import process_items, triage
from clinex.cli.app import app
from clinex.core.errors import ConfigError, InputError, InternalError, UnknownNameError
from clinex.core.registry import extractors
from clinex.core.types import Entity
from clinex.inputs import InputProblem, NoteRecord
from clinex.pipeline import Pipeline

SECRET = "Secret Person has metformin-resistant sepsis"


@dataclass
class BatchingExtractor:
    """TEST ONLY: finds 'metformin' and records how it was called (batches vs single notes)."""

    name: str = "batching-test.v1"
    batches: list[int] = field(default_factory=list)
    singles: int = 0

    def _found(self, text: str) -> list[Entity]:
        if "explode" in text:
            raise ValueError(text)  # a bug whose message quotes the note
        start = text.lower().find("metformin")
        return (
            []
            if start < 0
            else [Entity(type="medication", text=text[start : start + 9], start=start, end=start + 9)]
        )

    def extract(self, text: str) -> list[Entity]:
        self.singles += 1
        return self._found(text)

    def extract_batch(self, texts: Sequence[str]) -> list[list[Entity]]:
        self.batches.append(len(texts))
        if any("explode" in t for t in texts):
            raise ValueError("batch failed")
        return [self._found(t) for t in texts]


def record(note_id: str, text: str = "Metformin 500 mg.") -> NoteRecord:
    return NoteRecord(id=note_id, text=text, source=f"notes.jsonl:{note_id}")


def problem(source: str) -> InputProblem:
    return InputProblem(source, InputError(f"{source}: malformed JSON", hint="fix it"))


def test_outcomes_keep_input_order_and_notes_go_to_the_extractor_in_batches() -> None:
    extractor = BatchingExtractor()
    items = [record("a"), problem("bad:2"), record("b"), record("a"), record("c"), record("d"), record("e")]
    outcomes = list(process_items(items, Pipeline(extractor), batch_size=2))
    assert [o.source for o in outcomes] == [
        "notes.jsonl:a",
        "bad:2",
        "notes.jsonl:b",
        "notes.jsonl:a",
        "notes.jsonl:c",
        "notes.jsonl:d",
        "notes.jsonl:e",
    ]
    assert [o.document is not None for o in outcomes] == [True, False, True, False, True, True, True]
    assert "duplicate note id 'a'" in str(outcomes[3].error)
    # a, b | c, d in batches of two; e alone is extracted as a single note
    assert extractor.batches == [2, 2] and extractor.singles == 1


def test_a_failing_note_costs_only_itself_and_its_error_holds_no_note_text() -> None:
    extractor = BatchingExtractor()
    records = [record("ok-1"), record("boom", f"{SECRET} explode"), record("ok-2")]
    outcomes = process_notes(records, Pipeline(extractor))
    assert [o.id for o in outcomes] == ["ok-1", "boom", "ok-2"]
    assert outcomes[0].document is not None and outcomes[2].document is not None
    error = outcomes[1].error
    assert isinstance(error, InternalError) and "ValueError" in error.message
    assert "Secret" not in str(error)


def test_triage_skips_notes_already_done_and_reports_duplicates() -> None:
    entries = list(triage([record("a"), record("b"), record("b")], done=lambda note_id: note_id == "a"))
    assert entries[0].skipped is True  # type: ignore[union-attr]
    assert entries[1] == record("b")
    assert "duplicate" in str(entries[2].error)  # type: ignore[union-attr]


class ListWriter:
    destination = "a list"

    def __init__(self) -> None:
        self.ids: list[str] = []

    def done(self, note_id: str) -> bool:
        return note_id in self.ids

    def write(self, doc: object) -> None:
        self.ids.append(doc.id)  # type: ignore[attr-defined]

    def close(self) -> None:
        pass


def test_run_batch_loads_the_extractor_before_any_note_is_read() -> None:
    def never_read() -> object:
        raise AssertionError("an item was read before the extractor loaded")
        yield

    with pytest.raises(UnknownNameError, match="nonesuch"):
        run_batch(never_read(), "nonesuch", ListWriter())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="instance"):
        run_batch([], BatchingExtractor(), ListWriter(), options={"model": "x"})


def test_run_batch_resumes_and_writes_each_document_once() -> None:
    writer = ListWriter()
    writer.ids.append("a")
    outcomes = list(run_batch([record("a"), record("b")], BatchingExtractor(), writer, resume=True))
    assert [o.skipped for o in outcomes] == [True, False]
    assert writer.ids == ["a", "b"]


def test_the_local_engine_is_registered_and_unknown_engines_name_the_known_ones() -> None:
    assert get_engine("local") is run_batch and get_engine("local.v1") is run_batch
    with pytest.raises(UnknownNameError) as error:
        get_engine("ray-nonesuch")
    assert "local" in (error.value.hint or "")


def test_clinex_extract_batches_notes_through_extract_batch(tmp_path: Path) -> None:
    extractor = BatchingExtractor()
    source = tmp_path / "notes.jsonl"
    source.write_text(
        "".join(json.dumps({"id": f"n{i}", "text": "Metformin 500 mg."}) + "\n" for i in range(3)),
        encoding="utf-8",
    )
    with extractors.override("batching-test.v1", lambda: extractor):
        result = CliRunner().invoke(app, ["extract", str(source), "-e", "batching-test", "-f", "jsonl"])
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["n0", "n1", "n2"]
    assert extractor.batches == [3] and extractor.singles == 0


def test_a_note_over_the_size_limit_is_an_error_that_claims_its_id() -> None:
    records = [
        NoteRecord(id="big", text="x" * 11, source="in.jsonl:1"),
        NoteRecord(id="big", text="short", source="in.jsonl:2"),
        NoteRecord(id="ok", text="x" * 10, source="in.jsonl:3"),
    ]
    too_large, duplicate, fine = triage(records, max_chars=10)
    assert too_large.error is not None and too_large.error.code == "E102"
    assert "11 characters, over the limit of 10" in too_large.error.message
    assert duplicate.error is not None and "duplicate note id 'big'" in duplicate.error.message
    assert fine == records[2]
    assert next(triage(records)) == records[0]  # no limit unless given


def test_summaries_merge_and_round_trip_through_json() -> None:
    from clinex.batch import BatchSummary

    first = BatchSummary(
        ok=2, failed=1, entities=Counter({"condition": 3}), assertions=Counter({"negated": 1})
    )
    second = BatchSummary.from_dict(
        json.loads(
            json.dumps(BatchSummary(ok=1, skipped=4, entities=Counter({"condition": 1, "lab": 2})).as_dict())
        )
    )
    first.merge(second)
    assert (first.ok, first.failed, first.skipped, first.notes) == (3, 1, 4, 8)
    assert first.entities == {"condition": 4, "lab": 2} and first.assertions == {"negated": 1}
