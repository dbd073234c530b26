"""Training a tiny tagger for a few steps: parameters move, seeds reproduce, files are written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from clinex.core.errors import ConfigError, InputError, ModelError
from clinex.extractors.encoder import EncoderExtractor
from clinex.extractors.encoder.model import (
    WEIGHTS_FILE,
    Tagger,
    load_base_encoder,
    load_model,
    load_tokenizer,
)
from clinex.train.encoder.config import EncoderTrainConfig
from clinex.train.encoder.data import read_letters, training_windows
from clinex.train.encoder.export import shipped_tensors
from clinex.train.encoder.trainer import build_tagger, fit, seed_everything, train_encoder


def _config(letters: Path, out: Path, **changes: object) -> EncoderTrainConfig:
    settings: dict[str, object] = {
        "train_file": str(letters),
        "dev_file": str(letters),
        "output_dir": str(out),
        "epochs": 1,
        "batch_size": 4,
        "max_len": 48,
        "overlap": 8,
        "threads": 1,
        "log_every": 1,
        "max_dev_letters": 2,
    }
    settings.update(changes)
    return EncoderTrainConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained(letters_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    train_encoder(_config(letters_file, out))
    return out


@pytest.mark.parametrize(
    "changes",
    [{"method": "full", "train_layers": 4}, {"method": "lora", "lora_r": 4, "learning_rate": 1e-2}],
    ids=["full", "lora"],
)
def test_fitting_changes_every_trainable_parameter_and_no_frozen_one(
    letters_file: Path, tmp_path: Path, changes: dict[str, object]
) -> None:
    config = _config(letters_file, tmp_path, **changes)
    seed_everything(config.seed)
    windows = training_windows(
        read_letters(letters_file), load_tokenizer(), max_len=config.max_len, overlap=config.overlap
    )
    tagger = build_tagger(config)
    before = {n: p.detach().clone() for n, p in tagger.named_parameters()}
    fit(tagger, windows, config)
    after = dict(tagger.named_parameters())
    trainable = {n for n, p in after.items() if p.requires_grad}
    assert trainable and trainable != set(after)  # something is frozen in both methods
    assert [n for n in trainable if torch.equal(after[n], before[n])] == []
    assert [n for n in set(after) - trainable if not torch.equal(after[n], before[n])] == []


def test_full_training_ships_moved_fp16_tensors_and_writes_its_files(trained: Path) -> None:
    base = {f"encoder.{k}": v for k, v in load_base_encoder().state_dict().items()}
    tensors = load_file(str(trained / WEIGHTS_FILE))
    encoder = [k for k in tensors if k.startswith("encoder.")]
    assert encoder and all(tensors[k].dtype == torch.float16 for k in encoder)
    # Exact: an untrained tensor stored in fp16 is exactly the base's fp16 rounding.
    assert [k for k in encoder if torch.equal(tensors[k], base[k].half())] == []
    assert "span_head.weight" in tensors and "assertion_head.weight" in tensors
    assert not any(k.startswith("encoder.embeddings.word") for k in tensors)  # frozen, so not shipped
    for name in ("metrics.json", "curve.tsv", "MODEL_CARD.md", "config.json", "weights.safetensors.sha256"):
        assert (trained / name).is_file(), name
    curve = (trained / "curve.tsv").read_text().splitlines()[1:]
    assert len(curve) > 1
    assert all(float(line.split("\t")[3]) > 0 for line in curve)  # the rate each step used, never 0


def test_an_untrained_tagger_ships_the_bases_fp16_rounding(letters_file: Path, tmp_path: Path) -> None:
    """The control of the exact comparison above: without training it finds no difference."""
    base = {f"encoder.{k}": v for k, v in load_base_encoder().state_dict().items()}
    tensors = shipped_tensors(build_tagger(_config(letters_file, tmp_path)))
    encoder = [k for k in tensors if k.startswith("encoder.")]
    assert encoder and all(torch.equal(tensors[k], base[k].half()) for k in encoder)


def test_same_seed_same_weights(letters_file: Path, trained: Path, tmp_path: Path) -> None:
    train_encoder(_config(letters_file, tmp_path))
    again, first = load_file(str(tmp_path / WEIGHTS_FILE)), load_file(str(trained / WEIGHTS_FILE))
    assert all(torch.equal(again[k], first[k]) for k in first)


def test_lora_trains_only_adapters_and_heads_and_merges_at_load(letters_file: Path, tmp_path: Path) -> None:
    config = _config(letters_file, tmp_path, method="lora", lora_r=4, learning_rate=1e-2)
    tagger = build_tagger(config)
    trainable = {n for n, p in tagger.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or "_head." in n for n in trainable)
    train_encoder(config)
    tensors = load_file(str(tmp_path / WEIGHTS_FILE))
    assert any(k.endswith(".lora_B") and tensors[k].abs().sum() > 0 for k in tensors)
    merged, _, _ = load_model(tmp_path)
    plain = Tagger(load_base_encoder())
    key = "encoder.encoder.layer.0.attention.self.query.weight"
    assert not torch.allclose(merged.state_dict()[key], plain.state_dict()[key])


def test_lora_targets_that_match_no_layer_are_refused(letters_file: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"lora_targets \['querry'\] name no linear layer"):
        build_tagger(_config(letters_file, tmp_path, method="lora", lora_targets=("querry",)))


def test_extractor_on_a_trained_model_returns_grounded_entities(trained: Path) -> None:
    from clinex.extractors.encoder.inference import PredictedSpan
    from clinex.testing import assert_grounded

    text = "Clinic letter.\nNo fever. Metformin 500 mg oral twice daily."
    extractor = EncoderExtractor(model=trained)
    # A tiny model may tag nothing, so the tidying of its spans is checked on given tags: sub-word
    # pieces ("Metfor", "fev") become whole, grounded words.
    tags = [
        PredictedSpan("medication", text.index("Metformin"), text.index("Metformin") + 6, 0.9, {}),
        PredictedSpan("condition", text.index("fever") + 1, text.index("fever") + 4, 0.8, {}),
        PredictedSpan("dose", text.index("500"), text.index("500") + 3, 0.9, {}),
    ]
    entities = extractor._entities(text, tags)
    assert_grounded(text, entities, min_count=2)
    assert {(e.type, e.text) for e in entities} == {("medication", "Metformin"), ("condition", "fever")}
    assert next(e for e in entities if e.type == "medication").attributes == {"dose": "500 mg"}
    assert_grounded(text, extractor.extract(text), min_count=0)


def test_corrupt_or_missing_model_files_name_the_file_and_the_fix(trained: Path, tmp_path: Path) -> None:
    for name in ("config.json", "weights.safetensors.sha256", WEIGHTS_FILE):
        (tmp_path / name).write_bytes((trained / name).read_bytes())
    weights = tmp_path / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="corrupt") as info:
        EncoderExtractor(model=tmp_path)
    assert str(weights) in str(info.value) and "clinex train" in str(info.value)
    weights.unlink()
    with pytest.raises(ModelError, match="missing"):
        load_model(tmp_path)
    with pytest.raises(ModelError, match=r"model directory not found: .*typo"):
        load_model(tmp_path / "typo")


@pytest.mark.parametrize("option", ["learning_rate", "head_learning_rate"])
def test_a_run_at_learning_rate_0_is_refused_before_training(
    letters_file: Path, tmp_path: Path, option: str
) -> None:
    from typer.testing import CliRunner

    from clinex.cli.app import app

    config = tmp_path / "c.yaml"
    config.write_text(f"train_file: {letters_file}\noutput_dir: {tmp_path / 'out'}\nepochs: 1\n")
    result = CliRunner().invoke(app, ["train", str(config), "--set", f"{option}=0"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{option} gives a learning rate of 0 at every one of the" in result.output
    assert not (tmp_path / "out").exists()


def _missing(folder: Path) -> Path:
    return folder / "missing.jsonl"


def _folder(folder: Path) -> Path:
    return folder


def _empty(folder: Path) -> Path:
    path = folder / "empty.jsonl"
    path.write_text("\n")
    return path


def _notes_without_gold(folder: Path) -> Path:
    path = folder / "notes.jsonl"
    path.write_text('{"id": "a", "text": "Asthma."}\n{"id": "b", "text": "Fever."}\n')
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_missing, r"train_file .*missing\.jsonl: not found"),
        (_folder, "is a directory, not a file"),
        (_empty, "holds no letters"),
        (_notes_without_gold, "none of its 2 letters has a gold entity"),
    ],
    ids=["missing", "folder", "empty", "notes-without-gold"],
)
def test_unusable_training_data_is_named_before_training(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        train_encoder(_config(make(tmp_path), tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_a_missing_dev_file_and_an_output_dir_that_is_a_file_are_named_before_training(
    letters_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match=r"dev_file .*nope\.jsonl: not found"):
        train_encoder(_config(letters_file, tmp_path / "out", dev_file=str(tmp_path / "nope.jsonl")))
    assert not (tmp_path / "out").exists()
    taken = tmp_path / "taken"
    taken.write_text("")
    with pytest.raises(ConfigError, match=r"output_dir .*taken is a file"):
        train_encoder(_config(letters_file, taken))


def test_bad_training_data_names_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"id": "a", "text": "Asthma.", "entities": []}\n{"id": "b"}\n')
    with pytest.raises(InputError, match=r"bad.jsonl, line 2"):
        train_encoder(_config(data, tmp_path / "out"))
