"""Embedding retrieval over a terminology's concepts with the base MiniLM, for the normaliser.

A text terminology lookup cannot code is embedded with the base MiniLM (mean-pooled, normalised:
the sentence-embedding use it was trained for) and matched by cosine similarity against every
concept display. The concept embeddings are computed once per terminology content and cached on
disk, since embedding ~70k ICD-10-CM displays takes about a minute on two cores. The encoder
extractor injects an index into the pipeline's normaliser (``retrieval=True``); it chooses no
code itself.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from clinex.extractors.encoder.model import load_base_encoder, load_tokenizer
from clinex.terminology.base import Concept, Terminology

log = logging.getLogger("clinex")

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
    """Concept display embeddings of one terminology, cached on disk by content hash: a
    :class:`~clinex.terminology.coding.Retriever` the normaliser asks where lookup finds nothing."""

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


class LazyIndex:
    """An :class:`EmbeddingIndex` of a registered terminology, built on its first search."""

    def __init__(self, terminology: str) -> None:
        self.terminology = terminology
        self._index: EmbeddingIndex | None = None

    def search(self, texts: Sequence[str]) -> list[tuple[Concept, float]]:
        if self._index is None:
            from clinex.terminology import load

            self._index = EmbeddingIndex(load(self.terminology), SentenceEmbedder())
        return self._index.search(texts)
