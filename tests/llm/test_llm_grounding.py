from __future__ import annotations

import pytest

from clinex.text.grounding import ground

NOTE = "The patient takes Metformine 500  mg daily.\nNo chest pain. On atorvastatin 20 mg; chest pain on exertion."


def _found(needle: str, **options: object) -> tuple[str, str] | None:
    hit = ground(NOTE, needle, **options)  # type: ignore[arg-type]
    return None if hit is None else (NOTE[hit.start : hit.end], hit.alignment)


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("Metformine", ("Metformine", "exact")),
        ("metformine 500 mg", ("Metformine 500  mg", "exact")),  # case and whitespace differ
        ("metformin 500mg", ("Metformine 500  mg", "fuzzy")),  # spelling and spacing differ
        ("chest pian", ("chest pain", "fuzzy")),
        ("atorvastatn", ("atorvastatin", "fuzzy")),
    ],
)
def test_ground_finds_exact_then_insensitive_then_fuzzy(needle: str, expected: tuple[str, str]) -> None:
    assert _found(needle) == expected


@pytest.mark.parametrize("needle", ["statin", "pneumonia", "  ", "BPx", "chest pian"])
def test_ground_returns_none_rather_than_a_guess(needle: str) -> None:
    # "statin" sits inside "atorvastatin": a span never cuts a word; fuzzy can be switched off.
    assert _found(needle, fuzzy_threshold=None) is None


def test_ground_respects_start_and_end() -> None:
    first = ground(NOTE, "chest pain")
    assert first is not None
    second = ground(NOTE, "chest pain", start=first.end)
    assert second is not None and second.start > first.end and NOTE[second.start : second.end] == "chest pain"
    assert ground(NOTE, "chest pain", start=first.end, end=second.start + 5) is None


def test_ground_threshold_controls_fuzzy_hits() -> None:
    assert _found("atorvastatn", fuzzy_threshold=0.99) is None
    assert _found("atorvastatn", fuzzy_threshold=0.8) == ("atorvastatin", "fuzzy")


def test_every_hit_reproduces_the_note() -> None:
    for needle in ["metformine 500 mg", "chest pian", "20 mg", "On atorvastatin", "pain on exertion"]:
        hit = ground(NOTE, needle)
        assert hit is not None
        span = NOTE[hit.start : hit.end]
        assert span == span.strip() and span[0].isalnum()
