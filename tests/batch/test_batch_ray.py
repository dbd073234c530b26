"""--engine ray on a real local Ray cluster started by these tests: the same entities as the
local engine, bad notes in errors.jsonl, a killed driver or worker resumed to complete
duplicate-free output, and runs that must be refused before anything is written.

The cluster is the ``ray_cluster`` fixture (conftest: ``ray.init`` with 2 CPUs, once per module);
a subprocess driver connects to it by its address, as a driver on a real cluster would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from clinex.batch import open_writer, run_batch
from clinex.batch.ray import ERRORS_FILE, MANIFEST_FILE, extract_on_ray
from clinex.batch.ray.manifest import open_run
from clinex.core.errors import ConfigError
from clinex.inputs import read_inputs
from clinex.testing import FaultyExtractor, FixedEntitiesExtractor

ray = pytest.importorskip("ray", reason="--engine ray needs Ray Data: pip install 'clinex[ray]'")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TABLE = {
    "pneumonia": {"type": "condition"},
    "fever": {"type": "condition"},
    "Metformin": {"type": "medication"},
    "creatinine": {"type": "lab"},
}
POISON = "POISON-MARKER"


def _notes(count: int) -> list[dict[str, str]]:
    """``count`` notes of real clinical lines (the shipped example letters), each a different
    window of them, so notes differ in length and content."""
    lines = [
        line
        for path in (
            ROOT / "examples" / "discharge_letter.txt",
            ROOT / "tests" / "fixtures" / "rules_letter.txt",
        )
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return [
        {"id": f"n{i:04d}", "text": "\n".join(lines[(i * 7) % len(lines) :][: 3 + i % 9]) + "\n"}
        for i in range(count)
    ]


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _records(out: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for part in sorted(out.glob("part-*.jsonl"))
        for line in part.read_text().splitlines()
    ]


def _facts(records: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(
        (
            r["id"],
            e["type"],
            e["start"],
            e["end"],
            json.dumps(e.get("code"), sort_keys=True),
            json.dumps(e["assertion"], sort_keys=True),
        )
        for r in records
        for e in r["entities"]
    )


def _local(inputs: list[Path], extractor: Any, tmp_path: Path) -> list[dict[str, Any]]:
    out = tmp_path / "local.jsonl"
    writer = open_writer("jsonl", out, many=True, stdout=sys.stdout)
    for _ in run_batch(read_inputs(inputs), extractor, writer):
        pass
    writer.close()
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_the_ray_engine_writes_exactly_the_entities_of_the_local_engine(
    ray_cluster: str, tmp_path: Path
) -> None:
    notes = _jsonl(tmp_path / "notes.jsonl", _notes(300))
    run = extract_on_ray(
        [notes], tmp_path / "out", extractor="rules", workers=2, partition_size=40, address=ray_cluster
    )
    records = _records(tmp_path / "out")
    assert sorted(r["id"] for r in records) == [f"n{i:04d}" for i in range(300)]  # each note once
    ray_facts = _facts(records)
    assert sum(ray_facts.values()) > 1000  # the rules found plenty: the comparison means something
    assert ray_facts == _facts(_local([notes], "rules", tmp_path))
    assert (run.summary.ok, run.summary.failed, run.partitions, run.partitions_run) == (300, 0, 8, 8)
    manifest = json.loads((tmp_path / "out" / MANIFEST_FILE).read_text())
    assert manifest["complete"] and len(manifest["partitions"]) == 8
    assert manifest["run"]["extractor"]["extractor"] == "rules.v2"
    assert manifest["run"]["extractor"]["model"]["checksum"]
    assert manifest["timings"]["extract_write_s"] > 0
    # Each worker that ran a partition reports its peak RSS (one actor may start late and find
    # the partitions all taken, so 1 or 2 of them).
    rss = manifest["timings"]["peak_rss_mb_per_worker"]
    assert 1 <= len(rss) <= 2 and all(mib > 100 for mib in rss.values())
    assert any(
        line.startswith("Operator") and "MapBatches(PartitionWorker)" in line
        for line in manifest["ray_stats"]
    )
    # The same command again: every partition is kept, nothing is redone.
    again = extract_on_ray(
        [notes], tmp_path / "out", extractor="rules", workers=2, partition_size=40, address=ray_cluster
    )
    assert (again.partitions_run, again.summary.skipped, again.summary.ok) == (0, 300, 0)
    assert _facts(_records(tmp_path / "out")) == ray_facts


def test_bad_notes_become_error_rows_and_the_job_goes_on(ray_cluster: str, tmp_path: Path) -> None:
    good = _notes(30)
    rows: list[dict[str, Any]] = [
        *good[:10],
        {"id": "poisoned", "text": f"Asthma. {POISON} fever."},
        {"id": "blank", "text": "   \n"},
        {"id": "huge", "text": "asthma " * 400},
        {"id": good[0]["id"], "text": "a second note with the first one's id"},
        *good[10:],
    ]
    notes = _jsonl(tmp_path / "notes.jsonl", rows)
    with notes.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "cut", "text": "asthma\n')  # malformed JSON
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "binary.txt").write_bytes(b"\x00\x01asthma")
    (folder / "latin1.txt").write_bytes("Asthma, Fieber, Übelkeit".encode("latin-1"))
    (folder / "fine.txt").write_text("Asthma, no fever.", encoding="utf-8")
    faulty = FaultyExtractor(FixedEntitiesExtractor(TABLE), fail_on=POISON)

    def run_it() -> Any:
        return extract_on_ray(
            [notes, folder],
            tmp_path / "out",
            extractor=faulty,
            workers=2,
            partition_size=8,
            max_chars=2000,
            address=ray_cluster,
        )

    run = run_it()

    errors = [json.loads(line) for line in (tmp_path / "out" / ERRORS_FILE).read_text().splitlines()]
    by_code = Counter(row["code"] for row in errors)
    assert by_code == {
        "E001": 1,
        "E101": 1,
        "E102": 1,
        "E100": 4,
    }  # failure; empty; too large; dup, JSON, binary, encoding
    assert {row["id"] for row in errors if row["code"] in ("E001", "E102")} == {"poisoned", "huge"}
    assert [row["source"] for row in errors if row["code"] == "E101"] == [
        f"{notes}:12"
    ]  # the reader names it by line
    assert all(POISON not in json.dumps(row) and "Übelkeit" not in json.dumps(row) for row in errors)
    written = sorted(r["id"] for r in _records(tmp_path / "out"))
    assert written == sorted([n["id"] for n in good] + ["fine"])
    assert (run.summary.ok, run.summary.failed) == (31, 7)
    assert run.errors == errors
    # Resumed: nothing is redone, and the notes that failed stay failed (their rows stay too).
    again = run_it()
    assert (again.summary.ok, again.summary.skipped, again.summary.failed, again.partitions_run) == (
        0,
        31,
        7,
        0,
    )
    assert again.errors == errors


def _driver_script(notes: Path, out: Path, address: str) -> str:
    return (
        "from clinex.batch.ray import extract_on_ray\n"
        "from clinex.testing import FaultyExtractor, FixedEntitiesExtractor\n"
        f"extractor = FaultyExtractor(FixedEntitiesExtractor({TABLE!r}), delay=0.05)\n"
        f"extract_on_ray([{str(notes)!r}], {str(out)!r}, extractor=extractor, workers=2, partition_size=10, address={address!r})\n"
    )


def _wait_for(condition: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the run")
        time.sleep(0.05)


def _map_workers() -> list[Any]:
    """The Ray Data actor processes of this module's cluster (its raylet is our child)."""
    psutil = pytest.importorskip("psutil")
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if "MapWorker" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.NoSuchProcess:
            continue
    return found


