"""Which number format the tagger runs in on this CPU."""

from __future__ import annotations

from typing import Literal

import torch

Precision = Literal["auto", "fp32", "bf16", "int8"]
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "int8")


def resolve_precision(precision: Precision) -> Precision:
    """``precision`` with ``"auto"`` resolved: bf16 where this CPU runs it natively, else fp32."""
    if precision != "auto":
        return precision
    return "bf16" if native_bf16() else "fp32"


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX)."""
    # Not torch.ops.mkldnn._is_mkldnn_bf16_supported(): it is true on every AVX-512 CPU, also
    # those that emulate bfloat16 and run it slower than fp32.
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
