"""Coding by terminology lookup, then embedding retrieval for ICD-10-CM conditions.

Exact, synonym and close fuzzy matches come first (scored by the terminology). A condition without one is
embedded with the base MiniLM (mean-pooled, normalised: the sentence-embedding use it was
trained for) and matched by cosine similarity against every concept display. The concept
embeddings are computed once per terminology content and cached on disk, since embedding
~70k ICD-10-CM displays takes about a minute on two cores.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from clinex.core.types import Code
from clinex.extractors.encoder.model import load_base_encoder, load_tokenizer
from clinex.terminology import icd10cm
from clinex.terminology.base import Concept, Match, Terminology, to_code

log = logging.getLogger("clinex")

#: Below this cosine similarity a retrieved concept is not trusted, and no code is set.
MIN_SIMILARITY = 0.55
_EMBED_MAX_TOKENS = 48
_INDEX_VERSION = "minilm-mean-v1"


def cache_dir() -> Path:
    """Where embedding indexes live: ``$CLINEX_CACHE`` or ``~/.cache/clinex``."""
    return Path(os.environ.get("CLINEX_CACHE") or Path.home() / ".cache" / "clinex")


class SentenceEmbedder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings (the base encoder, never fine-tuned)."""

    def __init__(self) -> None:
        self._encoder = load_base_encoder().eval()
        self._tokenizer = load_tokenizer()
        self._tokenizer.enable_truncation(_EMBED_MAX_TOKENS)

    def __call__(self, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray[Any, Any]:
        out = []
        with torch.inference_mode():
            for first in range(0, len(texts), batch_size):
                encodings = self._tokenizer.encode_batch(list(texts[first : first + batch_size]))
                width = max(len(e.ids) for e in encodings)
                ids = torch.zeros(len(encodings), width, dtype=torch.long)
                mask = torch.zeros(len(encodings), width, dtype=torch.long)
                for row, e in enumerate(encodings):
                    ids[row, : len(e.ids)] = torch.tensor(e.ids)
                    mask[row, : len(e.ids)] = 1
                hidden = self._encoder(input_ids=ids, attention_mask=mask).last_hidden_state
                pooled = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
                out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)


class EmbeddingIndex:
    """Concept display embeddings of one terminology, cached on disk by content hash."""

    def __init__(self, terminology: Terminology, embedder: SentenceEmbedder) -> None:
        self.concepts: list[Concept] = list(terminology)
        self._embedder = embedder
        digest = hashlib.sha256(_INDEX_VERSION.encode())
        for concept in self.concepts:
            digest.update(f"{concept.code}\t{concept.display}\n".encode())
        path = cache_dir() / f"{terminology.name}-{digest.hexdigest()[:16]}.npy"
        if path.is_file():
            self.vectors = np.load(path).astype(np.float32)
        else:
            log.info(
                "building %s embedding index over %d concepts (once)", terminology.name, len(self.concepts)
            )
            self.vectors = embedder([c.display for c in self.concepts])
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, self.vectors.astype(np.float16))
            tmp.replace(path)

    def search(self, texts: Sequence[str]) -> list[tuple[Concept, float]]:
        """The most similar concept to each text, with its cosine similarity."""
        if not texts:
            return []
        scores = self._embedder(texts) @ self.vectors.T
        best = scores.argmax(axis=1)
        return [(self.concepts[int(i)], float(scores[row, i])) for row, i in enumerate(best)]


#: The longest phrase, in words, :meth:`Coder.terms_in` looks up.
MAX_TERM_WORDS = 6
#: A one-word term shorter than this is an abbreviation too ambiguous to code alone ("PE", "MS").
_MIN_ONE_WORD_TERM = 4
_TERM_WORD = re.compile(r"[\w'-]+")


@dataclass(frozen=True, slots=True)
class FoundTerm:
    """A phrase of a text that the terminology names exactly: its offsets, code and score."""

    start: int
    end: int
    code: Code
    score: float


class Coder:
    """Codes entity texts in one terminology; ``embedding=True`` adds retrieval after lookup."""

    def __init__(self, terminology: Terminology, *, embedding: bool = False) -> None:
        self.terminology = terminology
        self._embedding = embedding
        self._index: EmbeddingIndex | None = None

    def code(self, texts: Sequence[str]) -> list[tuple[Code, float] | None]:
        """A code and a score in 0..1 for each text, or None where nothing fits."""
        results: list[tuple[Code, float] | None] = []
        missing: list[int] = []
        for i, text in enumerate(texts):
            match = self._lookup(text)
            if match is not None:
                results.append((to_code(self.terminology, match.concept), float(match.score)))
            else:
                results.append(None)
                missing.append(i)
        if missing and self._embedding:
            for i, (concept, similarity) in zip(
                missing, self._retrieve([texts[i] for i in missing]), strict=True
            ):
                if similarity >= MIN_SIMILARITY:
                    results[i] = (to_code(self.terminology, concept), min(1.0, similarity))
        return results

    def terms_in(self, text: str) -> list[FoundTerm]:
        """The phrases of ``text`` that are a concept's name or synonym exactly (no fuzzy
        matching), longest first from left to right, without overlaps."""
        words = [(m.start(), m.end()) for m in _TERM_WORD.finditer(text)]
        found: list[FoundTerm] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_TERM_WORDS, len(words) - i), 0, -1):
                start, end = words[i][0], words[i + n - 1][1]
                if n == 1 and end - start < _MIN_ONE_WORD_TERM:
                    continue
                match = self._lookup(text[start:end], fuzzy=False)
                if match is not None:
                    code = to_code(self.terminology, match.concept)
                    found.append(FoundTerm(start, end, code, float(match.score)))
                    i += n
                    break
            else:
                i += 1
        return found

    def _lookup(self, text: str, *, fuzzy: bool = True) -> Match | None:
        if self.terminology.system == icd10cm.SYSTEM:
            # The billable code the text justifies, as the normaliser chooses it.
            return icd10cm.best_match(self.terminology.lookup(text, limit=10, fuzzy=fuzzy))
        matches = self.terminology.lookup(text, limit=1, fuzzy=fuzzy)
        return matches[0] if matches else None

    def _retrieve(self, texts: Sequence[str]) -> list[tuple[Concept, float]]:
        if self._index is None:
            self._index = EmbeddingIndex(self.terminology, SentenceEmbedder())
        return self._index.search(texts)
