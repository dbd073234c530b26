"""Fine-tuning the encoder tagger: build, fit, score on dev, write.

Full fine-tuning (embeddings frozen by default, so the shipped delta stays small) or LoRA on
the attention and feed-forward projections; the heads are always trained. Seeded: the same
config on the same data gives the same weights. Writes the model, ``metrics.json``,
``curve.tsv`` (+ ``curve.png``) and ``MODEL_CARD.md`` into ``output_dir``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from clinex.core.errors import ConfigError
from clinex.core.types import Document
from clinex.extractors.encoder.inference import predict
from clinex.extractors.encoder.labels import IGNORE, SPAN_TYPES
from clinex.extractors.encoder.model import ModelConfig, Tagger, load_base_encoder, load_tokenizer
from clinex.train.config import Trainer, TrainResult
from clinex.train.encoder.card import write_card
from clinex.train.encoder.config import EncoderTrainConfig
from clinex.train.encoder.data import (
    CandidateFinder,
    TrainingWindow,
    gold_spans,
    keep_reviewed_out,
    masked_tokens,
    partial,
    read_letters,
    training_windows,
)
from clinex.train.encoder.export import save_model, shipped_tensors
from clinex.train.encoder.lora import add_lora
from clinex.train.paths import require_output

log = logging.getLogger("clinex")
#: The option that sets the peak rate of each optimiser group: the encoder (or adapters), the heads.
_GROUP_RATES = ("learning_rate", "head_learning_rate")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def rules_candidates() -> CandidateFinder:
    """The mentions the rules extractor's lexicons (ICD-10-CM, RxNorm, LOINC names and
    synonyms, procedures) find in a note: where the terminology offers a candidate."""
    from clinex.pipeline import load_extractor

    rules = load_extractor("rules")

    def find(text: str) -> list[tuple[int, int]]:
        return [(e.start, e.end) for e in rules.extract(text) if e.start is not None and e.end is not None]

    return find


def build_tagger(config: EncoderTrainConfig) -> Tagger:
    """A fresh tagger with the parameters ``config.method`` trains set trainable."""
    tagger = Tagger(load_base_encoder())
    if config.method == "lora":
        wrapped = add_lora(
            tagger,
            targets=config.lora_targets,
            r=config.lora_r,
            alpha=config.lora_alpha,
            dropout=config.lora_dropout,
        )
        if not wrapped:
            raise ConfigError(
                f"lora_targets {list(config.lora_targets)} name no linear layer of the encoder",
                hint="use names such as query, key, value, dense",
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
    require_output(Path(config.output_dir), what="output_dir", directory=True)
    torch.set_num_threads(config.threads)
    seed_everything(config.seed)
    started = time.perf_counter()
    train_docs = read_letters(
        Path(config.train_file), limit=config.max_train_letters or None, what="train_file"
    )
    dev_docs = (
        read_letters(Path(config.dev_file), limit=config.max_dev_letters or None, what="dev_file")
        if config.dev_file
        else []
    )
    if not config.score_reviewed:
        dev_docs, train_docs, moved = keep_reviewed_out(dev_docs, train_docs)
        if moved:
            log.info("%d reviewed letters of dev_file moved to training (score_reviewed is off)", moved)
    silver_docs = read_letters(Path(config.silver_file), what="silver_file") if config.silver_file else []
    tokenizer = load_tokenizer()
    offered = config.partial_labels == "candidates" and any(partial(d) for d in train_docs + silver_docs)
    finder = rules_candidates() if offered else None
    only_spans = config.partial_labels == "spans"
    windows = training_windows(
        train_docs,
        tokenizer,
        max_len=config.max_len,
        overlap=config.overlap,
        candidates=finder,
        only_spans=only_spans,
    )
    silver = training_windows(
        silver_docs,
        tokenizer,
        max_len=config.max_len,
        overlap=config.overlap,
        weight=config.silver_weight,
        candidates=finder,
        only_spans=only_spans,
    )
    windows += silver
    tagger = build_tagger(config)
    log.info(
        "training on %d letters + %d silver (%d windows, %d tokens without span loss)",
        len(train_docs),
        len(silver_docs),
        len(windows),
        masked_tokens(windows),
    )

    def score_dev(trained: Tagger) -> dict[str, float]:
        return score_spans(trained, tokenizer, dev_docs, config)

    curve, dev_scores = fit(tagger, windows, config, score=score_dev if dev_docs else None)
    metrics: dict[str, Any] = {
        "train_letters": len(train_docs),
        "silver_letters": len(silver_docs),
        "train_windows": len(windows),
        "silver_windows": len(silver),
        "masked_tokens": masked_tokens(windows),
        "steps": int(curve[-1]["step"]),
        "train_seconds": round(time.perf_counter() - started, 1),
        "dev_letters": len(dev_docs),
        "dev": dev_scores,
    }
    return _write(tagger, config, metrics, curve)


def fit(
    tagger: Tagger,
    windows: list[TrainingWindow],
    config: EncoderTrainConfig,
    *,
    score: Callable[[Tagger], dict[str, float]] | None = None,
) -> tuple[list[dict[str, float]], list[dict[str, Any]]]:
    """Train ``tagger`` in place on ``windows``; the training curve and ``score`` after each epoch.

    Raises ConfigError before the first step when a group's learning rate would be 0 at every step.
    """
    steps_per_epoch = (len(windows) + config.batch_size - 1) // config.batch_size
    total_steps = steps_per_epoch * config.epochs
    optimiser, schedule = _optimiser(tagger, config, total_steps=total_steps)
    _refuse_zero_learning_rate(schedule, total_steps)
    generator = torch.Generator().manual_seed(config.seed)
    curve: list[dict[str, float]] = []
    scores: list[dict[str, Any]] = []
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
            rate = float(schedule.get_last_lr()[0])  # the rate this step used, not the next one's
            schedule.step()
            step += 1
            running.append(loss.item())
            if step % config.log_every == 0 or first + config.batch_size >= len(order):
                curve.append(
                    {"step": step, "epoch": epoch + 1, "loss": sum(running) / len(running), "lr": rate}
                )
                log.info("step %d loss %.4f", step, curve[-1]["loss"])
                running = []
        if score is not None:
            tagger.eval()
            scores.append({"epoch": epoch + 1, **score(tagger)})
    return curve, scores


def warmup_then_linear(step: int, *, total_steps: int, warmup: int) -> float:
    """The factor of the peak learning rate at ``step``: linear warm-up, then linear decay to 0."""
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup))


def _optimiser(
    tagger: Tagger, config: EncoderTrainConfig, *, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    heads = [p for n, p in tagger.named_parameters() if p.requires_grad and "_head." in n]
    body = [p for n, p in tagger.named_parameters() if p.requires_grad and "_head." not in n]
    # The groups in the order of _GROUP_RATES.
    optimiser = torch.optim.AdamW(
        [{"params": body, "lr": config.learning_rate}, {"params": heads, "lr": config.head_learning_rate}],
        weight_decay=config.weight_decay,
    )
    warmup = max(1, int(total_steps * config.warmup_ratio))
    factor = functools.partial(warmup_then_linear, total_steps=total_steps, warmup=warmup)
    return optimiser, torch.optim.lr_scheduler.LambdaLR(optimiser, factor)


def _refuse_zero_learning_rate(schedule: torch.optim.lr_scheduler.LambdaLR, total_steps: int) -> None:
    """A parameter group whose rate is 0 at every step would be shipped untrained as if trained."""
    factors: list[Callable[[int], float]] = schedule.lr_lambdas
    for option, base, factor in zip(_GROUP_RATES, schedule.base_lrs, factors, strict=True):
        if not any(base * factor(step) > 0 for step in range(total_steps)):
            raise ConfigError(
                f"{option} gives a learning rate of 0 at every one of the {total_steps} training steps: "
                "those parameters would not be trained",
                hint=f"set {option} above 0 (--help-config shows its default)",
            )


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
    if all(w.weight == 1.0 for w in batch):  # the plain mean, as every run before weights existed
        loss = torch.nn.functional.cross_entropy(
            span_logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE
        )
    else:
        per_token = torch.nn.functional.cross_entropy(
            span_logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE, reduction="none"
        ).view(len(batch), width)
        weights = torch.tensor([w.weight for w in batch]).unsqueeze(1) * (labels != IGNORE)
        loss = (per_token * weights).sum() / weights.sum().clamp_min(1e-12)
    if flag_mask.sum() > 0:
        per_token = torch.nn.functional.binary_cross_entropy_with_logits(
            assertion_logits, flags, reduction="none"
        )
        loss = loss + assertion_weight * (per_token.mean(-1) * flag_mask).sum() / flag_mask.sum()
    return loss


def score_spans(
    tagger: Tagger, tokenizer: Any, documents: list[Document], config: EncoderTrainConfig
) -> dict[str, float]:
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
    write_card(out, metrics, curve)
    return TrainResult(out, checksum, metrics)


#: The ``encoder.v1`` entry of the trainers registry.
TRAINER = Trainer(config=EncoderTrainConfig, train=train_encoder)
