"""The OpenAI-compatible backend and the extractor against bad servers and bad answers.

The server here is a real HTTP server on 127.0.0.1 that plays scripted faults (see conftest);
the real llama.cpp server is exercised in test_llm_server.py.
"""

from __future__ import annotations

import json

import pytest
from llm_fault_server import FaultServer, Reply, chat_answer

import clinex
from clinex.core.errors import BackendError, OutputParseError
from clinex.extractors.llm import LLMExtractor
from clinex.extractors.llm.extractor import CONFIDENCE
from clinex.llm.backends.openai_compat import OpenAICompatBackend
from local_ports import free_port

NOTE = "Known asthma, on salbutamol 100 mcg as needed. No fever."
ANSWER = json.dumps(
    {
        "entities": [
            {"type": "condition", "text": "asthma"},
            {
                "type": "medication",
                "text": "salbutamol",
                "attributes": {"dose": "100 mcg", "frequency": "twice daily"},
            },
            {"type": "condition", "text": "fever", "assertion": ["negated"]},
            {"type": "condition", "text": "pneumonia"},
        ]
    }
)
CHAT = [{"role": "user", "content": "hi"}]


def _backend(server: FaultServer, **options: object) -> OpenAICompatBackend:
    defaults: dict[str, object] = {"model": "m", "backoff": 0.01, "max_retries": 2, "timeout": 5.0}
    return OpenAICompatBackend(server.base_url, **{**defaults, **options})  # type: ignore[arg-type]


def test_structured_request_and_answer(fault_server: FaultServer) -> None:
    fault_server.script(Reply(body=chat_answer(ANSWER)))
    schema = {"type": "object"}
    answer = _backend(fault_server).generate(CHAT, json_schema=schema, max_tokens=64, seed=3)
    assert answer == ANSWER
    path, body = fault_server.requests[0]
    assert path == "/v1/chat/completions"
    assert body["response_format"]["json_schema"]["schema"] == schema
    assert (body["max_tokens"], body["seed"], body["model"]) == (64, 3, "m")
    _backend(fault_server, structured="json_object").generate(CHAT, json_schema=schema)
    assert fault_server.requests[-1][1]["response_format"] == {"type": "json_object", "schema": schema}


def test_model_defaults_to_the_first_listed(fault_server: FaultServer) -> None:
    fault_server.script(Reply(body={"data": [{"id": "served-model"}]}), Reply(body=chat_answer("{}")))
    backend = _backend(fault_server, model=None)
    backend.generate(CHAT)
    assert fault_server.requests[0][0] == "/v1/models"
    assert fault_server.requests[1][1]["model"] == "served-model"


def test_429_and_5xx_are_retried_with_backoff(fault_server: FaultServer) -> None:
    fault_server.script(
        Reply(status=429, body={"error": "slow down"}, headers={"retry-after": "0.2"}),
        Reply(status=503, body={"error": "busy"}),
        Reply(body=chat_answer(ANSWER)),
    )
    delays: list[float] = []
    assert _backend(fault_server, sleep=delays.append).generate(CHAT) == ANSWER
    assert len(fault_server.requests) == 3
    # Retry-After (0.2 s) wins over the first backoff (0.01 s); the next backoff doubles.
    assert delays == [0.2, 0.02]


def test_retries_are_bounded(fault_server: FaultServer) -> None:
    fault_server.script(Reply(status=500, body={"error": "boom"}))
    delays: list[float] = []
    with pytest.raises(BackendError, match=r"HTTP 500 after 3 attempt"):
        _backend(fault_server, sleep=delays.append).generate(CHAT)
    assert len(fault_server.requests) == 3
    assert delays == [0.01, 0.02]  # a wait between attempts, none after the last


def test_client_errors_are_not_retried(fault_server: FaultServer) -> None:
    fault_server.script(Reply(status=401, body={"error": "no key"}))
    with pytest.raises(BackendError) as info:
        _backend(fault_server).generate(CHAT)
    assert len(fault_server.requests) == 1 and "api_key" in (info.value.hint or "")


