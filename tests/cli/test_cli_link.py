"""`clinex link` learns a hospital's coding of a mention from coded notes, and
`clinex extract --linker` codes with it (the rules extractor, real terminologies)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from clinex.cli.app import app

NOTE = "Seen today for chest pain at rest."


def coded(note_id: str, code: str) -> dict[str, object]:
    start = NOTE.index("chest pain")
    entity = {
        "type": "condition", "text": "chest pain", "start": start, "end": start + 10,
        "code": {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code, "display": None},
    }  # fmt: skip
    return {"id": note_id, "text": NOTE, "entities": [entity]}


def test_a_linker_learned_from_coded_notes_codes_the_mention_their_way(tmp_path: Path) -> None:
    silver = tmp_path / "silver.jsonl"
    silver.write_text("".join(json.dumps(coded(f"n{i}", "R07.89")) + "\n" for i in range(8)))
    (tmp_path / "note.txt").write_text(NOTE)
    runner = CliRunner()
    built = runner.invoke(app, ["link", str(silver), "-o", str(tmp_path / "linker.json")])
    assert built.exit_code == 0, built.output
    assert json.loads((tmp_path / "linker.json").read_text())["format"] == "clinex-linker/1"

    def code(*extra: str) -> tuple[str, dict[str, object]]:
        out = tmp_path / f"out{len(extra)}.jsonl"
        args = [
            "extract",
            str(tmp_path / "note.txt"),
            "-o",
            str(out),
            "--format",
            "jsonl",
            "--extractor",
            "rules",
        ]
        result = runner.invoke(app, [*args, "--calibration", "none", "-q", *extra])
        assert result.exit_code == 0, result.output
        record = json.loads(out.read_text())
        [pain] = [e for e in record["entities"] if e["text"] == "chest pain"]
        return pain["code"]["code"], record["meta"]

    plain, meta = code()
    assert plain != "R07.89" and "linker" not in meta
    learned, meta = code("--linker", str(tmp_path / "linker.json"))
    assert learned == "R07.89", "eight coded notes outweigh the terminology's own name"
    assert meta["linker"]["sha256"]
    missing = runner.invoke(app, ["link", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "x.json")])
    assert missing.exit_code == 2 and "nope.jsonl" in missing.output