def test_a_driver_killed_midway_resumes_to_complete_duplicate_free_output(
    ray_cluster: str, tmp_path: Path
) -> None:
    notes = _jsonl(tmp_path / "notes.jsonl", _notes(240))
    out = tmp_path / "out"
    driver = subprocess.Popen(
        [sys.executable, "-c", _driver_script(notes, out, ray_cluster)], stderr=subprocess.DEVNULL
    )
    try:
        _wait_for(lambda: len(list(out.glob("part-*.jsonl"))) >= 3 or driver.poll() is not None)
        assert driver.poll() is None, "the run ended before it could be killed"
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
    _wait_for(lambda: not _map_workers())  # Ray stops the dead driver's actors: nothing more is written
    before = len(list(out.glob("part-*.jsonl")))
    assert 3 <= before < 24  # killed midway: some partitions done, not all
    left = open_run(out)  # what the killed driver, or its workers, recorded as done
    assert left is not None
    kept = sum(left.done(index, out) for index in range(24))
    assert kept >= 1

    extractor = FaultyExtractor(FixedEntitiesExtractor(TABLE))
    run = extract_on_ray([notes], out, extractor=extractor, workers=2, partition_size=10, address=ray_cluster)

    ids = [r["id"] for r in _records(out)]
    assert sorted(ids) == [f"n{i:04d}" for i in range(240)] and len(ids) == len(set(ids))
    assert (run.partitions_run, run.summary.skipped, run.summary.ok) == (
        24 - kept,
        10 * kept,
        240 - 10 * kept,
    )
    assert not [
        p for p in out.iterdir() if p.name.startswith(".") and p.name != ".lock"
    ]  # no partial files left
    # Resumed output is the output of an uninterrupted run.
    whole = extract_on_ray(
        [notes], tmp_path / "whole", extractor=extractor, workers=2, partition_size=10, address=ray_cluster
    )
    assert whole.summary.ok == 240
    assert _facts(_records(out)) == _facts(_records(tmp_path / "whole"))


