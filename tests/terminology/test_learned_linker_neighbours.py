"""The learned linker's neighbour search with the real MiniLM embedder: an unseen paraphrase of a
learned mention borrows its counts; an unrelated mention does not; the embeddings are checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clinex.core.errors import ConfigError
from clinex.core.systems import ICD10CM
from clinex.core.types import Entity
from clinex.extractors.encoder.retrieval import SentenceEmbedder
from clinex.terminology.learned import MIN_NEIGHBOUR_SIMILARITY, LearnedLinker, build_linker, load_linker
from clinex.terminology.normalise import normalise

MENTIONS = [("right knee osteoarthritis", "M17.11")] * 5 + [("prior MI", "I25.2")] * 3


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder) -> Path:
    folder = tmp_path_factory.mktemp("neighbours")
    lines = []
    for number, (mention, code) in enumerate(MENTIONS):
        text = f"Assessment: {mention}."
        start = text.index(mention)
        entity = {"type": "condition", "text": mention, "start": start, "end": start + len(mention)}
        entity["code"] = {"system": ICD10CM, "code": code}
        lines.append(json.dumps({"id": f"n{number}", "text": text, "entities": [entity]}))
    (folder / "silver.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build_linker([folder / "silver.jsonl"], folder / "linker.json", embed=embedder)
    return folder / "linker.json"


def _code(text: str, linker: LearnedLinker | None) -> str | None:
    entity = Entity(type="condition", text=text, start=0, end=len(text), confidence=0.8)
    code = normalise([entity], text, linker=linker)[0].code
    return code.code if code is not None else None


def test_an_unseen_paraphrase_borrows_its_neighbours_code(built: Path, embedder: SentenceEmbedder) -> None:
    linker = load_linker(built, embed=embedder)
    assert linker.searches_neighbours
    text = "osteoarthritis of right knee"  # never seen as such; cosine ≈ 0.97 to the learned one
    assert _code(text, load_linker(built)) != "M17.11"  # without the embedder: not learned
    (decision,) = linker.decide(ICD10CM, [text], [(None, 0.0)])
    assert decision is not None and decision.method == "neighbour" and decision.code == "M17.11"
    # The neighbour's posterior share (5 / 6) times its similarity.
    assert MIN_NEIGHBOUR_SIMILARITY * 5 / 6 <= decision.score <= 5 / 6
    assert _code(text, linker) == "M17.11"


def test_an_unrelated_mention_borrows_nothing(built: Path, embedder: SentenceEmbedder) -> None:
    linker = load_linker(built, embed=embedder)
    assert linker.decide(ICD10CM, ["community acquired pneumonia"], [(None, 0.0)]) == [None]
    assert _code("community acquired pneumonia", linker) == _code("community acquired pneumonia", None)


def test_changed_embeddings_are_refused(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / "linker.json"
    copy.write_bytes(built.read_bytes())
    (tmp_path / "linker.npy").write_bytes(built.with_suffix(".npy").read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ConfigError, match="missing or changed"):
        load_linker(copy)