def test_unreachable_server_names_the_url_not_the_note() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    extractor = LLMExtractor(
        backend=OpenAICompatBackend(url, model="m", max_retries=1, backoff=0.01), examples=None
    )
    with pytest.raises(BackendError) as info:
        extractor.extract(NOTE)
    assert url in str(info.value) and "asthma" not in str(info.value)


def test_timeout_is_a_backend_error(fault_server: FaultServer) -> None:
    fault_server.script(Reply(body=chat_answer(ANSWER), delay=1.0))
    with pytest.raises(BackendError, match=r"did not answer within 0\.2 s"):
        _backend(fault_server, timeout=0.2, max_retries=1).generate(CHAT)


def test_refusal_is_a_backend_error(fault_server: FaultServer) -> None:
    fault_server.script(Reply(body=chat_answer(None, refusal="I can't help with that.")))
    with pytest.raises(BackendError, match="refused"):
        _backend(fault_server).generate(CHAT)


def test_extractor_grounds_answers_and_keeps_ungrounded_with_low_confidence(
    fault_server: FaultServer,
) -> None:
    fault_server.script(Reply(body=chat_answer(ANSWER)))
    extractor = LLMExtractor(backend=_backend(fault_server), assertion="model")
    entities = extractor.extract(NOTE)
    by_text = {e.text: e for e in entities}
    assert set(by_text) == {"asthma", "salbutamol", "fever", "pneumonia"}
    for entity in entities:
        assert entity.alignment == "none" or NOTE[entity.start : entity.end] == entity.text
    assert by_text["pneumonia"].alignment == "none" and by_text["pneumonia"].start is None
    assert by_text["pneumonia"].confidence < by_text["asthma"].confidence
    assert by_text["fever"].assertion.negated, "assertion='model' keeps the model's flags"
    # the invented frequency is not in the note and is dropped; the dose is kept
    assert by_text["salbutamol"].attributes == {"dose": "100 mcg"}
    assert extractor.stats["ungrounded"] == 1 and extractor.stats["dropped_attributes"] == 1

    dropping = LLMExtractor(backend=_backend(fault_server), drop_ungrounded=True)
    assert {e.text for e in dropping.extract(NOTE)} == {"asthma", "salbutamol", "fever"}


def test_by_default_the_pipelines_assertion_layer_sets_the_flags(fault_server: FaultServer) -> None:
    # The model says "fever" is negated and "asthma" affirmed; the default discards its flags and
    # the pipeline's learned layer decides, so a model that never writes flags still gets them.
    unflagged = json.loads(ANSWER)
    for item in unflagged["entities"]:
        item.pop("assertion", None)
    fault_server.script(Reply(body=chat_answer(json.dumps(unflagged))))
    extractor = LLMExtractor(backend=_backend(fault_server))
    raw = {e.text: e for e in extractor.extract(NOTE)}
    assert not raw["fever"].assertion.negated, "the extractor itself sets no flag by default"
    fault_server.script(Reply(body=chat_answer(json.dumps(unflagged))))
    doc = clinex.extract(NOTE, extractor=extractor)
    flags = {e.text: e.assertion for e in doc.entities}
    assert flags["fever"].negated and not flags["asthma"].negated
    assert (doc.meta["assertion"]["by"], doc.meta["assertion"]["layer"]) == ("pipeline", "learned")


def test_truncated_answer_is_repaired_and_counted(fault_server: FaultServer) -> None:
    truncated = ANSWER[: ANSWER.index("fever") + 3]
    fault_server.script(Reply(body=chat_answer(truncated, finish_reason="length")))
    extractor = LLMExtractor(backend=_backend(fault_server))
    assert [e.text for e in extractor.extract(NOTE)] == ["asthma", "salbutamol"]
    assert extractor.stats["repaired"] == 1


