from __future__ import annotations

import itertools

import pytest

from clinex.extractors.encoder.windows import make_windows

SIZE = 254  # max_len 256 less [CLS] and [SEP]


@pytest.mark.parametrize("n_tokens", [0, 1, 10, 254, 255, 444, 550, 700, 1001, 5000])
def test_windows_own_every_token_exactly_once(n_tokens: int) -> None:
    windows = make_windows(n_tokens, max_len=256, overlap=64)
    owned = [i for w in windows for i in range(w.keep_start, w.keep_end)]
    assert owned == list(range(n_tokens))
    assert windows[0].start == 0 and windows[-1].end == n_tokens
    for w in windows:
        assert 0 <= w.start <= w.keep_start <= w.keep_end <= w.end and w.end - w.start <= SIZE
    if n_tokens > SIZE:
        assert all(a.end - b.start >= 64 for a, b in itertools.pairwise(windows))


@pytest.mark.parametrize("n_tokens", [255, 300, 444, 550, 700, 1001, 5000])
def test_windows_are_the_fewest_possible_and_of_one_length(n_tokens: int) -> None:
    windows = make_windows(n_tokens, max_len=256, overlap=64)
    # k windows of SIZE tokens overlapping by 64 cover k * SIZE - (k - 1) * 64 tokens.
    fewest = next(k for k in itertools.count(1) if k * SIZE - (k - 1) * 64 >= n_tokens)
    assert len(windows) == fewest
    lengths = {w.end - w.start for w in windows}
    assert len(lengths) == 1
    # No longer than needed: one token less and the overlaps could not all be 64.
    length = lengths.pop()
    assert fewest * (length - 1) - (fewest - 1) * 64 < n_tokens


def test_a_note_just_over_one_window_gets_two_short_windows() -> None:
    first, second = make_windows(255, max_len=256, overlap=64)
    assert (first.start, first.end, second.start, second.end) == (0, 160, 95, 255)
    assert (first.keep_end, second.keep_start) == (127, 127)


def test_windows_without_overlap_tile_the_note() -> None:
    windows = make_windows(600, max_len=202, overlap=0)
    assert [(w.start, w.end) for w in windows] == [(0, 200), (200, 400), (400, 600)]
    assert all((w.keep_start, w.keep_end) == (w.start, w.end) for w in windows)


def test_windows_reject_impossible_sizes() -> None:
    with pytest.raises(ValueError, match="overlap"):
        make_windows(10, max_len=10, overlap=8)
