"""Low-rank adapters (LoRA) on the tagger's linear layers, for training only.

The adapter's parameters are named ``weight``/``bias``/``lora_A``/``lora_B``, so the stored
factors map onto a plain :class:`~clinex.extractors.encoder.model.Tagger` by name and are merged
into its weights at load time (:func:`~clinex.extractors.encoder.model.apply_weights`): the
inference package holds no LoRA code.
"""

from __future__ import annotations

import torch
from torch import nn

from clinex.extractors.encoder.model import Tagger


class LoRALinear(nn.Module):
    """A frozen linear layer plus a trainable low-rank update ``scale * B @ A``."""

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
