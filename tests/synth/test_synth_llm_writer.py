"""The LLM writer: prompting, grounding (exact, fuzzy), dropping and counting of facts not found.

The mechanics are checked with clinex.testing's ScriptedBackend standing in for a remote
OpenAI-compatible server (its answers must be known to test grounding); the real path runs
SmolLM2-135M through llama.cpp.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import random

import pytest

from clinex.core.types import Code
from clinex.synth.facts import Dose, Encounter, Fact, SampledFacts
from clinex.synth.writers.llm import LLMWriter, ground_facts
from clinex.testing import ScriptedBackend

ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def _facts() -> SampledFacts:
    day = dt.date(2024, 3, 9)
    facts = [
        Fact(type="condition", name="community-acquired pneumonia", code=Code(system=ICD, code="J18.9")),
        Fact(
            type="condition", name="pulmonary embolism", role="negated", code=Code(system=ICD, code="I26.99")
        ),
        Fact(type="condition", name="colon cancer", role="family", code=Code(system=ICD, code="C18.9")),
        Fact(
            type="medication", name="amoxicillin", dose=Dose(value=1000, unit="mg"), route="oral", per_day=3
        ),
        Fact(type="lab", name="hemoglobin", value=11.2, unit="g/dL", date=day),
        Fact(type="condition", name="fever", role="hypothetical", code=Code(system=ICD, code="R50.9")),
    ]
    return SampledFacts(
        letter_id="l1",
        patient_id="p1",
        sex="female",
        age=71,
        encounter=Encounter(id="e1", start=dt.date(2024, 3, 1), end=day, kind="IMP"),
        facts=facts,
    )


LETTER = (
    "Discharge summary. Ms. X was treated for comunity-acquired pneumonia. Pulmonary embolism was ruled out.\n"
    "Her mother had colon cancer. Discharge medication: amoxicillin 1000 mg p.o. three times daily.\n"
    "If fever recurs she should return. Amoxicillin was well tolerated."
)


def test_prompt_names_every_fact_and_its_role() -> None:
    server = ScriptedBackend(LETTER)
    LLMWriter(backend=server).write(_facts(), random.Random(0))
    prompt = server.calls[0][-1]["content"]
    for fact in _facts().facts:
        assert f'"{fact.name}"' in prompt
    assert "ruled out" in prompt and "family history" in prompt and "1000 mg oral three times daily" in prompt


def test_facts_are_grounded_exactly_or_fuzzily_and_missing_ones_dropped() -> None:
    letter = LLMWriter(backend=ScriptedBackend(LETTER)).write(_facts(), random.Random(0))
    assert letter.dropped == 1  # hemoglobin was not written
    found = {(e.text, e.alignment, tuple(e.assertion.names())) for e in letter.entities}
    assert ("comunity-acquired pneumonia", "fuzzy", ()) in found
    assert ("Pulmonary embolism", "exact", ("negated",)) in found
    assert ("colon cancer", "exact", ("family",)) in found
    assert ("fever", "exact", ("hypothetical",)) in found
    amoxicillin = [e for e in letter.entities if e.type == "medication"]
    assert [e.text for e in amoxicillin] == ["amoxicillin", "Amoxicillin"]  # every exact mention
    assert amoxicillin[0].attributes == {"dose": "1000 mg", "route": "p.o.", "frequency": "three times daily"}
    assert amoxicillin[1].attributes == {}  # nothing written after the second mention
    assert all(letter.text[e.start : e.end] == e.text for e in letter.entities)


def test_longer_terms_win_overlaps() -> None:
    text = "Known lung cancer. No other cancer."
    facts = [Fact(type="condition", name="cancer"), Fact(type="condition", name="lung cancer")]
    entities, dropped = ground_facts(text, facts)
    assert [(e.start, e.text) for e in entities] == [(6, "lung cancer"), (28, "cancer")]
    assert dropped == 0


@pytest.mark.llamacpp
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python not installed")
def test_a_real_small_model_writes_a_letter_whose_gold_is_grounded() -> None:
    writer = LLMWriter(
        backend="llamacpp", max_tokens=96, temperature=0.0, backend_options={"n_threads": 1, "n_ctx": 1024}
    )
    facts = _facts()
    letter = writer.write(facts, random.Random(0))
    assert letter.text.strip()
    assert all(letter.text[e.start : e.end] == e.text for e in letter.entities)
    # every fact is either grounded (at least one mention) or counted as dropped, never both
    matched = [f for f in facts.facts if any(e.type == f.type and e.code == f.code for e in letter.entities)]
    assert len(matched) + letter.dropped == len(facts.facts)
