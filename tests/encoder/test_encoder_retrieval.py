"""The encoder's MiniLM retrieval: a Retriever the normaliser asks where lookup finds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinex.core.systems import ICD10CM as ICD
from clinex.core.types import Entity
from clinex.extractors.encoder.retrieval import EmbeddingIndex, SentenceEmbedder
from clinex.terminology import load
from clinex.terminology._index import IndexedTerminology
from clinex.terminology.base import Concept
from clinex.terminology.coding import Coder
from clinex.terminology.normalise import MIN_RETRIEVAL_SIMILARITY, normalise


@pytest.fixture()
def small_icd() -> IndexedTerminology:
    concepts = [
        Concept("I10", "Essential (primary) hypertension"),
        Concept("E11.9", "Type 2 diabetes mellitus without complications"),
        Concept("J45.909", "Unspecified asthma, uncomplicated"),
        Concept("S52.501A", "Unspecified fracture of the lower end of right radius"),
    ]
    return IndexedTerminology(name="icd10cm-test", system=ICD, concepts=concepts)


def test_the_index_finds_the_closest_concept_and_is_cached_on_disk(
    small_icd: IndexedTerminology, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINEX_CACHE", str(tmp_path))
    index = EmbeddingIndex(small_icd, SentenceEmbedder())
    (diabetes, similarity), (asthma, _) = index.search(["diabetes type 2", "asthma"])
    assert diabetes.code == "E11.9" and MIN_RETRIEVAL_SIMILARITY <= similarity < 1.0
    assert asthma.code == "J45.909"
    cached = list(tmp_path.glob("icd10cm-test-*.npy"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    again = EmbeddingIndex(small_icd, SentenceEmbedder()).search(["diabetes type 2"])
    assert again[0][0].code == "E11.9"
    assert cached[0].stat().st_mtime_ns == stamp  # read back, not rebuilt


def test_the_normaliser_uses_an_injected_retriever_only_where_lookup_finds_nothing(
    small_icd: IndexedTerminology, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINEX_CACHE", str(tmp_path))
    note = "Known asthmatic airways and essential hypertension."
    unknown, known = (
        Entity(type="condition", text=t, start=note.index(t), end=note.index(t) + len(t), confidence=0.8)
        for t in ("asthmatic airways", "essential hypertension")
    )
    coder = Coder(load("icd10cm"))
    assert coder.lookup(unknown.text) is None and not coder.terms_in(unknown.text), "needs an uncodable text"
    retriever = EmbeddingIndex(small_icd, SentenceEmbedder())
    plain = normalise([unknown, known], note)
    retrieved = normalise([unknown, known], note, retrievers={"icd10cm": retriever})
    assert plain[0].code is None and plain[1].code is not None
    assert retrieved[0].code is not None and retrieved[0].code.code == "J45.909"
    assert retrieved[1] == plain[1], "an entity lookup codes never reaches the retriever"
    # Retrieved is less sure than an exact name: the code's score is the similarity.
    assert plain[0].confidence < retrieved[0].confidence < 0.8
