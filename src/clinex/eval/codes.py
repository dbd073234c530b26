"""The normal forms codes, texts and attributes are compared in."""

from __future__ import annotations

import re
import unicodedata

from clinex.terminology import attributes
from clinex.terminology.icd10cm import normal_code
from clinex.terminology.ucum import normalise_unit, parse_quantity

_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")


def icd_category(code: str) -> str:
    """The 3-character ICD-10 category of a code (``E119`` → ``E11``)."""
    return normal_code(code)[:3]


def normal_text(text: str) -> str:
    """Text compared case-, accent-, punctuation- and whitespace-insensitively."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _SPACE.sub(" ", _PUNCT.sub(" ", folded)).strip()


def normal_attribute(name: str, value: str) -> str:
    """An attribute in the form gold and prediction are compared in: a dose or unit in its UCUM
    spelling when it has one ("325mg" = "325 mg", "0,1mg/ml" = "0.1 mg/mL", "bpm" = "/min", as
    the normaliser writes them), a route or frequency by its canonical name in
    :mod:`clinex.terminology.attributes` ("p.o." = "oral", "1-0-1" = "twice daily"), anything
    else by :func:`normal_text`."""
    if name == "dose" and (quantity := parse_quantity(value)) is not None and quantity.unit != "1":
        return normal_text(f"{quantity.value:g} {quantity.unit}")
    if name == "unit" and (unit := normalise_unit(value)) is not None:
        return normal_text(unit)
    if name == "route":
        return normal_text(attributes.canonical_route(value))
    if name == "frequency":
        return normal_text(attributes.canonical_frequency(value))
    return normal_text(value)
