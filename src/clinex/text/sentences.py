"""Sentence splitting for clinical notes: fast, rule-based, and span-exact.

Every line break ends a sentence (notes put list items, headers and lab rows on their own
lines); inside a line, ``. ! ?`` end one when followed by a space and a capital letter or
digit, except after common abbreviations (``Dr.``, ``e.g.``) and single initials. Telegraphic
notes start sentences in lower case ("No CP. hx of HTN"), so a word after a full stop ends the
sentence before it too, unless the stop closes an abbreviation: a listed one, a single letter,
or a dotted one (``p.o.``, ``b.i.d.``).
"""

from __future__ import annotations

import re

_LINE = re.compile(r"[^\n\r]+")
_END = re.compile(r"[.!?]+[\"')\]]*(?=\s+(?P<next>[A-Za-z0-9(\"']))")
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
        # Abbreviations a lower-case word often follows in notes ("approx. three", "inh. prn").
        "al",
        "ca",
        "cf",
        "yr",
        "yrs",
        "mo",
        "mos",
        "wk",
        "wks",
        "hr",
        "hrs",
        "wt",
        "ht",
        "lt",
        "rt",
        "ext",
        "vit",
        "tab",
        "tabs",
        "cap",
        "caps",
        "inj",
        "inh",
        "susp",
        "soln",
        "oint",
        "amp",
        "gtt",
        "sig",
        "disp",
        "hosp",
        "ref",
        "nr",
        "incl",
        "esp",
        "viz",
    ]
)
# Units end a sentence before a lower-case word ("40 mg. no rash"), not before a capital ("5 mg.
# Daily" on a drug line). Routes and frequencies ("bid", "prn") are not abbreviations here: a
# telegraphic sentence ends on them ("metformin bid. No SOB"); dotted ones ("b.i.d.") are.
_UNITS = frozenset(["mg", "mcg", "ml"])
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Half-open character spans of the sentences of ``text``, stripped of outer whitespace."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        start = line.start()
        for end_mark in _END.finditer(text, line.start(), line.end()):
            word = _LAST_WORD.search(text, start, end_mark.start())
            lower_next = end_mark["next"].islower()
            name = word[1].lower().rstrip(".") if word else ""
            if name in _ABBREVIATIONS and not (lower_next and name in _UNITS):
                continue
            if word and len(word[1]) == 1:
                continue
            if lower_next and "." in name:
                continue  # "p.o. bid", "b.i.d. prn": the dots of one abbreviation
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
