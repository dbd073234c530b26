"""Training a tiny tagger for a few steps: parameters move, seeds reproduce, files are written."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from clinex.core.errors import InputError, ModelError
from clinex.extractors.encoder import EncoderExtractor
from clinex.extractors.encoder.model import WEIGHTS_FILE, Tagger, load_base_encoder, load_model
from clinex.train.encoder import EncoderTrainConfig, build_tagger, train_encoder


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


def test_full_training_moves_encoder_and_heads_and_writes_its_files(trained: Path) -> None:
    base = load_base_encoder().state_dict()
    tensors = load_file(str(trained / WEIGHTS_FILE))
    layer = "encoder.encoder.layer.5.output.dense.weight"
    assert not torch.allclose(tensors[layer].float(), base["encoder.layer.5.output.dense.weight"], atol=1e-4)
    assert "span_head.weight" in tensors and "assertion_head.weight" in tensors
    assert not any(k.startswith("encoder.embeddings.word") for k in tensors)  # frozen, so not shipped
    for name in ("metrics.json", "curve.tsv", "MODEL_CARD.md", "config.json", "weights.safetensors.sha256"):
        assert (trained / name).is_file(), name
    assert len((trained / "curve.tsv").read_text().splitlines()) > 2


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


def test_extractor_on_a_trained_model_returns_grounded_entities(trained: Path) -> None:
    text = "Clinic letter.\nNo fever. Metformin 500 mg oral twice daily."
    entities = EncoderExtractor(model=trained).extract(text)
    assert all(e.is_grounded_in(text) for e in entities)


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


def test_bad_training_data_names_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"id": "a", "text": "Asthma.", "entities": []}\n{"id": "b"}\n')
    with pytest.raises(InputError, match=r"bad.jsonl, line 2"):
        train_encoder(_config(data, tmp_path / "out"))
