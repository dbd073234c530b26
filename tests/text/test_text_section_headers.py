from clinex.text.sections import find_sections

LETTER = (
    "Past medical history: Prior MI in 2015.\n"
    "History of presenting illness: Three days of fever.\n"
    "Investigations (03/11/2024): haemoglobin 13.2 g/dL.\n"
    "Family history: His mother had breast cancer.\n"
    "Plan: Repeat a chest X-ray in six weeks.\n"
    "Follow-up in clinic: two weeks.\n"
)


def _categories():
    return [(s.category, LETTER[s.start : s.body_start].strip()) for s in find_sections(LETTER)]


def test_letter_headers_missed_by_medspacy_defaults_are_recognised():
    found = _categories()
    assert ("history_of_present_illness", "History of presenting illness:") in found
    assert ("observation_and_plan", "Plan:") in found


def test_an_unknown_header_ends_the_section_before_it():
    sections = find_sections(LETTER)
    family = next(s for s in sections if s.category == "family_history")
    assert LETTER[family.body_start : family.end].strip() == "His mother had breast cancer."
    investigations = LETTER.index("Investigations")
    unknown = next(s for s in sections if s.start == investigations)
    assert unknown.category is None
    follow_up = LETTER.index("Follow-up in clinic")
    assert any(s.start == follow_up and s.category is None for s in sections)


def test_prose_with_a_colon_is_not_a_header():
    text = "Family history: the patient reported that his father, who smoked for many years, had: a stroke.\n"
    sections = find_sections(text)
    assert [s.category for s in sections] == ["family_history"]
    assert sections[0].end == len(text)


def test_a_header_with_text_on_its_line_covers_that_line_only():
    text = (
        "Family history: healthy parents.\n"
        "The girl has a white forelock.\n"
        "Clinical suspicion of piebaldism.\n"
    )
    family = [s for s in find_sections(text) if s.category == "family_history"]
    assert [text[s.body_start : s.end].strip() for s in family] == ["healthy parents."]
    assert all(s.end <= text.index("The girl") for s in family)


def test_a_header_alone_on_its_line_covers_the_lines_below():
    text = "Family history:\nMother had breast cancer.\nFather had a stroke.\n"
    (family,) = [s for s in find_sections(text) if s.category == "family_history"]
    assert text[family.body_start : family.end].strip() == "Mother had breast cancer.\nFather had a stroke."
