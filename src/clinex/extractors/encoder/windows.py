"""Overlapping token windows over a long note, so that no text is skipped.

The encoder sees at most ``max_len`` positions; a note is cut into windows of
``max_len - 2`` tokens (room for [CLS] and [SEP]) that overlap by ``overlap`` tokens. Each
token's prediction is taken from the window in which it sits farthest from an edge, where the
model has the most context on both sides.
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
    step = size - overlap
    starts = [*list(range(0, n_tokens - size, step)), n_tokens - size]
    windows = []
    for i, start in enumerate(starts):
        end = start + size
        # The boundary between two windows is the middle of their overlap.
        keep_start = 0 if i == 0 else (start + starts[i - 1] + size) // 2
        keep_end = n_tokens if i == len(starts) - 1 else (starts[i + 1] + end) // 2
        windows.append(Window(start, end, keep_start, keep_end))
    return windows
