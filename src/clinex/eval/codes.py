"""Code systems and the normal forms codes and texts are compared in."""

from __future__ import annotations

import re
import unicodedata

from clinex.terminology.ucum import normalise_unit, parse_quantity

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"

#: Short names used in BRAT normalisations and reports.
SYSTEM_NAMES: dict[str, str] = {
    "ICD10CM": ICD10CM,
    "ICD10PCS": ICD10PCS,
    "RXNORM": RXNORM,
    "ATC": ATC,
    "LOINC": LOINC,
    "SNOMEDCT": SNOMED,
}

_ICD_CM = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")
# PCS codes are 7 characters; CodiEsp also lists their 3-4 character prefixes.
_ICD_PCS = re.compile(r"^[0-9A-HJ-NP-Z]{3,7}$")
_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")


def normal_code(code: str) -> str:
    """``n44.8`` → ``N448``: upper case, no dot or spaces (CodiEsp writes both forms)."""
    return code.strip().upper().replace(".", "").replace(" ", "")


def looks_like_icd(code: str, system: str = ICD10CM) -> bool:
    """Whether a normalised code has the shape of an ICD-10-CM (or ICD-10-PCS) code."""
    return bool((_ICD_PCS if system == ICD10PCS else _ICD_CM).match(code))


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
    the normaliser writes them), anything else by :func:`normal_text`."""
    if name == "dose" and (quantity := parse_quantity(value)) is not None and quantity.unit != "1":
        return normal_text(f"{quantity.value:g} {quantity.unit}")
    if name == "unit" and (unit := normalise_unit(value)) is not None:
        return normal_text(unit)
    return normal_text(value)
