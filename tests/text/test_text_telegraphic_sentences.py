from clinex.text import split_sentences


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_a_lower_case_word_after_a_full_stop_starts_a_sentence_in_terse_text() -> None:
    assert _sentences("No CP. hx of HTN, DM2 on metformin.") == ["No CP.", "hx of HTN, DM2 on metformin."]
    assert _sentences("Lungs clear. abd soft. ext no edema") == ["Lungs clear.", "abd soft.", "ext no edema"]


def test_a_sentence_ends_on_a_route_or_frequency_but_not_inside_a_dotted_abbreviation() -> None:
    assert _sentences("metformin 500 mg PO bid. No SOB") == ["metformin 500 mg PO bid.", "No SOB"]
    assert _sentences("furosemide 40 mg IV. pt euvolemic") == ["furosemide 40 mg IV.", "pt euvolemic"]
    assert _sentences("paracetamol 1 g p.o. q.d. prn pain. no rash") == [
        "paracetamol 1 g p.o. q.d. prn pain.",
        "no rash",
    ]


def test_listed_abbreviations_and_units_before_a_capital_still_hold_a_sentence_together() -> None:
    assert _sentences("Seen approx. three wks ago by Dr. Smith") == [
        "Seen approx. three wks ago by Dr. Smith"
    ]
    assert _sentences("Temp 36.5 C. e.g. rest") == ["Temp 36.5 C. e.g. rest"]
    assert _sentences("aspirin 81 mg. Daily") == ["aspirin 81 mg. Daily"]
    assert _sentences("aspirin 81 mg. no bleeding") == ["aspirin 81 mg.", "no bleeding"]
