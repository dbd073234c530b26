"""The code picker and code check of the review: search a clinex terminology (ICD-10-CM, the
LOINC and RxNorm subsets) by code or by words, and check a code a reviewer gives.

A terminology is named by its clinex name (``icd10cm``, ``loinc``, ``rxnorm``) or its FHIR system
URI (``http://hl7.org/fhir/sid/icd-10-cm``, ...). Each is loaded once per process.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Mapping
from typing import Any

from clinex.core.errors import InputError, UnknownCodeError, UnknownNameError
from clinex.core.systems import ICD10CM, LOINC, RXNORM
from clinex.terminology import Concept, Terminology, load
from clinex.terminology._index import normalise_term

#: clinex name → FHIR system URI of each terminology the review can search.
SYSTEMS: dict[str, str] = {"icd10cm": ICD10CM, "loinc": LOINC, "rxnorm": RXNORM}
#: How many nearest codes an UnknownCodeError lists.
NEAREST = 5
#: A search answers at most this many results, whatever ``limit`` asks.
MAX_LIMIT = 100


def search(system: str, q: str, *, limit: int = 10) -> list[dict[str, str]]:
    """Codes for the picker, best first: codes starting with ``q`` (dots and case ignored, the
    shortest code first), then the terminology's lookup of ``q`` as text (display, synonym,
    fuzzy), then displays holding every word of ``q`` as a word start (type-ahead: ``"diab
    mell"``). ``system`` is a name or a system URI; UnknownNameError for any other.
    Returns ``[{"system", "code", "display"}]``, at most ``limit`` (1..100)."""
    name = _name(system)
    if name is None:
        raise UnknownNameError(
            f"no terminology {system!r} to search",
            hint=f"choose one of: {', '.join(SYSTEMS)} (or their system URIs)",
        )
    limit = max(1, min(int(limit), MAX_LIMIT))
    if not q.strip():
        return []
    index = _index(name)
    found: dict[str, Concept] = {}
    for concept in index.code_prefix(q, limit):
        found.setdefault(concept.code, concept)
    if len(found) < limit:
        for match in index.terminology.lookup(q, limit=limit):
            found.setdefault(match.concept.code, match.concept)
    if len(found) < limit:
        for concept in index.word_prefix(q, limit - len(found), skip=found):
            found.setdefault(concept.code, concept)
    return [_result(index.terminology, c) for c in list(found.values())[:limit]]


def check(code: Mapping[str, Any]) -> None:
    """Check a code a reviewer gives (``{"system", "code", "display"?}``, the JSONL form).

    A code of a terminology clinex holds must be one of its codes; otherwise UnknownCodeError,
    whose ``nearest`` lists up to five codes it does hold: those the display names, then the
    codes sharing the longest prefix with the one given. A code of any other system (SNOMED CT,
    a local code system, a user-supplied terminology) is accepted as it is: clinex cannot know
    its codes. InputError for a code that is not ``{"system": str, "code": str}``.
    """
    if not isinstance(code, Mapping) or not all(
        isinstance(code.get(key), str) and code[key].strip() for key in ("system", "code")
    ):
        raise InputError(
            "code must be {'system': ..., 'code': ..., 'display': ...} with a system and a code",
            hint="e.g. {'system': 'http://hl7.org/fhir/sid/icd-10-cm', 'code': 'E11.9'}",
        )
    name = _name(code["system"])
    if name is None:
        return
    index = _index(name)
    value = str(code["code"])
    if index.terminology.get(value) is not None:
        return
    display = code.get("display")
    nearest = index.nearest(value, display if isinstance(display, str) else None)
    raise UnknownCodeError(
        f"{name} has no code {value!r}",
        nearest=[_result(index.terminology, c) for c in nearest],
        hint="choose one of the nearest codes, or search the terminology"
        if nearest
        else f"search {name} for the code",
    )


def _name(system: str) -> str | None:
    key = system.strip()
    base = key.split(".v", 1)[0] if not key.startswith("http") else key
    if base in SYSTEMS:
        return base
    return next((name for name, uri in SYSTEMS.items() if uri == key), None)


def _result(terminology: Terminology, concept: Concept) -> dict[str, str]:
    return {"system": terminology.system, "code": concept.code, "display": concept.display}


def _normal(code: str) -> str:
    return code.strip().upper().replace(".", "").replace(" ", "")


@functools.cache
def _index(name: str) -> _CodeIndex:
    return _CodeIndex(load(name))


class _CodeIndex:
    """A terminology with its codes sorted (normalised: no dots, upper case) for prefix search
    and its displays normalised for word-start search."""

    def __init__(self, terminology: Terminology) -> None:
        self.terminology = terminology
        concepts = sorted(terminology, key=lambda c: (_normal(c.code), c.code))
        self._concepts = concepts
        self._codes = [_normal(c.code) for c in concepts]
        self._displays = [(normalise_term(c.display).split(), c) for c in concepts]

    def code_prefix(self, prefix: str, limit: int) -> list[Concept]:
        """Concepts whose code starts with ``prefix``, shortest code first."""
        key = _normal(prefix)
        if not key:
            return []
        lo = bisect_left(self._codes, key)
        hits: list[Concept] = []
        for i in range(lo, len(self._codes)):
            if not self._codes[i].startswith(key):
                break
            hits.append(self._concepts[i])
        # Shortest first: a category (E11) before its many leaves; a stable sort keeps code order.
        hits.sort(key=lambda c: len(_normal(c.code)))
        return hits[:limit]

    def word_prefix(self, text: str, limit: int, *, skip: Mapping[str, Concept]) -> list[Concept]:
        """Concepts whose display has, for every word of ``text``, a word starting with it,
        those of the fewest words first."""
        words = normalise_term(text).split()
        if not words or limit <= 0:
            return []
        hits = [
            (len(display), concept)
            for display, concept in self._displays
            if concept.code not in skip and all(any(d.startswith(w) for d in display) for w in words)
        ]
        # The shortest display first: the general concept before its many specific ones.
        hits.sort(key=lambda hit: hit[0])
        return [concept for _, concept in hits[:limit]]

    def nearest(self, code: str, display: str | None) -> list[Concept]:
        """The concepts closest to an unknown ``code`` (and its ``display``), at most NEAREST."""
        found: dict[str, Concept] = {}
        matches = self.terminology.lookup(display, limit=NEAREST) if display else []
        for match in matches:
            if match.kind != "fuzzy":
                found.setdefault(match.concept.code, match.concept)
        key = _normal(code)
        # Codes sharing the longest prefixes with it ("E11.99" → E11.9, then E11, E11.0, ...);
        # shorter prefixes only while too few are found, and a single letter only as a last resort.
        for size in range(len(key), 0, -1):
            for concept in self.code_prefix(key[:size], NEAREST):
                found.setdefault(concept.code, concept)
            if len(found) >= NEAREST or (found and size <= 3):
                break
        for match in matches:
            found.setdefault(match.concept.code, match.concept)
        return list(found.values())[:NEAREST]
