"""Training on silver letters (`clinex align`: real notes where only the coded facts are
labelled): the partial-label objective leaves uncoded terminology mentions out of the loss,
silver letters carry their own loss weight, and a tiny run on a tiny silver file changes the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from clinex.core.errors import InputError
from clinex.core.serialize import entity_to_dict
from clinex.core.types import Document, Entity
from clinex.extractors.encoder.labels import IGNORE, LABEL_IDS
from clinex.extractors.encoder.model import WEIGHTS_FILE, Tagger, load_base_encoder, load_tokenizer
from clinex.train.encoder.config import EncoderTrainConfig
from clinex.train.encoder.data import masked_tokens, partial, training_windows
from clinex.train.encoder.trainer import _loss, rules_candidates, train_encoder

NOTE = "Seen for asthma. She also has essential hypertension and takes metformin daily."
CODED = Entity(type="condition", text="asthma", start=9, end=15, confidence=0.9)
SILVER_META = {"align": {"partial": True, "source": "codes.tsv"}}


def silver(meta: dict[str, object] | None = SILVER_META) -> Document:
    return Document(id="s1", text=NOTE, entities=[CODED], meta=dict(meta or {}))


def tokens_of(phrase: str) -> int:
    start = NOTE.index(phrase)
    encoding = load_tokenizer().encode(NOTE, add_special_tokens=False)
    return sum(1 for s, e in encoding.offsets if s < start + len(phrase) and e > start)


def test_uncoded_mentions_the_terminology_offers_get_no_loss_and_the_rest_is_taught_as_o() -> None:
    tokenizer = load_tokenizer()
    offered = rules_candidates()(NOTE)
    texts = {NOTE[s:e] for s, e in offered}
    assert {"asthma", "essential hypertension", "metformin"} <= texts, texts
    [window] = training_windows([silver()], tokenizer, max_len=128, overlap=8, candidates=rules_candidates())
    expected = tokens_of("essential hypertension") + tokens_of("metformin")
    assert masked_tokens([window]) == expected, "exactly the uncoded mentions' tokens are masked"
    labels = window.labels[1:-1]
    assert LABEL_IDS["B-condition"] in labels, "the coded mention is still taught"
    assert labels.count(LABEL_IDS["O"]) == len(labels) - expected - tokens_of("asthma")
    [naive] = training_windows([silver()], tokenizer, max_len=128, overlap=8)
    assert masked_tokens([naive]) == 0 and IGNORE not in naive.labels[1:-1]
    [spans] = training_windows([silver()], tokenizer, max_len=128, overlap=8, only_spans=True)
    assert masked_tokens([spans]) == len(labels) - tokens_of("asthma"), "only the coded span keeps its loss"


def test_a_fully_labelled_letter_is_never_masked() -> None:
    letter = silver(meta={})
    assert not partial(letter) and partial(silver())
    [window] = training_windows(
        [letter], load_tokenizer(), max_len=128, overlap=8, candidates=rules_candidates()
    )
    assert masked_tokens([window]) == 0


def test_a_silver_windows_weight_counts_in_the_loss() -> None:
    torch.manual_seed(0)
    tagger = Tagger(load_base_encoder()).eval()
    tokenizer = load_tokenizer()
    plain = training_windows([silver(meta={})], tokenizer, max_len=10, overlap=2)[:2]
    heavy = training_windows([silver(meta={})], tokenizer, max_len=10, overlap=2, weight=3.0)[:2]
    with torch.no_grad():
        a, b = _loss(tagger, [plain[0]], 0.0), _loss(tagger, [plain[1]], 0.0)
        mixed = _loss(tagger, [plain[0], heavy[1]], 0.0)
    n_a = sum(label != IGNORE for label in plain[0].labels)
    n_b = sum(label != IGNORE for label in plain[1].labels)
    assert mixed.item() == pytest.approx((a.item() * n_a + 3 * b.item() * n_b) / (n_a + 3 * n_b), rel=1e-4)


def test_an_unknown_partial_label_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="partial_labels"):
        EncoderTrainConfig(partial_labels="mask-all")
    with pytest.raises(ValueError, match="silver_weight"):
        EncoderTrainConfig(silver_weight=-1)


def test_training_on_a_tiny_silver_file_changes_the_model(letters_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "silver.jsonl"
    record = {"id": "s1", "text": NOTE, "entities": [entity_to_dict(CODED)], "meta": SILVER_META}
    path.write_text(json.dumps(record) + "\n")
    settings = {"epochs": 1, "batch_size": 4, "max_len": 48, "overlap": 8, "threads": 1, "log_every": 1}
    base = train_encoder(
        EncoderTrainConfig(train_file=str(letters_file), output_dir=str(tmp_path / "base"), **settings)  # type: ignore[arg-type]
    )
    with_silver = train_encoder(
        EncoderTrainConfig(
            train_file=str(letters_file),
            silver_file=str(path),
            silver_weight=2.0,
            output_dir=str(tmp_path / "silver"),
            **settings,  # type: ignore[arg-type]
        )
    )
    assert with_silver.metrics["silver_letters"] == 1 and base.metrics["silver_letters"] == 0
    assert with_silver.metrics["masked_tokens"] > 0 and base.metrics["masked_tokens"] == 0
    before = load_file(str(tmp_path / "base" / WEIGHTS_FILE))
    after = load_file(str(tmp_path / "silver" / WEIGHTS_FILE))
    assert any(not torch.equal(before[name], after[name]) for name in before), "silver moved no weight"
    with pytest.raises(InputError, match="silver_file"):
        train_encoder(
            EncoderTrainConfig(
                train_file=str(letters_file),
                silver_file=str(tmp_path / "none.jsonl"),
                output_dir=str(tmp_path / "x"),
                **settings,  # type: ignore[arg-type]
            )
        )
