"""SNOMED → ICD-10-CM mapping of source conditions, and the coded distractor pools."""

from __future__ import annotations

import random

import pytest
import simple_icd_10_cm as icd

from clinex.synth import oncology
from clinex.synth.facts import Fact
from clinex.synth.icd_mapping import CURATED, IcdMapper, plain_name, semantic_tag
from clinex.synth.sampler import FAMILY, HYPOTHETICAL, NEGATABLE


def test_curated_and_pool_codes_are_billable_icd10cm_codes() -> None:
    codes = set(CURATED.values()) | {c.code for _, c in NEGATABLE + FAMILY + HYPOTHETICAL}
    codes |= {cancer.icd10 for cancer in oncology.CANCERS}
    assert [c for c in sorted(codes) if not icd.is_leaf(c)] == []


def test_pool_displays_are_the_icd10cm_descriptions() -> None:
    for _, code in NEGATABLE + FAMILY + HYPOTHETICAL:
        assert code.display == icd.get_description(code.code), code.code


@pytest.mark.parametrize(
    ("snomed", "display", "expected", "how"),
    [
        ("44054006", "Diabetes mellitus type 2 (disorder)", "E11.9", "curated"),
        ("307426000", "Acute infective cystitis (disorder)", "N30.00", "curated"),  # no ICD name fits
        ("10509002x", "Acute bronchitis (disorder)", "J20.9", "lookup"),  # not curated: found by its text
        ("1", "Gout (disorder)", "M10.9", "lookup"),
        ("2", "Loose dental filling (finding)", None, "unmapped"),
    ],
)
def test_conditions_map_by_table_then_by_display(
    snomed: str, display: str, expected: str | None, how: str
) -> None:
    mapper = IcdMapper()
    code = mapper.map(snomed, display)
    assert (code.code if code else None) == expected
    assert mapper.counts[how] == 1 and sum(mapper.counts.values()) == 1
    if code is not None:
        assert icd.is_leaf(code.code)  # never a 3-character category with children


def test_display_names_lose_their_semantic_tag() -> None:
    assert semantic_tag("Refugee (person)") == "person"
    assert plain_name("Essential hypertension (disorder)") == "essential hypertension"
    assert plain_name("Disease caused by SARS-CoV-2 (disorder)") == "disease caused by SARS-CoV-2"
    assert plain_name("Malignant neoplasm of colon, unspecified") == "malignant neoplasm of colon"
    assert plain_name("Unspecified asthma, uncomplicated") == "asthma, uncomplicated"


def test_every_cancer_gets_staging_and_cancer_free_patients_get_one_at_rate_one() -> None:
    rng = random.Random(0)
    cancer = Fact(type="condition", name="malignant neoplasm of breast")
    out = oncology.enrich([cancer], rng, rate=0.0)
    tumors = [f for f in out if f.type == "tumor"]
    assert len(tumors) == 1 and tumors[0].tumor is not None
    assert tumors[0].name in oncology.CANCERS[0].histologies  # breast histology
    plain = [Fact(type="condition", name="asthma")]
    assert [f.type for f in oncology.enrich(plain, rng, rate=0.0)] == ["condition"]
    enriched = oncology.enrich(plain, rng, rate=1.0)
    assert sorted(f.type for f in enriched) == ["condition", "condition", "tumor"]
    assert any(oncology.is_neoplasm(f) for f in enriched)
