from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from clinex.assertion.learned import AssertionModel
from clinex.core.errors import ConfigError, InputError
from clinex.train import load_training
from clinex.train.assertion.config import AssertionTrainConfig
from clinex.train.assertion.trainer import train_assertion

HEADER = "id\treport\tcondition\tsentence\tnegation\ttemporality\texperiencer\n"
CONDITIONS = ["fever", "cough", "rash", "edema", "asthma", "gout", "anemia", "angina", "ulcer", "stroke"]


def _negex(tmp_path: Path) -> Path:
    rows = []
    for i, c in enumerate(CONDITIONS):
        rows.append(f"{3 * i}\t \t{c}\tNo {c} was seen today.\tNegated\tRecent\tPatient")
        rows.append(f"{3 * i + 1}\t \t{c}\tRemote history of {c} in youth.\tAffirmed\tHistorical\tPatient")
        rows.append(f"{3 * i + 2}\t \t{c}\tShe presents with {c} today.\tAffirmed\tRecent\tPatient")
    path = tmp_path / "negex.tsv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def _letters(tmp_path: Path) -> Path:
    text = "Diagnoses:\n• Asthma\n\nNo fever.\n"
    flags = {
        "negated": False,
        "historical": False,
        "family": False,
        "uncertain": False,
        "hypothetical": False,
    }
    record = {
        "id": "l1",
        "text": text,
        "entities": [
            {"type": "condition", "text": "Asthma", "start": 13, "end": 19, "assertion": flags},
            {
                "type": "condition",
                "text": "fever",
                "start": 24,
                "end": 29,
                "assertion": flags | {"negated": True},
            },
        ],
    }
    path = tmp_path / "letters.jsonl"
    path.write_text(json.dumps(record) + "\n")
    return path


def test_training_learns_the_cues_cross_validates_and_is_deterministic(tmp_path: Path) -> None:
    config = AssertionTrainConfig(
        negex_file=str(_negex(tmp_path)),
        letters_file=str(_letters(tmp_path)),
        output=str(tmp_path / "a" / "model.json"),
        folds=3,
        min_count=1,
    )
    result = train_assertion(config)
    path = Path(config.output)
    assert result.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    model = AssertionModel.load(path)
    assert model.flags["negated"].weights["left1:no"] > 0
    assert model.flags["historical"].weights["left:history"] > 0
    assert model.flags["historical"].add_only and not model.flags["negated"].add_only
    cv = result.metrics["negex_cv"]["learned"]
    assert cv["negated"]["f"] == 1.0 and cv["historical"]["f"] == 1.0
    assert model.info["trained_on"] == {"negex_rows": 30, "letter_mentions": 2}
    first = path.read_bytes()
    train_assertion(config)
    assert path.read_bytes() == first


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("c=0", "c must be positive"),
        ("folds=1", "folds must be 0 or at least 2"),
        ("letters_file=''", "give"),
        ("max_letters=-1", "max_letters must not be negative, got -1"),
        ("min_count=0", "min_count must be at least 1, got 0"),
    ],
)
def test_bad_assertion_configs_name_the_problem(tmp_path: Path, override: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("task: assertion\nnegex_file: ''\n")
    overrides = [override] if "letters" in override else [override, "letters_file=x.jsonl"]
    with pytest.raises(ConfigError, match=message):
        load_training(path, overrides)


def test_unusable_paths_are_named_before_any_fitting(tmp_path: Path) -> None:
    good = {"negex_file": str(_negex(tmp_path)), "letters_file": str(_letters(tmp_path))}
    out = tmp_path / "out" / "model.json"
    with pytest.raises(InputError, match=r"eval_file .*nope\.jsonl: not found"):
        train_assertion(AssertionTrainConfig(**good, eval_file=str(tmp_path / "nope.jsonl"), output=str(out)))
    with pytest.raises(InputError, match=r"negex_file .*nope\.tsv: not found"):
        train_assertion(
            AssertionTrainConfig(**good | {"negex_file": str(tmp_path / "nope.tsv")}, output=str(out))
        )
    with pytest.raises(ConfigError, match=r"output .* is a directory"):
        train_assertion(AssertionTrainConfig(**good, output=str(tmp_path)))
    assert not out.parent.exists()
    (tmp_path / "header.tsv").write_text(HEADER)
    with pytest.raises(InputError, match="no row whose condition is found"):
        train_assertion(
            AssertionTrainConfig(**good | {"negex_file": str(tmp_path / "header.tsv")}, output=str(out))
        )
