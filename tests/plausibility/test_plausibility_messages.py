"""A finding's message names the entity's own normalised values and codes, never other words of
the note (the note's people, places and prose stay out of what is reported about it)."""

from __future__ import annotations

import re
from datetime import date

from plausibility_notes import document, mention

from clinex.core.types import Assertion, Document, Entity
from clinex.plausibility import CHECKS, run_checks
from clinex.plausibility.doses import dose_table

#: Every word the messages' own wording uses (besides values, codes and names from terminologies).
WORDING = frozenset(
    re.findall(
        r"\S+",
        """dose of is above below the plausible maximum minimum single any route unit does not fit loinc
        a result reported in or date later than note check earlier patient's birth condition procedure
        medication icd cm rxnorm uncoded negated and affirmed same mentions at started stopped
        mass concentration substance volume oral intravenous""",
    )
)
# A note that repeats its people, places and prose in every sentence with a finding.
NOTE = (
    "Seen by Dr Quillfeather at Larkspur ward. Mrs Ottoline Brackenbury has no evidence of pneumonia.\n"
    "Mrs Ottoline Brackenbury at Larkspur ward: pneumonia confirmed, Dr Quillfeather aware.\n"
    "Mrs Ottoline Brackenbury started Metformin 5000 mg orally at Larkspur ward.\n"
    "Mrs Ottoline Brackenbury stopped metformin at Larkspur ward, Dr Quillfeather aware.\n"
    "Mrs Ottoline Brackenbury at Larkspur ward had Potassium 4.1 mg, Dr Quillfeather aware.\n"
    "Mrs Ottoline Brackenbury at Larkspur ward had an appendectomy on 2031-04-01.\n"
    "Mrs Ottoline Brackenbury at Larkspur ward had a tonsillectomy on 1931-04-01.\n"
)
SENTINELS = {"quillfeather", "larkspur", "ottoline", "brackenbury", "ward", "seen", "aware", "evidence"}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def letter() -> Document:
    entities = [
        mention(NOTE, "pneumonia", "condition", code="J18.9", assertion=Assertion(negated=True)),
        mention(NOTE, "pneumonia", "condition", nth=1, code="J18.9"),
        mention(NOTE, "Metformin", "medication", code="6809", dose="5000 mg", route="oral"),
        mention(NOTE, "metformin", "medication", code="6809"),
        mention(NOTE, "Potassium", "lab", code="2823-3", value="4.1", unit="mg"),
        mention(NOTE, "appendectomy", "procedure", date="2031-04-01"),
        mention(NOTE, "tonsillectomy", "procedure", date="1931-04-01"),
    ]
    return document(NOTE, *entities, patient={"resourceType": "Patient", "birthDate": "1950-01-01"})


def allowed(entity: Entity) -> set[str]:
    """The entity's own normalised values: attributes, code and display, the drug it names."""
    own = [entity.type, *entity.attributes.values()]
    if entity.code is not None:
        own += [entity.code.code, entity.code.display or ""]
    ranges = dose_table().ranges_of(entity) if entity.type == "medication" else None
    own += [r.drug for r in (ranges or {}).values()]
    return words(" ".join(own))


def test_every_check_fires_on_the_letter() -> None:
    found = {f.check for f in run_checks(letter(), today=date(2024, 1, 1))}
    assert found == set(CHECKS)


def test_messages_hold_no_word_of_the_note_but_the_entity_s_values() -> None:
    doc = letter()
    for finding in run_checks(doc, today=date(2024, 1, 1)):
        assert finding.entity is not None
        leaked = (words(finding.message) & words(NOTE)) - WORDING - allowed(doc.entities[finding.entity])
        assert not leaked, (finding.check, leaked)
        assert not words(finding.message) & SENTINELS
