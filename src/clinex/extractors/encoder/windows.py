"""Overlapping token windows over a long note, so that no text is skipped.

The encoder sees at most ``max_len`` positions, so a longer note is cut into windows of at most
``max_len - 2`` tokens (room for [CLS] and [SEP]) that overlap by at least ``overlap`` tokens:
the fewest such windows, all of one length and evenly spread (windows of the full length would
overlap more than needed, which only adds tokens to compute). Each token's prediction is taken
from the window in which it sits farthest from an edge, where the model has the most context on
both sides.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Window:
    """Tokens ``[start, end)`` of the note, and the tokens ``[keep_start, keep_end)`` it owns."""

    start: int
    end: int
    keep_start: int
    keep_end: int


def make_windows(n_tokens: int, *, max_len: int, overlap: int) -> list[Window]:
    """Windows covering ``n_tokens`` tokens; every token is owned by exactly one window."""
    size = max_len - 2
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError(f"need max_len > 2 and 0 <= overlap < max_len - 2 (got {max_len}, {overlap})")
    if n_tokens <= size:
        return [Window(0, n_tokens, 0, n_tokens)]
    count = 1 + _ceil_div(n_tokens - size, size - overlap)
    # The shortest length at which `count` windows still overlap by `overlap`; it is at most
    # `size` because `count` windows of `size` tokens do.
    length = _ceil_div(n_tokens + (count - 1) * overlap, count)
    # Steps differ by at most one token, and none is longer than `length - overlap`.
    starts = [i * (n_tokens - length) // (count - 1) for i in range(count)]
    windows = []
    for i, start in enumerate(starts):
        end = start + length
        # The boundary between two windows is the middle of their overlap.
        keep_start = 0 if i == 0 else (start + starts[i - 1] + length) // 2
        keep_end = n_tokens if i == count - 1 else (starts[i + 1] + end) // 2
        windows.append(Window(start, end, keep_start, keep_end))
    return windows


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)
