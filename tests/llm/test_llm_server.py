"""The extractor against a real OpenAI-compatible server: llama.cpp's, started on 127.0.0.1."""

from __future__ import annotations

import json

import jsonschema
import pytest

from clinex.extractors.llm import LLMExtractor
from clinex.llm.backends.openai_compat import OpenAICompatBackend
from clinex.llm.prompt import Prompt
from clinex.llm.schema import output_schema
from clinex.testing import assert_grounded

pytestmark = pytest.mark.llamacpp

NOTE = "Known asthma. On salbutamol 100 mcg as needed. No fever."


def test_server_answer_is_constrained_to_the_schema(llama_server: str) -> None:
    # Bounds small enough that even a worst-case answer finishes within max_tokens.
    schema = output_schema(max_entities=1, max_text=30, max_attribute=10)
    backend = OpenAICompatBackend(llama_server, structured="json_object", timeout=120)
    assert backend.model == "smollm2"
    answer = backend.generate(Prompt().messages(NOTE, schema=schema), json_schema=schema, max_tokens=300)
    jsonschema.validate(json.loads(answer), schema)


def test_extractor_against_the_server_grounds_its_entities(llama_server: str) -> None:
    # With the shipped few-shot example SmolLM2 names something of the note; without it, none of
    # its answers is in the note and no grounding would be exercised.
    extractor = LLMExtractor(base_url=llama_server, structured="json_object", max_tokens=96, max_entities=2)
    found = extractor.extract(NOTE)
    assert extractor.stats["calls"] >= 1 and extractor.stats["failed_windows"] == 0
    # On the extractor's own output: clinex.extract refuses a bad span before a test could see it.
    assert_grounded(NOTE, found, min_count=1)