def test_malformed_answer_is_retried_once_then_counted_not_raised(fault_server: FaultServer) -> None:
    fault_server.script(Reply(body=chat_answer("I cannot do JSON today.")))
    extractor = LLMExtractor(backend=_backend(fault_server))
    assert extractor.extract(NOTE) == []
    assert extractor.stats["calls"] == 2 and extractor.stats["failed_windows"] == 1
    assert fault_server.requests[1][1]["messages"][-1]["role"] == "user"  # the retry reminds of the format
    with pytest.raises(OutputParseError):
        LLMExtractor(backend=_backend(fault_server), strict=True).extract(NOTE)


def test_a_retry_that_succeeds_recovers_the_window(fault_server: FaultServer) -> None:
    fault_server.script(Reply(body=chat_answer("no JSON here")), Reply(body=chat_answer(ANSWER)))
    extractor = LLMExtractor(backend=_backend(fault_server))
    assert "asthma" in {e.text for e in extractor.extract(NOTE)}
    assert extractor.stats["retried"] == 1 and extractor.stats["failed_windows"] == 0


def test_context_overflow_splits_the_window(fault_server: FaultServer) -> None:
    long_note = " ".join(f"Visit {i}: asthma stable, no fever." for i in range(20))
    overflow = Reply(
        status=400, body={"error": {"message": "This model's maximum context length is 512 tokens"}}
    )
    fault_server.script(
        overflow, Reply(body=chat_answer(json.dumps({"entities": [{"type": "condition", "text": "asthma"}]})))
    )
    extractor = LLMExtractor(backend=_backend(fault_server), chunk_chars=len(long_note) + 1)
    entities = extractor.extract(long_note)
    pieces = extractor.stats["windows"] - 1  # the first window overflowed, then its pieces ran
    assert extractor.stats["split_windows"] == 1 and pieces >= 2
    assert len(entities) == pieces and all(long_note[e.start : e.end] == "asthma" for e in entities)  # type: ignore[index]


def test_long_note_windows_map_back_to_the_note(fault_server: FaultServer) -> None:
    long_note = "".join(f"Day {i}: condition stable. " for i in range(30)) + "Final diagnosis: sarcoidosis."
    fault_server.script(
        Reply(body=chat_answer(json.dumps({"entities": [{"type": "condition", "text": "sarcoidosis"}]})))
    )
    extractor = LLMExtractor(backend=_backend(fault_server), chunk_chars=200, chunk_overlap=50)
    entities = extractor.extract(long_note)
    assert extractor.stats["windows"] == len(fault_server.requests) > 3
    # the windows without the word cannot ground it: their copies merge into the grounded one
    assert [(e.start, e.text) for e in entities] == [(long_note.index("sarcoidosis"), "sarcoidosis")]
    assert extractor.stats["ungrounded"] == extractor.stats["windows"] - 1


def test_passes_vote_on_confidence_and_use_successive_seeds(fault_server: FaultServer) -> None:
    both = {"entities": [{"type": "condition", "text": "asthma"}, {"type": "condition", "text": "fever"}]}
    one = {"entities": [{"type": "condition", "text": "asthma"}]}
    fault_server.script(Reply(body=chat_answer(json.dumps(both))), Reply(body=chat_answer(json.dumps(one))))
    extractor = LLMExtractor(backend=_backend(fault_server), passes=2, temperature=0.7, seed=5)
    confidence = {e.text: e.confidence for e in extractor.extract(NOTE)}
    # Both exact; "fever" was found by one pass of two, so it keeps half the confidence.
    assert confidence == {"asthma": CONFIDENCE["exact"], "fever": pytest.approx(CONFIDENCE["exact"] / 2)}
    assert sorted(body["seed"] for _, body in fault_server.requests) == [5, 6]


def test_server_url_from_the_environment(fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINEX_LLM_BASE_URL", fault_server.base_url)
    fault_server.script(Reply(body=chat_answer(ANSWER)))
    extractor = LLMExtractor(model="served-model")
    assert isinstance(extractor.backend, OpenAICompatBackend)
    assert "asthma" in {e.text for e in extractor.extract(NOTE)}
    assert fault_server.requests[0][1]["model"] == "served-model"
