from __future__ import annotations

import pytest

from clinex.core.errors import InputError
from clinex.core.types import Document, Entity
from clinex.review import Decision, apply_decision

NOTE = "Known asthma. Metformin 500 mg twice daily."


@pytest.fixture()
def doc() -> Document:
    return Document(
        id="n1",
        text=NOTE,
        entities=[
            Entity(type="condition", text="asthma", start=6, end=12, confidence=0.7),
            Entity(type="medication", text="Metformin", start=14, end=23, attributes={"dose": "500 mg"}),
        ],
    )


def test_reject_removes_the_fact_and_reports_it_before(doc: Document) -> None:
    new, before, after = apply_decision(doc, Decision(action="reject", reviewer="dr-a", index=0))
    assert [e.text for e in new.entities] == ["Metformin"] and before == doc.entities[0] and after is None
    assert len(doc.entities) == 2, "the original document is not changed"


def test_a_corrected_span_is_rechecked_against_the_note(doc: Document) -> None:
    fixed, _, after = apply_decision(
        doc,
        Decision(
            action="correct",
            reviewer="dr-a",
            index=1,
            changes={"attributes": {"dose": "500 mg", "frequency": "twice daily"}},
        ),
    )
    assert after is not None and after.attributes["frequency"] == "twice daily" and after.confidence == 1.0
    assert fixed.entities[1] == after and after.start == 14
    with pytest.raises(InputError, match="does not hold the fact's text") as error:
        apply_decision(doc, Decision(action="correct", reviewer="dr-a", index=0, changes={"start": 5}))
    assert "asthma" not in str(error.value), "no note text in the message"


def test_an_added_fact_must_be_grounded_and_fit_its_type(doc: Document) -> None:
    start = NOTE.index("twice daily")
    ok = {"type": "condition", "text": "Known asthma", "start": 0, "end": 12}
    new, before, after = apply_decision(doc, Decision(action="add", reviewer="dr-b", changes=ok))
    assert before is None and after is not None and new.entities[-1] == after
    with pytest.raises(InputError, match="has no attribute"):
        bad = {
            "type": "condition",
            "text": "twice daily",
            "start": start,
            "end": start + 11,
            "attributes": {"dose": "1"},
        }
        apply_decision(doc, Decision(action="add", reviewer="dr-b", changes=bad))


def test_bad_decisions_are_refused_before_anything_is_applied(doc: Document) -> None:
    with pytest.raises(ValueError, match="action"):
        Decision(action="delete", reviewer="x", index=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reviewer"):
        Decision(action="accept", reviewer=" ", index=0)
    with pytest.raises(ValueError, match="add takes no index"):
        Decision(action="add", reviewer="x", index=0)
    with pytest.raises(ValueError, match="unknown field"):
        Decision(action="correct", reviewer="x", index=0, changes={"colour": "red"})
    with pytest.raises(InputError, match="no fact 7"):
        apply_decision(doc, Decision(action="accept", reviewer="x", index=7))
