"""The llm extractor on --engine ray: two Ray workers sending their notes to one real
OpenAI-compatible server (llama.cpp's, on 127.0.0.1), as workers on a cluster share a vLLM."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from clinex.batch import open_writer, run_batch
from clinex.inputs import read_inputs

pytest.importorskip("ray", reason="--engine ray needs Ray Data: pip install 'clinex[ray]'")
pytestmark = [pytest.mark.llamacpp, pytest.mark.slow]

NOTES = [
    {"id": "a", "text": "Known asthma. On salbutamol 100 mcg as needed. No fever."},
    {"id": "b", "text": "Type 2 diabetes. Metformin 500 mg twice daily."},
]


def test_ray_workers_share_one_llm_server_and_match_the_local_engine(
    ray_cluster: str, llama_server: str, tmp_path: Path
) -> None:
    from clinex.batch.ray import extract_on_ray

    notes = tmp_path / "notes.jsonl"
    notes.write_text("".join(json.dumps(n) + "\n" for n in NOTES), encoding="utf-8")
    options = {"base_url": llama_server, "structured": "json_object", "max_tokens": 96, "max_entities": 2}
    run = extract_on_ray(
        [notes],
        tmp_path / "out",
        extractor="llm",
        options=options,
        workers=2,
        partition_size=1,
        address=ray_cluster,
    )

    assert run.summary.ok == 2 and run.partitions_run == 2
    assert run.manifest["run"]["extractor"]["extractor"] == "llm.v2"
    records = {
        r["id"]: r
        for p in sorted((tmp_path / "out").glob("part-*.jsonl"))
        for r in map(json.loads, p.read_text().splitlines())
    }
    texts = {n["id"]: n["text"] for n in NOTES}
    grounded = [e for r in records.values() for e in r["entities"] if e["start"] is not None]
    assert grounded and all(
        texts[r["id"]][e["start"] : e["end"]] == e["text"]
        for r in records.values()
        for e in r["entities"]
        if e["start"] is not None
    )

    local = tmp_path / "local.jsonl"
    from clinex.pipeline import load_extractor

    writer = open_writer("jsonl", local, many=True, stdout=sys.stdout)
    for _ in run_batch(read_inputs([notes]), load_extractor("llm", **options), writer):
        pass
    writer.close()
    expected = {r["id"]: r for r in map(json.loads, local.read_text().splitlines())}
    assert records == expected  # temperature 0: the same answers whichever worker asked
