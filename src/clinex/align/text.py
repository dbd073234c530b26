"""The words of a note and of a code's names, in the forms evidence search compares.

Each word has three keys: its normalised form (case, accents and punctuation dropped, as
terminology lookup does), and a *stem*: American spelling ("oedema" → "edema", "tumour" →
"tumor", "leucocyte" → "leukocyte"), singular ("fractures" → "fracture") and one inflectional
or derivational ending off ("fractured", "fracture" → "fractur"; "diabetic", "diabetes" →
"diabet"; "infection", "infected" → "infect"). The stemmer is deliberately light: it only ever
compares a note against the names of a code that was recorded for it, so a loose match costs
little, while a missed inflection loses the evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clinex.terminology._index import normalise_term
from clinex.text.sentences import split_sentences

_WORD = re.compile(r"\w+")
_BRITISH = re.compile(r"(ae|oe)(?=[a-z])")
_OUR = re.compile(r"our$")
_PLURAL_ES = ("ses", "xes", "zes", "ches", "shes")
_ENDINGS = ("ically", "ical", "ation", "ion", "ive", "ing", "ed", "ic", "al", "ous", "y", "e")
_MIN_STEM = 4
_ROMAN = {"ii": "2", "iii": "3", "iv": "4"}

#: Words that never carry a concept on their own: left out of a name's core words.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "by",
        "from",
        "with",
        "as",
        "and",
        "or",
        "its",
        "his",
        "her",
        "their",
        "this",
        "that",
        "these",
        "those",
        "due",
        "involving",
        "other",
        "specified",
        "unspecified",
        "nos",
        "nec",
        "site",
        "part",
        "type",
    ]
)
#: Words so general that a name made only of them (after stopwords) is no evidence.
GENERIC = frozenset(
    [
        "disease",
        "disorder",
        "diseas",
        "disord",
        "abnormality",
        "abnormal",
        "condition",
        "finding",
        "symptom",
        "sign",
        "signs",
        "state",
        "status",
        "problem",
        "history",
        "encounter",
        "complication",
        "complications",
    ]
)
# Qualifiers a note leaves unsaid (as ICD-10-CM's billable rule and lookup treat them).
_QUALIFIERS = re.compile(
    r"\s*[(\[][^)\]]*[)\]]"
    r"|\b(?:unspecified|not elsewhere classified|not otherwise specified|nec|nos|uncomplicated"
    r"|without complications?|not intractable|without status migrainosus|initial encounter"
    r"|subsequent encounter|sequela|in diseases classified elsewhere|other specified|other)\b",
    re.IGNORECASE,
)


def stem(word: str) -> str:
    """The light stem of one normalised word (see the module docstring)."""
    w = _OUR.sub("or", _BRITISH.sub("e", word)).replace("leuc", "leuk")
    w = _ROMAN.get(w, w)
    if w.endswith("ies") and len(w) > 5:
        w = w[:-3] + "y"
    elif w.endswith(_PLURAL_ES) and len(w) > 5:
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > _MIN_STEM:
        w = w[:-1]
    for ending in _ENDINGS:
        if w.endswith(ending) and len(w) - len(ending) >= _MIN_STEM:
            return w[: -len(ending)]
    return w


def words(text: str) -> list[str]:
    """The normalised words of a name or phrase."""
    return [_ROMAN.get(w, w) for w in normalise_term(text).split()]


def core(text: str) -> frozenset[str]:
    """The stems that must all be in the note for ``text`` (a code's name) to be its evidence:
    qualifiers and stopwords left out; empty where only general words remain."""
    stems = frozenset(stem(w) for w in words(_QUALIFIERS.sub(" ", text)) if w not in STOPWORDS)
    if not stems or stems <= {stem(w) for w in GENERIC} | GENERIC:
        return frozenset()
    return stems


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    #: the word as written
    surface: str
    norm: str
    stem: str
    sentence: int


class NoteWords:
    """A note's words with their offsets and sentence, indexed by normalised form and stem."""

    def __init__(self, text: str) -> None:
        self.text = text
        sentences = split_sentences(text)
        self.tokens: list[Token] = []
        number = 0
        for match in _WORD.finditer(text):
            while number + 1 < len(sentences) and match.start() >= sentences[number][1]:
                number += 1
            for norm in normalise_term(match.group()).split() or [""]:
                if not norm:
                    continue
                norm = _ROMAN.get(norm, norm)
                self.tokens.append(Token(match.start(), match.end(), match.group(), norm, stem(norm), number))
        self.by_norm: dict[str, list[int]] = {}
        self.by_stem: dict[str, list[int]] = {}
        for index, token in enumerate(self.tokens):
            self.by_norm.setdefault(token.norm, []).append(index)
            self.by_stem.setdefault(token.stem, []).append(index)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Character span of tokens ``first..last`` (inclusive)."""
        return self.tokens[first].start, self.tokens[last].end

    def gap_is_plain(self, first: int, last: int) -> bool:
        """Whether only spaces and hyphens/commas lie between consecutive tokens ``first..last``
        (a phrase, not words across a bracket, colon or full stop)."""
        for i in range(first, last):
            between = self.text[self.tokens[i].end : self.tokens[i + 1].start]
            if between.strip(" \t-,/'") or "\n" in between:
                return False
        return True
