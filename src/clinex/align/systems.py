"""Code systems ``clinex align`` reads: their names, URIs, entity types and terminologies.

A code can be aligned when clinex holds a terminology for its system (ICD-10-CM, the LOINC and
RxNorm subsets) or the coded data gives its display (a FHIR ``Coding.display``, as Synthea's
SNOMED CT codes have). Any other code is reported as unreadable, never guessed at.
"""

from __future__ import annotations

import functools

from clinex.core import systems
from clinex.core.errors import ConfigError
from clinex.core.types import EntityType
from clinex.terminology._index import IndexedTerminology
from clinex.terminology.base import Terminology

#: Short names accepted by ``--system`` and in a TSV's system column.
NAMES: dict[str, str] = {
    "icd10cm": systems.ICD10CM,
    "icd10pcs": systems.ICD10PCS,
    "loinc": systems.LOINC,
    "rxnorm": systems.RXNORM,
    "snomed": systems.SNOMED,
    "atc": systems.ATC,
}
_SHORT = {uri: name for name, uri in NAMES.items()}
#: Systems with a terminology inside clinex, by URI: the registry name to load.
_TERMINOLOGIES = {systems.ICD10CM: "icd10cm", systems.LOINC: "loinc", systems.RXNORM: "rxnorm"}
_TYPES: dict[str, EntityType] = {
    systems.ICD10CM: "condition",
    systems.ICD10PCS: "procedure",
    systems.LOINC: "lab",
    systems.RXNORM: "medication",
    systems.ATC: "medication",
    systems.SNOMED: "condition",
}


def system_uri(value: str) -> str:
    """``icd10cm`` → its FHIR URI; a URI is kept; anything else raises ConfigError."""
    name = value.strip()
    if name.lower() in NAMES:
        return NAMES[name.lower()]
    if "://" in name or name.startswith(("urn:", "http")):
        return name
    raise ConfigError(
        f"unknown code system {name[:40]!r}",
        hint=f"use one of {', '.join(NAMES)}, or the system's URI",
    )


def short_name(uri: str) -> str:
    """The short name of a system URI (the URI itself where it has none)."""
    return _SHORT.get(uri, uri)


def entity_type(uri: str) -> EntityType:
    """The entity type a code of this system names when nothing else says (conditions)."""
    return _TYPES.get(uri, "condition")


@functools.cache
def terminology(uri: str) -> Terminology | None:
    """The terminology clinex holds for a system URI, or None."""
    name = _TERMINOLOGIES.get(uri)
    if name is None:
        return None
    from clinex.terminology import load

    return load(name)


def indexed(uri: str) -> IndexedTerminology | None:
    """:func:`terminology` where it is an in-memory index (all packaged ones are)."""
    found = terminology(uri)
    return found if isinstance(found, IndexedTerminology) else None


def code_key(uri: str, code: str) -> str:
    """The form of ``code`` its terminology keys it by: ICD-10-CM ``n44.8``/``N448`` → ``N44.8``."""
    code = code.strip()
    if uri == systems.ICD10CM:
        from clinex.terminology.icd10cm import normal_code

        plain = normal_code(code)
        return plain if len(plain) <= 3 else f"{plain[:3]}.{plain[3:]}"
    if uri == systems.ICD10PCS:
        return code.upper()
    return code