def test_a_worker_killed_midway_is_replaced_and_its_partition_redone(
    ray_cluster: str, tmp_path: Path
) -> None:
    notes = _jsonl(tmp_path / "notes.jsonl", _notes(200))
    out = tmp_path / "out"
    extractor = FaultyExtractor(FixedEntitiesExtractor(TABLE), delay=0.05)
    result: dict[str, Any] = {}

    def drive() -> None:
        try:
            result["run"] = extract_on_ray(
                [notes], out, extractor=extractor, workers=2, partition_size=10, address=ray_cluster
            )
        except Exception as exc:  # reported by the assertion below
            result["error"] = exc

    thread = threading.Thread(target=drive)
    began = time.time()
    thread.start()
    _wait_for(lambda: len(list(out.glob("part-*.jsonl"))) >= 2 or not thread.is_alive())
    workers = [p for p in _map_workers() if p.create_time() >= began - 1]  # this run's actors only
    assert workers, "no Ray worker process found"
    os.kill(workers[0].pid, signal.SIGKILL)
    thread.join(timeout=300)

    assert "error" not in result, result.get("error")
    ids = [r["id"] for r in _records(out)]
    assert sorted(ids) == [f"n{i:04d}" for i in range(200)] and len(ids) == len(set(ids))
    assert result["run"].summary.ok == 200


