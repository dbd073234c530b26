"""ICD-10-CM from ``simple-icd-10-cm``: every category and billable code, its description,
the ICD inclusion terms and the curated clinical synonyms in ``data/icd10cm_synonyms.tsv``."""

from __future__ import annotations

import csv
import functools
from importlib import resources

import simple_icd_10_cm as cm

from clinex.core.errors import TerminologyError
from clinex.terminology._index import IndexedTerminology
from clinex.terminology.base import Concept

SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"


@functools.cache
def load() -> IndexedTerminology:
    """The ICD-10-CM terminology (built once per process, ~1 s)."""
    extra: dict[str, list[str]] = {}
    for term, code in curated_synonyms():
        extra.setdefault(code, []).append(term)
    concepts = []
    for code in cm.get_all_codes(with_dots=True):
        if not cm.is_category_or_subcategory(code):
            continue
        inclusion = [t.removesuffix(" NOS") for t in cm.get_inclusion_term(code)]
        concepts.append(Concept(code, cm.get_description(code), tuple(inclusion + extra.get(code, []))))
    return IndexedTerminology(name="icd10cm", system=SYSTEM, concepts=concepts)


def curated_synonyms() -> list[tuple[str, str]]:
    """(term, code) pairs of the curated synonyms file; every code is checked to exist."""
    path = resources.files("clinex.terminology") / "data" / "icd10cm_synonyms.tsv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t"))
    bad = [row["code"] for row in rows if not cm.is_valid_item(row["code"])]
    if bad:
        raise TerminologyError(f"icd10cm_synonyms.tsv names unknown codes: {', '.join(bad)}")
    return [(row["term"], row["code"]) for row in rows]
