"""The Ray engine's plan and manifest, without a cluster: deterministic partitions and
fingerprints, what a restart may resume, and what it must refuse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clinex.batch.ray.manifest import Manifest, check_same, open_run, partition_file, record_done
from clinex.batch.ray.plan import plan_partitions, records_from_json, records_to_json
from clinex.core.errors import ConfigError, InputError
from clinex.inputs import InputProblem, NoteRecord


def _records(texts: list[str]) -> list[NoteRecord | InputProblem]:
    return [NoteRecord(id=f"n{i}", text=text, source=f"in.jsonl:{i + 1}") for i, text in enumerate(texts)]


def _plan(items: list[Any], size: int = 2) -> tuple[Any, list[tuple[int, list[str]]]]:
    parts: list[tuple[int, list[str]]] = []
    plan = plan_partitions(
        items, partition_size=size, max_chars=20, emit=lambda i, rs: parts.append((i, [r.id for r in rs]))
    )
    return plan, parts


def test_partitions_are_numbered_whole_notes_in_input_order() -> None:
    items = [
        *_records(["a", "b", "c", "d", "e"]),
        InputProblem("in.jsonl:6", InputError("in.jsonl:6: malformed JSON")),
    ]
    plan, parts = _plan(items)
    assert parts == [(0, ["n0", "n1"]), (1, ["n2", "n3"]), (2, ["n4"])]
    assert (plan.notes, plan.partitions) == (5, 3)
    assert plan.problems == [
        {
            "id": None,
            "source": "in.jsonl:6",
            "code": "E100",
            "message": "in.jsonl:6: malformed JSON",
            "hint": None,
        }
    ]


def test_the_fingerprint_follows_the_input_and_nothing_else() -> None:
    same = _plan(_records(["a", "b", "c"]))[0].fingerprint
    assert same == _plan(_records(["a", "b", "c"]))[0].fingerprint
    assert same != _plan(_records(["a", "b", "C"]))[0].fingerprint  # a text changed
    assert same != _plan(_records(["a", "b"]))[0].fingerprint  # a note less
    oversize = _plan(_records(["a", "b", "x" * 21]))[0]
    assert oversize.notes == 2 and oversize.problems[0]["code"] == "E102" and oversize.fingerprint != same
    with pytest.raises(ConfigError, match="partition size"):
        _plan(_records(["a"]), size=0)


def test_a_partition_travels_as_json_and_comes_back_the_same() -> None:
    records = [NoteRecord(id="a", text="Asthma — ß\n", source="x:1", patient={"resourceType": "Patient"})]
    assert records_from_json(records_to_json(records)) == records


def test_partition_files_are_named_by_index_and_format() -> None:
    assert [partition_file(7, fmt) for fmt in ("jsonl", "fhir", "parquet")] == [
        "part-00007.jsonl",
        "part-00007.ndjson",
        "part-00007.parquet",
    ]


def test_a_restart_reads_results_workers_left_before_the_driver_saved_them(tmp_path: Path) -> None:
    manifest = Manifest(run={"format": "jsonl"}, input={"fingerprint": "sha256:1"})
    manifest.save(tmp_path)
    (tmp_path / "part-00000.jsonl").write_text('{"id": "a"}\n', encoding="utf-8")
    record_done(tmp_path, 0, {"notes": 1, "file": "part-00000.jsonl"})
    record_done(tmp_path, 1, {"notes": 1, "file": "part-00001.jsonl"})  # its file never made it
    resumed = open_run(tmp_path)
    assert resumed is not None and sorted(resumed.partitions) == [0, 1]
    assert resumed.done(0, tmp_path) and not resumed.done(1, tmp_path)
    resumed.save(tmp_path)  # the saved manifest holds them now: the workers' copies go
    assert not list((tmp_path / ".done").iterdir())
    assert json.loads((tmp_path / "manifest.json").read_text())["partitions"]["00000"]["notes"] == 1


def test_differences_are_named_by_their_key(tmp_path: Path) -> None:
    manifest = Manifest(
        run={"extractor": {"model": {"checksum": "a"}}, "format": "jsonl"}, input={"fingerprint": "1"}
    )
    check_same(
        manifest,
        tmp_path,
        run={"extractor": {"model": {"checksum": "a"}}, "format": "jsonl"},
        input={"fingerprint": "1"},
    )
    with pytest.raises(ConfigError, match=r"holds another run: extractor\.model\.checksum, format differ"):
        check_same(manifest, tmp_path, run={"extractor": {"model": {"checksum": "b"}}, "format": "fhir"})
    with pytest.raises(ConfigError, match="holds another run: the input differ"):
        check_same(manifest, tmp_path, input={"fingerprint": "2"})


def test_an_unreadable_or_foreign_manifest_is_refused(tmp_path: Path) -> None:
    assert open_run(tmp_path / "new") is None and open_run(tmp_path) is None
    (tmp_path / "manifest.json").write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot be read"):
        open_run(tmp_path)
    (tmp_path / "manifest.json").write_text('{"clinex_manifest": 99}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a manifest this clinex writes"):
        open_run(tmp_path)


def test_a_second_run_on_a_directory_being_written_is_refused(tmp_path: Path) -> None:
    from clinex.batch.ray.manifest import locked

    first = locked(tmp_path / "out")
    first.__enter__()
    try:
        with pytest.raises(ConfigError, match="another run is writing to"), locked(tmp_path / "out"):
            pass
    finally:
        first.__exit__(None, None, None)
    with locked(tmp_path / "out"):  # released when the first run ends
        pass
