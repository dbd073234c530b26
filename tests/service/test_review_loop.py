"""The feedback loop end to end: the service extracts the demo letter, a reviewer in the browser
accepts one fact, corrects one span and adds one fact, the admin exports gold JSONL, `clinex
train` fine-tunes the encoder a few steps on that file, and `clinex extract --model` loads the
new model and extracts with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from ui_browser import (
    LETTER,
    ROOT,
    Server,
    chromium,
    chromium_path,
    current_fact_id,
    go_to_fact,
    new_page,
    open_from_queue,
    review_server,
    select_text,
    sign_in,
)

pytestmark = pytest.mark.slow  # a server, a browser and a training run: a few minutes on 2 cores

TEXT = LETTER.read_text(encoding="utf-8")
DOC = "letter-loop"
CORRECTED = "Chronic kidney disease stage 3a"
ADDED = "haemoptysis"
#: A tiny run: one epoch of short windows, one trainable layer (tests/encoder's smoke settings).
TRAIN_SETTINGS = {
    "epochs": 1,
    "batch_size": 4,
    "max_len": 64,
    "overlap": 8,
    "train_layers": 1,
    "threads": 1,
    "log_every": 1,
}


def _cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "clinex.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"clinex {args[0]} failed:\n{done.stderr[-3000:]}"
    return done


def _review_in_the_browser(server: Server, facts: list[dict[str, Any]]) -> dict[str, str]:
    """Accept the current (least confident) fact with 1, correct the CKD span with } (end
    right), add haemoptysis from a selection with 4; returns the three fact ids by action."""
    from playwright.sync_api import expect

    ckd = next(f for f in facts if f["text"] == "Chronic kidney disease")
    start = TEXT.index(ADDED)
    with chromium() as browser:
        page = new_page(browser)
        sign_in(page, server, "reviewer")
        open_from_queue(page, DOC)
        accepted = current_fact_id(page)
        page.keyboard.press("1")
        expect(page.locator(f'[data-fact-id="{accepted}"][data-testid="fact-item"]')).to_have_attribute(
            "data-status", "accepted"
        )
        go_to_fact(page, ckd["id"])
        page.keyboard.press("3")
        for _ in range(len(CORRECTED) - len(ckd["text"])):
            page.keyboard.press("}")
        expect(page.get_by_test_id("edit-text")).to_have_text(CORRECTED)
        page.keyboard.press("Enter")
        expect(page.locator(f'[data-fact-id="{ckd["id"]}"][data-testid="fact-item"]')).to_have_attribute(
            "data-status", "corrected"
        )
        assert select_text(page, start, start + len(ADDED)) == ADDED
        page.keyboard.press("4")
        expect(page.get_by_test_id("edit-text")).to_have_text(ADDED)
        page.get_by_test_id("edit-type").select_option("condition")
        page.get_by_test_id("edit-negated").check()
        page.keyboard.press("Enter")  # from the checkbox: Enter submits the form
        expect(page.get_by_test_id("edit-modal")).to_be_hidden()
        added = current_fact_id(page)
        expect(page.locator(f'[data-fact-id="{added}"][data-testid="fact-item"]')).to_have_attribute(
            "data-status", "added"
        )
        assert page.script_errors == []
    return {"accept": accepted, "correct": ckd["id"], "add": added}


def test_reviewed_facts_export_train_a_model_that_loads(tmp_path: Path) -> None:
    chromium_path()
    keys = {"reviewer": "reviewer", "admin": "admin"}
    with review_server(tmp_path, keys, review={"auto_accept_above": 0.85}) as server:
        server.submit([{"id": DOC, "text": TEXT}], "reviewer")
        facts = server.get(f"/documents/{DOC}", "reviewer").json()["facts"]
        ids = _review_in_the_browser(server, facts)
        answer = httpx.get(
            f"{server.url}/export", params={"format": "jsonl"}, headers=server.auth("admin"), timeout=60
        )
        assert answer.status_code == 200, answer.text
    gold = tmp_path / "reviewed.jsonl"
    gold.write_text(answer.text, encoding="utf-8")

    (record,) = [json.loads(line) for line in answer.text.splitlines() if line.strip()]
    by_fact = {
        f["fact"]: (f, e) for f, e in zip(record["meta"]["review"]["facts"], record["entities"], strict=True)
    }
    assert {by_fact[ids[action]][0]["status"] for action in ids} == {"accepted", "corrected", "added"}
    assert by_fact[ids["correct"]][1]["text"] == CORRECTED
    assert by_fact[ids["add"]][1]["text"] == ADDED and by_fact[ids["add"]][1]["assertion"]["negated"]
    assert all(f["decision"] is not None for f, _ in by_fact.values())  # (document, fact, decision) ids

    # The export as training data: the reviewed letter is both train_file and dev_file, and is
    # kept out of scoring (a model is never scored on its own training corrections).
    model = tmp_path / "model"
    overrides = [f"{k}={v}" for k, v in TRAIN_SETTINGS.items()]
    overrides += [f"train_file={gold}", f"dev_file={gold}", f"output_dir={model}"]
    _cli("train", "configs/encoder.yaml", *[arg for o in overrides for arg in ("--set", o)])
    metrics = json.loads((model / "metrics.json").read_text())
    assert metrics["train_letters"] >= 1 and metrics["steps"] >= 1
    assert metrics["dev_letters"] == 0, "the reviewed letter was scored as dev"

    # The new model loads and extracts (four steps learn little: loading it and running it is what
    # this checks; what it finds is grounded).
    note = tmp_path / "note.txt"
    note.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "extracted.jsonl"
    _cli(
        "extract",
        str(note),
        "-e",
        "encoder",
        "--model",
        str(model),
        "--calibration",
        "none",
        "--format",
        "jsonl",
        "-o",
        str(out),
        "--quiet",
    )
    (extracted,) = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    # The model that ran is the one just trained (its checksum), not the packaged one.
    assert extracted["meta"]["model"]["checksum"] == f"sha256:{metrics['sha256']}"
    assert Path(extracted["meta"]["model"]["path"]) == model
    for entity in extracted["entities"]:
        assert TEXT[entity["start"] : entity["end"]] == entity["text"]
