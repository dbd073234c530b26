"""Writing a trained tagger in its shipped form: only what training changed, plus a checksum.

The files are those :func:`~clinex.extractors.encoder.model.load_model` reads: the trainable
tensors (fp16, the small heads fp32) in one safetensors file, ``config.json`` and the sha256.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from clinex.extractors.encoder.model import (
    CHECKSUM_FILE,
    CONFIG_FILE,
    WEIGHTS_FILE,
    ModelConfig,
    Tagger,
    sha256_of,
)


def shipped_tensors(tagger: Tagger) -> dict[str, torch.Tensor]:
    """The tensors to ship: every trainable parameter, in fp16 except the small heads."""
    return {
        name: param.detach().float() if "_head." in name else param.detach().half()
        for name, param in tagger.named_parameters()
        if param.requires_grad
    }


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