def test_runs_that_would_mix_outputs_are_refused_and_write_nothing(ray_cluster: str, tmp_path: Path) -> None:
    notes = _jsonl(tmp_path / "notes.jsonl", _notes(12))
    out = tmp_path / "out"
    fixed = FixedEntitiesExtractor(TABLE)
    extract_on_ray([notes], out, extractor=fixed, partition_size=5, address=ray_cluster)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    with pytest.raises(ConfigError, match="holds another run: min_confidence differ"):
        extract_on_ray(
            [notes], out, extractor=fixed, partition_size=5, min_confidence=0.5, address=ray_cluster
        )
    with pytest.raises(ConfigError, match="holds another run: partition_size differ"):
        extract_on_ray([notes], out, extractor=fixed, partition_size=6, address=ray_cluster)
    with pytest.raises(ConfigError, match=r"holds another run: extractor\.extractor differ"):
        extract_on_ray([notes], out, extractor=FaultyExtractor(fixed), partition_size=5, address=ray_cluster)
    _jsonl(notes, [*_notes(12), {"id": "new", "text": "asthma"}])
    with pytest.raises(ConfigError, match="holds another run: the input differ"):
        extract_on_ray([notes], out, extractor=fixed, partition_size=5, address=ray_cluster)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_the_cli_writes_valid_bundles_per_line_and_reports_bad_notes(
    ray_cluster: str, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from clinex.cli.app import app
    from clinex.fhir.validate import validate_bundle

    folder = tmp_path / "notes"
    folder.mkdir()
    for note in _notes(12):
        (folder / f"{note['id']}.txt").write_text(note["text"], encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    out = tmp_path / "out"
    args = [
        "extract",
        str(folder),
        "--engine",
        "ray",
        "--workers",
        "2",
        "--address",
        ray_cluster,
        "-o",
        str(out),
    ]
    result = CliRunner().invoke(app, [*args, "-f", "fhir", "-e", "rules", "--partition-size", "5"])
    assert result.exit_code == 1, result.output  # one note failed, the others were written
    assert "empty.txt" in result.output and "note 'empty' is empty" in result.output
    assert "12 notes written to" in result.output and "(3 of 3 partitions run now)" in result.output
    bundles = [
        json.loads(line)
        for part in sorted(out.glob("part-*.ndjson"))
        for line in part.read_text().splitlines()
    ]
    assert len(bundles) == 12
    for bundle in bundles:
        validate_bundle(bundle)
    again = CliRunner().invoke(app, [*args, "-f", "fhir", "-e", "rules", "--partition-size", "5"])
    assert "12 notes skipped" in again.output and "(0 of 3 partitions run now)" in again.output
    refused = CliRunner().invoke(app, [*args, "-f", "jsonl", "-e", "rules", "--partition-size", "5"])
    assert refused.exit_code == 2 and "holds another run: format differ" in refused.output


def test_parquet_notes_in_and_one_fact_row_per_entity_out(ray_cluster: str, tmp_path: Path) -> None:
    import pyarrow
    import pyarrow.parquet

    from clinex.batch.tabular import COLUMNS, fact_rows
    from clinex.pipeline import extract_many

    notes = _notes(40)
    source = tmp_path / "notes.parquet"
    pyarrow.parquet.write_table(
        pyarrow.table({"id": [n["id"] for n in notes], "text": [n["text"] for n in notes]}), source
    )
    fixed = FixedEntitiesExtractor(TABLE)
    run = extract_on_ray(
        [source], tmp_path / "out", extractor=fixed, fmt="parquet", partition_size=15, address=ray_cluster
    )
    assert run.summary.ok == 40 and run.partitions == 3
    table = pyarrow.concat_tables(
        pyarrow.parquet.read_table(p) for p in sorted((tmp_path / "out").glob("part-*.parquet"))
    )
    assert table.column_names == list(COLUMNS)
    expected = [row for doc in extract_many(notes, extractor=fixed) for row in fact_rows(doc)]
    assert len(expected) > 20
    key = ("note_id", "type", "start", "end")
    assert sorted(tuple(r[k] for k in key) for r in table.to_pylist()) == sorted(
        tuple(r[k] for k in key) for r in expected
    )


def test_the_encoder_on_ray_gives_the_entities_of_the_local_engine(ray_cluster: str, tmp_path: Path) -> None:
    notes = _jsonl(tmp_path / "notes.jsonl", _notes(24))
    run = extract_on_ray(
        [notes], tmp_path / "out", extractor="encoder", workers=2, partition_size=12, address=ray_cluster
    )
    assert run.summary.ok == 24 and run.manifest["run"]["extractor"]["extractor"] == "encoder.v2"
    ray_facts = _facts(_records(tmp_path / "out"))
    assert sum(ray_facts.values()) > 100
    assert ray_facts == _facts(_local([notes], "encoder", tmp_path))


def test_workers_asking_for_gpus_a_cluster_lacks_are_refused(ray_cluster: str, tmp_path: Path) -> None:
    notes = _jsonl(tmp_path / "notes.jsonl", _notes(2))
    with pytest.raises(ConfigError, match="has 0 GPUs for 2 workers needing 1 each"):
        extract_on_ray(
            [notes],
            tmp_path / "out",
            extractor=FixedEntitiesExtractor(TABLE),
            workers=2,
            gpus_per_worker=1,
            address=ray_cluster,
        )
    assert not (tmp_path / "out").exists()


@pytest.mark.gpu
def test_a_worker_per_gpu_runs_on_its_gpu(tmp_path: Path) -> None:
    notes = _jsonl(tmp_path / "notes.jsonl", _notes(20))
    run = extract_on_ray(
        [notes], tmp_path / "out", extractor="rules", workers=1, gpus_per_worker=1, partition_size=10
    )
    assert run.summary.ok == 20
