"""The packaged match lexicons (``data/*.tsv``, built by ``scripts/build_lexicons.py``) compiled
into spaCy PhraseMatchers, once per process."""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
from dataclasses import dataclass
from importlib import resources
from typing import Any

from clinex.core.errors import TerminologyError
from clinex.text.sections import blank_nlp

# Abbreviations are matched case-sensitively ("MI", "PE", "K") so common words ("mi", "pe")
# and letters do not become findings; every other term is matched case-insensitively.
_ABBREVIATION_MAX = 5
_FILES = ("labs.tsv", "medications.tsv.gz", "conditions.tsv.gz", "procedures.tsv")

#: Confidence of a match by lexicon kind (a display is the terminology's own name; an
#: abbreviation is the most ambiguous).
CONFIDENCE = {"display": 0.95, "inclusion": 0.9, "synonym": 0.9, "term": 0.85, "abbreviation": 0.75}


@dataclass(frozen=True, slots=True)
class Term:
    """What a matched phrase means: entity type and lexicon kind (codes are the normaliser's)."""

    type: str
    kind: str


@dataclass(slots=True)
class Lexicon:
    terms: dict[str, Term]
    exact_terms: dict[str, Term]
    matcher: Any
    exact_matcher: Any
    #: Medication names that are also lab analytes (drug levels): a lab only with a value.
    medication_names: frozenset[str]


def _rows(name: str) -> list[dict[str, str]]:
    ref = resources.files("clinex.extractors.rules") / "data" / name
    try:
        raw = ref.read_bytes()
    except OSError:
        raise TerminologyError(f"lexicon {name} is missing", hint="reinstall clinex") from None
    text = gzip.decompress(raw).decode("utf-8") if name.endswith(".gz") else raw.decode("utf-8")
    lines = (line for line in io.StringIO(text) if not line.startswith("#"))
    return list(csv.DictReader(lines, delimiter="\t"))


@functools.cache
def lexicon_digest() -> str:
    """The sha256 of the packaged lexicon files (recorded in the provenance of a result)."""
    sha = hashlib.sha256()
    for name in _FILES:
        sha.update((resources.files("clinex.extractors.rules") / "data" / name).read_bytes())
    return f"sha256:{sha.hexdigest()}"


def is_abbreviation(term: str) -> bool:
    return len(term) <= _ABBREVIATION_MAX and term != term.lower()


@functools.cache
def load_lexicon() -> Lexicon:
    """All four lexicons compiled into a case-insensitive and a case-sensitive matcher."""
    from spacy.matcher import PhraseMatcher

    terms: dict[str, Term] = {}
    exact: dict[str, Term] = {}

    def add(term: str, meaning: Term) -> None:
        if is_abbreviation(term):
            exact.setdefault(term, Term(meaning.type, "abbreviation"))
        else:
            terms.setdefault(term.lower(), meaning)

    # Order sets priority when one phrase is in two lexicons: a lab name beats a condition
    # ("potassium"), a medication beats a procedure.
    for row in _rows("labs.tsv"):
        add(row["term"], Term("lab", "term"))
    medications = [row["term"] for row in _rows("medications.tsv.gz")]
    for name in medications:
        add(name, Term("medication", "term"))
    for row in _rows("conditions.tsv.gz"):
        add(row["term"], Term("condition", row["kind"]))
    for row in _rows("procedures.tsv"):
        add(row["term"], Term("procedure", "term"))

    nlp = blank_nlp()
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    matcher.add("T", list(nlp.tokenizer.pipe(terms)))
    exact_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
    exact_matcher.add("A", list(nlp.tokenizer.pipe(exact)))
    return Lexicon(terms, exact, matcher, exact_matcher, frozenset(m.lower() for m in medications))
