import clinex

LETTER = (
    "Summary:\nThe woman was admitted on 25.05.23. Family history: her paternal grandfather had asthma. \n\n"
    "Medication:\nHydrocortisone 10 mg p.o. bid\n"
)


def test_a_family_history_section_ends_at_the_next_header_line():
    found = {e.text: e for e in clinex.extract(LETTER, extractor="rules").entities}
    assert found["asthma"].assertion.family
    assert not found["Hydrocortisone"].assertion.family
