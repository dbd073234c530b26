"""The transformers backend with real packaged GGUF models, constrained by xgrammar."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from clinex.core.errors import ContextLengthError, ModelError
from clinex.extractors.llm import LLMExtractor
from clinex.llm.backends.transformers import TransformersBackend, _gemma_turns, _with_adapter
from clinex.llm.prompt import Prompt
from clinex.llm.schema import output_schema
from clinex.testing import assert_grounded

NOTE = "Known asthma. On salbutamol 100 mcg as needed. No fever."
# Bounds small enough that even a worst-case answer finishes within max_tokens.
SCHEMA = output_schema(max_entities=1, max_text=30, max_attribute=10)


@pytest.fixture(scope="module")
def smollm2(smollm2_path: Path) -> TransformersBackend:
    return TransformersBackend(str(smollm2_path), device="cpu", n_threads=1)


def test_xgrammar_constrained_answer_follows_the_schema(smollm2: TransformersBackend) -> None:
    answer = smollm2.generate(Prompt().messages(NOTE, schema=SCHEMA), json_schema=SCHEMA, max_tokens=200)
    jsonschema.validate(json.loads(answer), SCHEMA)


def test_extractor_on_transformers_grounds_its_entities(smollm2: TransformersBackend) -> None:
    # With the shipped few-shot example SmolLM2 names a condition of the note (without it, only
    # words that are not in the note, and no grounding would be exercised).
    extractor = LLMExtractor(backend=smollm2, max_tokens=96, max_entities=2)
    found = extractor.extract(NOTE)
    assert extractor.stats["calls"] == 1 and extractor.stats["failed_windows"] == 0
    # On the extractor's own output: clinex.extract refuses a bad span before a test could see it.
    assert_grounded(NOTE, found, min_count=1)


def test_prompt_beyond_the_context_is_a_context_length_error(smollm2: TransformersBackend) -> None:
    assert smollm2.context is not None
    with pytest.raises(ContextLengthError):
        smollm2.generate([{"role": "user", "content": "word " * smollm2.context}], max_tokens=8)


def test_missing_model_and_adapter_are_model_errors(smollm2: TransformersBackend, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        TransformersBackend(str(tmp_path / "nothing.gguf"))
    with pytest.raises(ModelError, match="not a folder"):
        _with_adapter(smollm2.model, str(tmp_path / "no-adapter"))


def test_lora_adapter_is_applied(smollm2: TransformersBackend, tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model

    # A LoRA adapter with random (not zero) weights, saved as peft saves a trained one.
    trained = get_peft_model(
        copy.deepcopy(smollm2.model),
        LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False),
    )
    trained.save_pretrained(tmp_path / "adapter", save_embedding_layers=False)
    loaded = _with_adapter(copy.deepcopy(smollm2.model), str(tmp_path / "adapter")).eval()
    ids = smollm2.tokenizer("No fever.", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        base, adapted = smollm2.model(ids).logits, loaded(ids).logits
    assert not torch.allclose(base, adapted)
    assert torch.allclose(adapted, trained.eval()(ids).logits, atol=1e-5)


def test_gemma_turns_fold_the_system_text_into_the_first_user_turn() -> None:
    text = _gemma_turns(
        [
            {"role": "system", "content": "S"},
            {"role": "user", "content": "U1"},
            {"role": "assistant", "content": "A1"},
            {"role": "user", "content": "U2"},
        ]
    )
    assert text == (
        "<bos><start_of_turn>user\nS\n\nU1<end_of_turn>\n<start_of_turn>model\nA1<end_of_turn>\n"
        "<start_of_turn>user\nU2<end_of_turn>\n<start_of_turn>model\n"
    )


@pytest.mark.slow
def test_gemma3_base_model_through_transformers() -> None:
    gemma = TransformersBackend("gemma3", device="cpu", n_threads=1)
    assert gemma.tokenizer.chat_template is None  # a base model: our turn format is used
    answer = gemma.generate(Prompt().messages(NOTE, schema=SCHEMA), json_schema=SCHEMA, max_tokens=200)
    jsonschema.validate(json.loads(answer), SCHEMA)
