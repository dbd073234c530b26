from __future__ import annotations

from pathlib import Path

import pytest

from clinex.extractors.encoder.coding import Coder
from clinex.terminology._index import IndexedTerminology
from clinex.terminology.base import Concept

ICD = "http://hl7.org/fhir/sid/icd-10-cm"


@pytest.fixture()
def small_icd() -> IndexedTerminology:
    concepts = [
        Concept("I10", "Essential (primary) hypertension"),
        Concept("E11.9", "Type 2 diabetes mellitus without complications"),
        Concept("J45.909", "Unspecified asthma, uncomplicated"),
        Concept("S52.501A", "Unspecified fracture of the lower end of right radius"),
    ]
    return IndexedTerminology(name="icd10cm-test", system=ICD, concepts=concepts)


def test_exact_first_then_embedding_retrieval_with_a_cached_index(
    small_icd: IndexedTerminology, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINEX_CACHE", str(tmp_path))
    coder = Coder(small_icd, embedding=True)
    exact, diabetes, asthma = coder.code(["essential (primary) hypertension", "diabetes type 2", "asthma"])
    assert exact is not None and exact[0].code == "I10" and exact[1] == 1.0
    assert diabetes is not None and diabetes[0].code == "E11.9" and 0.55 <= diabetes[1] < 1.0
    assert asthma is not None and asthma[0].code == "J45.909" and asthma[0].system == ICD
    cached = list(tmp_path.glob("icd10cm-test-*.npy"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    again = Coder(small_icd, embedding=True).code(["diabetes type 2"])[0]
    assert again is not None and again[0].code == "E11.9"
    assert cached[0].stat().st_mtime_ns == stamp  # read back, not rebuilt


def test_without_embedding_only_lookup_codes(small_icd: IndexedTerminology) -> None:
    assert Coder(small_icd).code(["diabetes type 2"]) == [None]
