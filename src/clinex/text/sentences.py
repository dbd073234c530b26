"""Sentence splitting for clinical notes: fast, rule-based, and span-exact.

Every line break ends a sentence (notes put list items, headers and lab rows on their own
lines); inside a line, ``. ! ?`` end one when followed by a space and a capital letter or
digit, except after common abbreviations (``Dr.``, ``e.g.``) and single initials.
"""

from __future__ import annotations

import re

_LINE = re.compile(r"[^\n\r]+")
_END = re.compile(r"[.!?]+[\"')\]]*(?=\s+[A-Z0-9(\"'])")
_ABBREVIATIONS = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "no",
        "vs",
        "e.g",
        "i.e",
        "approx",
        "etc",
        "fig",
        "dept",
        "inc",
        "jr",
        "sr",
        "pt",
        "pts",
        "hx",
        "dx",
        "rx",
        "tx",
        "sx",
        "resp",
        "temp",
        "min",
        "max",
        "mg",
        "mcg",
        "ml",
        "bid",
        "tid",
        "qid",
        "qd",
        "prn",
        "po",
        "iv",
        "im",
        "sc",
        "sq",
        "subq",
    ]
)
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Half-open character spans of the sentences of ``text``, stripped of outer whitespace."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        start = line.start()
        for end_mark in _END.finditer(text, line.start(), line.end()):
            word = _LAST_WORD.search(text, start, end_mark.start())
            if word and (word[1].lower().rstrip(".") in _ABBREVIATIONS or len(word[1]) == 1):
                continue
            _append(text, start, end_mark.end(), spans)
            start = end_mark.end()
        _append(text, start, line.end(), spans)
    return spans


def _append(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
