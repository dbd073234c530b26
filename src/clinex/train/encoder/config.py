"""The options of encoder fine-tuning (``task: encoder`` in a training config)."""

from __future__ import annotations

from dataclasses import dataclass

from clinex.core.config import option

METHODS = ("full", "lora")
#: How the text of a letter with incomplete labels (``meta.align.partial``: silver from
#: ``clinex align``) that no label covers is taught: ``candidates`` — as "nothing here" only
#: where the terminology offers no candidate mention, ignored by the loss where it does;
#: ``spans`` — not at all (the loss sees only the labelled spans); ``naive`` — all of it as
#: "nothing here", like a fully annotated letter.
PARTIAL_LABELS = ("candidates", "spans", "naive")


@dataclass(kw_only=True)
class EncoderTrainConfig:
    """Fine-tuning the MiniLM tagger on synthetic letters (``clinex train configs/encoder.yaml``)."""

    train_file: str = option("data/synth/train.jsonl", "JSONL letters to train on (from `clinex synth`)")
    silver_file: str = option(
        "",
        "silver JSONL from `clinex align` (real notes, only their coded facts labelled) trained beside train_file",
    )
    silver_weight: float = option(1.0, "weight of a silver letter's loss beside a train_file letter's")
    partial_labels: str = option(
        "candidates",
        "unlabelled text of partially labelled letters: 'candidates' (no loss where the terminology "
        "offers a mention), 'spans' (no loss anywhere but the labelled spans) or 'naive' (taught as "
        "nothing here)",
    )
    dev_file: str = option("", "JSONL letters scored after each epoch (empty: none)")
    output_dir: str = option(
        "runs/encoder",
        "where the model, metrics, curve and model card are written (the packaged model's folder "
        "only if you name it)",
    )
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
        ("query", "key", "value", "dense"), "lora: names of linear layers to adapt"
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
    score_reviewed: bool = option(
        False,
        "also score dev letters exported from review (meta.review); off: they are trained on "
        "instead, so a model is never scored on its own training corrections",
    )
    log_every: int = option(10, "steps between points of the training curve")
    seed: int = option(13, "seed of initialisation, shuffling and dropout")
    threads: int = option(2, "torch CPU threads")

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.partial_labels not in PARTIAL_LABELS:
            raise ValueError(
                f"partial_labels must be one of {', '.join(PARTIAL_LABELS)}, got {self.partial_labels!r}"
            )
        for name in ("epochs", "batch_size", "lora_r", "log_every", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in (
            "learning_rate",
            "head_learning_rate",
            "weight_decay",
            "assertion_weight",
            "silver_weight",
            "max_train_letters",
            "max_dev_letters",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if not self.train_file:
            raise ValueError("train_file is empty: give the JSONL letters to train on")
        if not self.output_dir:
            raise ValueError("output_dir is empty: give the directory to write the model to")
        if not 0 <= self.overlap < self.max_len - 2:
            raise ValueError(
                f"overlap must be in 0..max_len-3, got {self.overlap} with max_len {self.max_len}"
            )
        if not 1 <= self.train_layers <= 6:
            raise ValueError(f"train_layers must be in 1..6, got {self.train_layers}")
        if not 8 <= self.max_len <= 512:
            raise ValueError(f"max_len must be in 8..512 (MiniLM has 512 positions), got {self.max_len}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.lora_alpha <= 0:
            raise ValueError(f"lora_alpha must be positive, got {self.lora_alpha}")
        if not 0 <= self.lora_dropout < 1:
            raise ValueError(f"lora_dropout must be in [0, 1), got {self.lora_dropout}")
        if not self.lora_targets:
            raise ValueError("lora_targets is empty: name the linear layers to adapt, e.g. [query, value]")
