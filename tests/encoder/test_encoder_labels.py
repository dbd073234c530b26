from __future__ import annotations

from clinex.extractors.encoder.labels import LABEL_IDS, LABELS, CharSpan, decode_spans, encode_spans
from clinex.extractors.encoder.model import load_tokenizer


def test_bio_round_trip_on_real_tokens() -> None:
    text = "Metformin 500 mg twice daily; Hb 13.2 g/dL."
    offsets = load_tokenizer().encode(text, add_special_tokens=False).offsets
    gold = [
        CharSpan("medication", 0, 9),
        CharSpan("dose", 10, 16),
        CharSpan("frequency", 17, 28),
        CharSpan("value", 33, 37),
    ]
    labels = encode_spans(offsets, gold)
    spans = decode_spans(labels, [1.0] * len(labels), offsets)
    assert [(s.type, s.start, s.end) for s in spans] == [(g.type, g.start, g.end) for g in gold]
    assert labels.count(LABEL_IDS["B-medication"]) == 1  # sub-words of "metformin" get I


def test_decode_starts_a_span_at_a_stray_inside_label() -> None:
    offsets = [(0, 3), (4, 7), (8, 11)]
    labels = [LABEL_IDS["I-dose"], LABEL_IDS["I-route"], LABEL_IDS["O"]]
    spans = decode_spans(labels, [0.9, 0.5, 1.0], offsets)
    assert [(s.type, s.start, s.end, s.score) for s in spans] == [("dose", 0, 3, 0.9), ("route", 4, 7, 0.5)]


def test_every_entity_and_attribute_type_has_b_and_i() -> None:
    assert LABELS[0] == "O"
    for kind in ("condition", "tumor", "dose", "unit", "tnm", "date"):
        assert f"B-{kind}" in LABEL_IDS and f"I-{kind}" in LABEL_IDS


def test_viterbi_keeps_words_whole_and_bio_valid() -> None:
    import numpy as np

    from clinex.extractors.encoder.labels import viterbi

    # "hydro ##cor ##tisone": the greedy argmax would tag the sub-words med, condition, med.
    probs = np.full((3, len(LABELS)), 0.01)
    probs[0, LABEL_IDS["B-medication"]] = 0.9
    probs[1, LABEL_IDS["B-condition"]] = 0.6
    probs[1, LABEL_IDS["I-medication"]] = 0.3
    probs[2, LABEL_IDS["I-medication"]] = 0.9
    path = viterbi(np.log(probs), [False, True, True])
    assert [LABELS[i] for i in path] == ["B-medication", "I-medication", "I-medication"]
    # A lone I- at the start of a word sequence becomes a valid label.
    start = np.full((1, len(LABELS)), 0.01)
    start[0, LABEL_IDS["I-dose"]] = 0.9
    assert not LABELS[viterbi(np.log(start), [False])[0]].startswith("I-")
