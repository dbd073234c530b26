"""Batched tagging of many notes: tokenise, cut into windows, run the tagger, decode spans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from clinex.extractors.encoder.labels import FLAGS, decode_spans, viterbi
from clinex.extractors.encoder.model import Tagger
from clinex.extractors.encoder.windows import Window, make_windows

#: Batch widths are rounded up to a multiple of this many tokens (see run_tagger).
_WIDTH_STEP = 16


@dataclass(frozen=True, slots=True)
class PredictedSpan:
    """A tagged span with its character interval, label probability and assertion probabilities."""

    type: str
    start: int
    end: int
    score: float
    flags: dict[str, float]


@dataclass(frozen=True, slots=True)
class _Job:
    note: int
    window: Window


@dataclass(frozen=True, slots=True)
class TokenOutputs:
    """Per-token outputs of one note: its tokenisation, label probabilities and flag logits."""

    encoding: Any
    label_probs: torch.Tensor
    flag_logits: torch.Tensor

    def flag_probs(self, start: int, end: int) -> dict[str, float] | None:
        """Mean assertion probabilities over the tokens of ``[start, end)``, None if no token is there."""
        inside = [i for i, (s, e) in enumerate(self.encoding.offsets) if s < end and e > start]
        if not inside:
            return None
        probs = self.flag_logits[inside[0] : inside[-1] + 1].mean(0).sigmoid().tolist()
        return dict(zip(FLAGS, probs, strict=True))


def run_tagger(
    tagger: Tagger,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    max_len: int,
    overlap: int,
    batch_size: int = 16,
    bf16: bool = False,
) -> list[TokenOutputs]:
    """Tagger outputs for every token of every text. Windows of all notes share batches, shortest first.

    ``bf16`` runs the tagger under bfloat16 CPU autocast; its outputs are still fp32.
    """
    encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
    # Read once: each read of ``Encoding.ids`` copies the note's whole id list, which once per
    # window made long notes quadratic.
    token_ids = [e.ids for e in encodings]
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    n_labels = tagger.span_head.out_features
    label_probs = [torch.zeros(len(ids), n_labels) for ids in token_ids]
    flag_logits = [torch.zeros(len(ids), len(FLAGS)) for ids in token_ids]
    jobs = [
        _Job(i, w)
        for i, ids in enumerate(token_ids)
        if ids
        for w in make_windows(len(ids), max_len=max_len, overlap=overlap)
    ]
    jobs.sort(key=lambda j: j.window.end - j.window.start)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for first in range(0, len(jobs), batch_size):
            batch = jobs[first : first + batch_size]
            width = max(j.window.end - j.window.start for j in batch) + 2
            # Padded to a multiple of _WIDTH_STEP: window lengths vary from note to note, and
            # oneDNN builds and keeps kernels for each new shape (in bfloat16, RSS grew by about
            # 1 MB a note over 120 notes without this; it stays flat with it).
            width = min(-(-width // _WIDTH_STEP) * _WIDTH_STEP, max_len)
            ids = torch.zeros(len(batch), width, dtype=torch.long)
            mask = torch.zeros(len(batch), width, dtype=torch.long)
            for row, job in enumerate(batch):
                tokens = [cls_id, *token_ids[job.note][job.window.start : job.window.end], sep_id]
                ids[row, : len(tokens)] = torch.tensor(tokens)
                mask[row, : len(tokens)] = 1
            span_logits, assertion_logits = tagger(ids, mask)
            # fp32 from here on: Viterbi sums log-probabilities, which bfloat16 rounds coarsely.
            probs = span_logits.float().softmax(-1)
            assertion_logits = assertion_logits.float()
            for row, job in enumerate(batch):
                w = job.window
                # +1: position 0 of the window is [CLS].
                lo, hi = w.keep_start - w.start + 1, w.keep_end - w.start + 1
                label_probs[job.note][w.keep_start : w.keep_end] = probs[row, lo:hi]
                flag_logits[job.note][w.keep_start : w.keep_end] = assertion_logits[row, lo:hi]
    return [TokenOutputs(e, p, f) for e, p, f in zip(encodings, label_probs, flag_logits, strict=True)]


def decode(outputs: TokenOutputs) -> list[PredictedSpan]:
    """The spans of one note, each with its mean label probability and assertion probabilities."""
    if not outputs.encoding.ids:
        return []
    words = outputs.encoding.word_ids
    continues = [i > 0 and words[i] is not None and words[i] == words[i - 1] for i in range(len(words))]
    probs = outputs.label_probs.numpy()
    labels = viterbi(np.log(probs + 1e-9), continues)
    best = probs[np.arange(len(labels)), labels]
    spans = decode_spans(labels, best.tolist(), outputs.encoding.offsets)
    result = []
    for s in spans:
        flags = outputs.flag_logits[s.first_token : s.last_token + 1].mean(0).sigmoid().tolist()
        result.append(PredictedSpan(s.type, s.start, s.end, s.score, dict(zip(FLAGS, flags, strict=True))))
    return result


def predict(
    tagger: Tagger, tokenizer: Any, texts: Sequence[str], *, max_len: int, overlap: int, batch_size: int = 16
) -> list[list[PredictedSpan]]:
    """Spans for each text."""
    outputs = run_tagger(tagger, tokenizer, texts, max_len=max_len, overlap=overlap, batch_size=batch_size)
    return [decode(o) for o in outputs]
