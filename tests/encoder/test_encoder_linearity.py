"""The encoder's work grows linearly with the note's length (counted, never timed).

A 2 MB note once ran past 15 minutes: every entity span was compared with every attribute span,
linking and retyping did the same, and each token window copied the note's whole id list out of
the tokenizer. Ten times the note must cost about ten times the work, not a hundred.
"""

from __future__ import annotations

from typing import Any

import clinex
from clinex.extractors.encoder.inference import PredictedSpan, decode, run_tagger
from clinex.extractors.encoder.labels import FLAGS
from workload import clinex_lines

SENTENCE = (
    "Metformin 1000 mg orally twice daily for type 2 diabetes; HbA1c 8.4 % on 03/11/2024. No chest pain.\n"
)
#: What the tagger tags in SENTENCE; it calls the medication a lab, as it sometimes does, so
#: retyping has work too.
TAGS = (
    ("lab", "Metformin"),
    ("dose", "1000 mg"),
    ("route", "orally"),
    ("frequency", "twice daily"),
    ("condition", "type 2 diabetes"),
    ("lab", "HbA1c"),
    ("value", "8.4"),
    ("unit", "%"),
    ("date", "03/11/2024"),
    ("condition", "chest pain"),
)
#: Growth of the counted work allowed for ten times the note (linear: 10).
MAX_GROWTH = 12


def _tagged(repeats: int) -> tuple[str, list[PredictedSpan]]:
    spans = []
    for k in range(repeats):
        for kind, words in TAGS:
            start = k * len(SENTENCE) + SENTENCE.index(words)
            spans.append(PredictedSpan(kind, start, start + len(words), 0.9, dict.fromkeys(FLAGS, 0.1)))
    return SENTENCE * repeats, spans


def _engine() -> Any:
    return clinex.load_extractor("encoder", retrieval=False, threads=1)


def test_span_tidying_retyping_and_linking_work_grows_linearly() -> None:
    engine = _engine()
    engine._entities(*_tagged(2))  # loads the terminology the subterm step looks names up in
    small, large = _tagged(30), _tagged(300)
    entities = engine._entities(*large)
    assert [(e.type, e.attributes.get("dose")) for e in entities[:1]] == [("medication", "1000 mg")]
    assert len(entities) == 300 * 4
    work = clinex_lines(lambda: engine._entities(*small)), clinex_lines(lambda: engine._entities(*large))
    assert 0 < work[1] <= MAX_GROWTH * work[0], work


class _CountingEncoding:
    """A tokenizer's Encoding that counts the elements read out of its per-token lists (each
    read copies the whole list)."""

    def __init__(self, encoding: Any, copied: list[int]) -> None:
        self._encoding, self._copied = encoding, copied

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._encoding, name)
        if name in ("ids", "offsets", "word_ids"):
            self._copied[0] += len(value)
        return value


class _CountingTokenizer:
    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self.copied = [0]

    def encode_batch(self, texts: list[str], **options: Any) -> list[_CountingEncoding]:
        return [_CountingEncoding(e, self.copied) for e in self._tokenizer.encode_batch(texts, **options)]

    def token_to_id(self, token: str) -> int:
        return int(self._tokenizer.token_to_id(token))


def test_tagging_and_decoding_copy_each_token_list_a_bounded_number_of_times() -> None:
    engine = _engine()

    def copied(repeats: int) -> int:
        tokenizer = _CountingTokenizer(engine.tokenizer)
        for outputs in run_tagger(
            engine.tagger,
            tokenizer,
            [SENTENCE * repeats],
            max_len=engine.config.max_len,
            overlap=engine.config.overlap,
        ):
            decode(outputs)
        return tokenizer.copied[0]

    small, large = copied(10), copied(100)
    assert 0 < large <= MAX_GROWTH * small, (small, large)
