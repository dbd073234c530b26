"""ICD-10-CM from ``simple-icd-10-cm``: every category and billable code, its description,
the ICD inclusion terms and the curated clinical synonyms in ``data/icd10cm_synonyms.tsv``.

Synonyms (lookup score 0.95) besides the curated ones: each display and inclusion term also
without its bracketed words ("Essential (primary) hypertension" → "Essential hypertension";
the words kept unbracketed need no entry, lookup ignores punctuation), without "NOS", and
without a leading "Unspecified" or a final ", unspecified" / ", not elsewhere classified" /
", initial encounter" / " of unspecified duration" (or site, side, laterality, organism: a body
part such as "of unspecified ilium" says something and stays) ("Heart failure, unspecified" →
"Heart failure";
"Concussion with loss of consciousness of unspecified duration, initial encounter" → "Concussion
with loss of consciousness"): the default qualifiers a note leaves unsaid.

Billable codes: a category such as J45 (asthma) cannot be billed, and a note saying just
"asthma" justifies only the default leaf below it. :func:`billable` maps a non-billable code
to the one billable descendant whose description is the category's own with only default
qualifiers added: "unspecified" (also "unspecified ear"/"site"/... and "Unspecified X"),
"uncomplicated", "without complications", "not intractable", "without status migrainosus"
and "initial encounter" (J45 → J45.909 "Unspecified asthma, uncomplicated", E11 → E11.9,
I50 → I50.9, T14.8 → T14.8XXA). When no such leaf or more than one exists (C50: breast
cancer, which side and site?), the category is kept: a guessed leaf is worse than a true
category. :func:`best_match` first asks the lookup: when the text also names exactly one
billable descendant of the best hit (a curated synonym, "pulmonary embolism" → I26.99 under
the display of I26, or a stripped display, "asthma" → J45.909), that leaf is the code.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

from clinex.core.errors import TerminologyError
from clinex.core.systems import ICD10CM as SYSTEM
from clinex.core.systems import ICD10PCS
from clinex.terminology._index import IndexedTerminology, normalise_term
from clinex.terminology.base import Concept, Match


@functools.cache
def _cm() -> Any:
    # Imported on first use: loading its tables takes ~1.8 s, which `import clinex` must not pay.
    import simple_icd_10_cm

    return simple_icd_10_cm


_BRACKETED = re.compile(r"\s*[(\[][^)\]]*[)\]]")
_REWRITABLE = re.compile(
    r"[(\[]|\bNOS\b|unspecified|not elsewhere classified|initial encounter", re.IGNORECASE
)
_NOS = re.compile(r"\s*\bNOS\b", re.IGNORECASE)
_QUALIFIER_TAIL = re.compile(
    r"(?:,\s*(?:unspecified|not elsewhere classified|initial encounter)"
    r"|,?\s+of unspecified (?:duration|site|side|laterality|organism))+$",
    re.IGNORECASE,
)
_QUALIFIER_HEAD = re.compile(r"^unspecified\s+", re.IGNORECASE)
# Qualifiers a leaf adds to its category's description that a bare mention implies.
_DEFAULT_QUALIFIERS = re.compile(
    r"\bunspecified(?: (?:ear|eye|side|site|laterality))?\b"
    r"|\buncomplicated\b|\bwithout complications\b|\bnot intractable\b"
    r"|\bwithout status migrainosus\b|\binitial encounter\b"
)
_ICD_CM = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")
# PCS codes are 7 characters; CodiEsp also lists their 3-4 character prefixes.
_ICD_PCS = re.compile(r"^[0-9A-HJ-NP-Z]{3,7}$")


@functools.cache
def load() -> IndexedTerminology:
    """The ICD-10-CM terminology (built once per process)."""
    extra: dict[str, list[str]] = {}
    for term, code in curated_synonyms():
        extra.setdefault(code, []).append(term)
    concepts = []
    cm = _cm()
    for code in cm.get_all_codes(with_dots=True):
        if not cm.is_category_or_subcategory(code):
            continue
        display = cm.get_description(code)
        names = [display, *cm.get_inclusion_term(code)]
        synonyms = {variant for name in names for variant in _variants(name)}
        synonyms.discard(display)
        concepts.append(Concept(code, display, (*sorted(synonyms), *extra.get(code, []))))
    return IndexedTerminology(name="icd10cm", system=SYSTEM, concepts=concepts)


def _variants(name: str) -> Iterator[str]:
    yield name
    # Most names carry none of these; one search skips the four rewrites (load time).
    if not _REWRITABLE.search(name):
        return
    for text in {name, _BRACKETED.sub("", name)}:
        text = _NOS.sub("", text).strip()
        yield text
        bare = _QUALIFIER_HEAD.sub("", _QUALIFIER_TAIL.sub("", text)).strip(" ,;:-")
        # A name that is nothing but a qualifier ("Unspecified") would match everything vague.
        if len(bare) >= 3:
            yield bare


@functools.cache
def billable(code: str) -> str:
    """``code`` if billable, else its single default billable descendant, else ``code``.

    The rule is in the module docstring; an unknown code is returned unchanged.
    """
    cm = _cm()
    if not cm.is_valid_item(code) or cm.is_leaf(code):
        return code
    own = _core(cm.get_description(code))
    leaves = [d for d in cm.get_descendants(code) if cm.is_leaf(d) and _core(cm.get_description(d)) == own]
    return leaves[0] if len(leaves) == 1 else code


def best_match(matches: list[Match]) -> Match | None:
    """The first of ``matches`` (a lookup, best first), moved to its billable leaf."""
    if not matches:
        return None
    best = matches[0]
    code = best.concept.code
    if _cm().is_valid_item(code) and not _cm().is_leaf(code):
        # A fuzzy hit is merely similar text, so it names no leaf.
        named = [
            m.concept.code for m in matches[1:] if m.kind != "fuzzy" and _is_leaf_below(m.concept.code, code)
        ]
        leaf = named[0] if len(named) == 1 else billable(code)
        concept = load().get(leaf)
        if concept is not None:
            return Match(concept, best.score, best.kind)
    return best


def _is_leaf_below(code: str, ancestor: str) -> bool:
    return bool(_cm().is_valid_item(code) and _cm().is_leaf(code) and _cm().is_ancestor(ancestor, code))


def _core(description: str) -> str:
    return normalise_term(_DEFAULT_QUALIFIERS.sub(" ", _BRACKETED.sub("", description.casefold())))


def curated_synonyms() -> list[tuple[str, str]]:
    """(term, code) pairs of the curated synonyms file; every code is checked to exist."""
    path = resources.files("clinex.terminology") / "data" / "icd10cm_synonyms.tsv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t"))
    bad = [row["code"] for row in rows if not _cm().is_valid_item(row["code"])]
    if bad:
        raise TerminologyError(f"icd10cm_synonyms.tsv names unknown codes: {', '.join(bad)}")
    return [(row["term"], row["code"]) for row in rows]


def normal_code(code: str) -> str:
    """``n44.8`` → ``N448``: upper case, no dot or spaces (CodiEsp writes both forms)."""
    return code.strip().upper().replace(".", "").replace(" ", "")


def looks_like_icd(code: str, system: str = SYSTEM) -> bool:
    """Whether a normalised code has the shape of an ICD-10-CM (or ICD-10-PCS) code."""
    return bool((_ICD_PCS if system == ICD10PCS else _ICD_CM).match(code))


@functools.cache
def chapter(code: str) -> str | None:
    """The ICD-10-CM chapter of a code, as its title's range (``I00-I99``); None if unknown."""
    cm = _cm()
    dotted = code.strip().upper()
    if "." not in dotted and len(dotted) > 3:
        dotted = f"{dotted[:3]}.{dotted[3:]}"
    try:
        top = cm.get_ancestors(dotted)[-1] if not cm.is_chapter(dotted) else dotted
        title = str(cm.get_description(top))
    except (ValueError, IndexError):
        return None
    return title[title.rfind("(") + 1 : -1] if title.endswith(")") else title
