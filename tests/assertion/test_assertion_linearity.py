"""Preprocessing and assertion work grow linearly with the note's length (counted, never timed).

On a note with a section header every few lines, each sentence once blanked every header of the
note and each unknown ``Header:`` line was checked against every known header; each piece of a
long note scanned every mention. Ten times the note must cost about ten times the work, not a
hundred.
"""

from __future__ import annotations

from clinex.assertion.assertor import assert_entities
from clinex.core.types import Entity
from clinex.text.structure import prepare
from workload import clinex_lines

SENTENCE = (
    "Metformin 1000 mg orally twice daily for type 2 diabetes; HbA1c 8.4 % on 03/11/2024. No chest pain.\n"
)
#: Two sentences under each header; "Ward round:" is a header no section rule knows.
HEADERS = ("Medications:", "Past medical history:", "Family history:", "Ward round:", "Plan:")
MENTIONS = (
    ("medication", "Metformin"),
    ("condition", "type 2 diabetes"),
    ("lab", "HbA1c"),
    ("condition", "chest pain"),
)
#: Growth of the counted work allowed for ten times the note (linear: 10).
MAX_GROWTH = 12
#: Pieces of about three lines, so that a short test note has as many pieces as a long note.
PIECE_CHARS = 300


def _note(repeats: int) -> tuple[str, list[Entity], list[str]]:
    """The note, its mentions and the header each sits under."""
    entities, headers = [], []
    offset = 0
    for header in HEADERS * repeats:
        offset += len(header) + 1
        for _ in range(2):
            for kind, words in MENTIONS:
                start = offset + SENTENCE.index(words)
                entities.append(Entity(type=kind, text=words, start=start, end=start + len(words)))  # type: ignore[arg-type]
                headers.append(header)
            offset += len(SENTENCE)
    return "".join(f"{header}\n{SENTENCE}{SENTENCE}" for header in HEADERS) * repeats, entities, headers


def test_preprocessing_work_grows_linearly() -> None:
    small, large = _note(3)[0], _note(30)[0]
    prepare(small)  # loads the section rules
    work = clinex_lines(lambda: prepare(small)), clinex_lines(lambda: prepare(large))
    assert 0 < work[1] <= MAX_GROWTH * work[0], work


def test_assertion_work_grows_linearly_over_many_pieces() -> None:
    def work(repeats: int) -> int:
        text, entities, _ = _note(repeats)
        structure = prepare(text, max_chars=PIECE_CHARS)
        return clinex_lines(lambda: assert_entities(text, entities, structure=structure))

    work(1)  # loads the ConText rules and the learned model
    small, large = work(3), work(30)
    assert 0 < large <= MAX_GROWTH * small, (small, large)


def test_each_mention_gets_its_own_flags_in_every_piece_of_a_long_note() -> None:
    text, entities, headers = _note(30)
    asserted = assert_entities(text, entities, structure=prepare(text, max_chars=PIECE_CHARS))
    assert [e.start for e in asserted] == [e.start for e in entities]
    assert [e.assertion.negated for e in asserted] == [e.text == "chest pain" for e in asserted]
    assert all(h == "Family history:" for e, h in zip(asserted, headers, strict=True) if e.assertion.family)


def test_a_section_carries_over_into_the_next_piece() -> None:
    text, entities, headers = _note(30)
    asserted = assert_entities(text, entities, structure=prepare(text, max_chars=PIECE_CHARS))
    assert [e.assertion.family for e in asserted] == [h == "Family history:" for h in headers]
