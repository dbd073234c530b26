from clinex.text import find_sections, split_sentences, windows
from clinex.text.sections import section_at


def test_sentences_split_on_lines_and_sentence_ends_but_not_abbreviations() -> None:
    text = "Seen by Dr. Smith today. BP 120/80.\nNo fever! Temp 36.5 C. e.g. rest"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Seen by Dr. Smith today.",
        "BP 120/80.",
        "No fever!",
        "Temp 36.5 C. e.g. rest",
    ]


def test_sentence_spans_are_stripped_and_inside_the_text() -> None:
    text = "  First one.   Second one.  \n\n  third  "
    for start, end in split_sentences(text):
        assert text[start:end] == text[start:end].strip() != ""


def test_sections_use_medspacy_categories() -> None:
    text = "Past Medical History: hypertension.\nFamily History: mother with diabetes.\n"
    sections = find_sections(text)
    categories = [s.category for s in sections]
    assert "past_medical_history" in categories
    assert "family_history" in categories
    family = next(s for s in sections if s.category == "family_history")
    assert "mother" in text[family.body_start : family.end]
    at = section_at(sections, text.index("mother"))
    assert at is not None and at.category == "family_history"
    assert section_at(sections, len(text) + 5) is None


def test_windows_of_a_two_megabyte_note_tile_it_without_loss() -> None:
    line = "Patient has hypertension and takes metformin 500 mg twice daily.\n"
    text = line * (2_000_000 // len(line) + 1)
    chunks = [text[w.start : w.end] for w in windows(text, max_chars=100_000)]
    assert "".join(chunks) == text
    assert all(len(c) <= 100_000 for c in chunks)
    # cuts fall at line ends, so no sentence is split
    assert all(c.endswith("\n") for c in chunks)


def test_a_line_longer_than_a_window_is_cut_at_a_space() -> None:
    text = "word " * 100
    chunks = [text[w.start : w.end] for w in windows(text, max_chars=64)]
    assert "".join(chunks) == text
    assert all(c.endswith(" ") for c in chunks[:-1])
