"""The packaged match lexicons compiled into spaCy PhraseMatchers, once per process.

``data/{labs,medications,conditions,procedures}.tsv*`` are built by ``scripts/build_lexicons.py``
from terminologies; ``data/abbreviations.tsv`` (short forms of telegraphic notes, with the code
each stands for) and ``data/findings.tsv`` (bare symptoms and signs) are curated by hand. A
condition term also matches with its last word in the plural ("pleural effusions").
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from clinex.core.errors import TerminologyError
from clinex.text.sections import blank_nlp

# Abbreviations are matched case-sensitively ("MI", "PE", "K") so common words ("mi", "pe")
# and letters do not become findings; every other term is matched case-insensitively.
_ABBREVIATION_MAX = 5
_FILES = (
    "labs.tsv",
    "medications.tsv.gz",
    "conditions.tsv.gz",
    "procedures.tsv",
    "abbreviations.tsv",
    "findings.tsv",
)
# A last word ending so takes "es" in the plural; one ending in another letter takes "s".
_PLURAL_ES = ("s", "x", "z", "ch", "sh")
# Endings whose plural is not regular (Latin and Greek: "stenoses", "emboli", "diverticula") or
# that are plural already.
_PLURAL_SKIP = re.compile(r"(?:[^a-z]|[aeiou]y|[^s]s|us|is|ae|i|um|ex|ix)$")

#: Confidence of a match by lexicon kind (a display is the terminology's own name; an
#: abbreviation is the most ambiguous).
CONFIDENCE = {"display": 0.95, "inclusion": 0.9, "synonym": 0.9, "term": 0.85, "abbreviation": 0.75}


@dataclass(frozen=True, slots=True)
class Term:
    """What a matched phrase means: entity type, lexicon kind, and for a curated abbreviation or
    finding the code it stands for (which the normaliser checks; other codes are its own)."""

    type: str
    kind: str
    code: str | None = None


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
    """All lexicons compiled into a case-insensitive and a case-sensitive matcher."""
    from spacy.matcher import PhraseMatcher

    terms: dict[str, Term] = {}
    exact: dict[str, Term] = {}

    def add(term: str, meaning: Term) -> None:
        if is_abbreviation(term):
            exact.setdefault(term, Term(meaning.type, "abbreviation", meaning.code))
        else:
            terms.setdefault(term.lower(), meaning)

    # The curated short forms come first: "HER2 negative" is a receptor status, whatever else
    # its words are.
    excluded = set()
    for row in _rows("abbreviations.tsv"):
        if row["type"] == "none":
            excluded.add(row["term"])
        else:
            add(row["term"], Term(row["type"], "synonym", row["code"] or None))
    # Order sets priority when one phrase is in two lexicons: a lab name beats a condition
    # ("potassium"), a medication beats a procedure.
    for row in _rows("labs.tsv"):
        add(row["term"], Term("lab", "term"))
    medications = [row["term"] for row in _rows("medications.tsv.gz")]
    for name in medications:
        add(name, Term("medication", "term"))
    conditions = _rows("conditions.tsv.gz")
    for row in conditions:
        add(row["term"], Term("condition", row["kind"]))
    for row in _rows("findings.tsv"):
        add(row["term"], Term("condition", "synonym", row["code"] or None))
    for row in _rows("procedures.tsv"):
        add(row["term"], Term("procedure", "term"))
    for row in conditions:
        plural = _plural(row["term"])
        if plural is not None and not is_abbreviation(row["term"]):
            terms.setdefault(plural, terms.get(row["term"].lower(), Term("condition", row["kind"])))
    for term in excluded:
        exact.pop(term, None)
        terms.pop(term.lower(), None)

    nlp = blank_nlp()
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    matcher.add("T", list(nlp.tokenizer.pipe(terms)))
    exact_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
    exact_matcher.add("A", list(nlp.tokenizer.pipe(exact)))
    return Lexicon(terms, exact, matcher, exact_matcher, frozenset(m.lower() for m in medications))


def _plural(term: str) -> str | None:
    """``term`` with its last word in the plural, where an English plural is regular enough to
    form by rule ("effusions", "abscesses", "abnormalities"; not "stenosis", "embolus")."""
    lower = term.lower()
    last = lower.rsplit(" ", 1)[-1]
    if len(last) < 3 or not last.isalpha() or _PLURAL_SKIP.search(last):
        return None
    if last.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if last.endswith(_PLURAL_ES) else "s")
