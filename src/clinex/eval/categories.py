"""What is scored: entity types, the JMIR-study categories, attributes and code sets.

Each category selects entities by type and gives each a *key*; a gold and a predicted entity
match when their keys are equal and their spans agree under the match mode. An entity whose key
is None does not take part (e.g. a condition without an ICD-10-CM code in ``diagnoses``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clinex.core.systems import ATC, ICD10CM, RXNORM
from clinex.core.types import ENTITY_TYPES, Entity
from clinex.eval.codes import icd_category, normal_attribute
from clinex.terminology.icd10cm import normal_code

Key = Callable[[Entity], "str | None"]


@dataclass(frozen=True, slots=True)
class Category:
    """A named way of scoring: which entity types, what must agree beyond the span."""

    name: str
    description: str
    types: tuple[str, ...]
    key: Key
    #: True when the key says nothing beyond the span: meaningless against span-less gold.
    needs_spans: bool = True


def _type(entity: Entity) -> str:
    return entity.type


def _icd(entity: Entity) -> str | None:
    code = entity.code
    return normal_code(code.code) if code is not None and code.system == ICD10CM else None


def _icd3(entity: Entity) -> str | None:
    code = _icd(entity)
    return None if code is None else icd_category(code)


def _drug_code(entity: Entity) -> str | None:
    code = entity.code
    return f"{code.system}|{code.code}" if code is not None and code.system in (RXNORM, ATC) else None


def _any_code(entity: Entity) -> str | None:
    code = entity.code
    return None if code is None else f"{code.system}|{normal_code(code.code)}"


def _attributes(*names: str) -> Key:
    def key(entity: Entity) -> str:
        return "|".join(normal_attribute(name, entity.attributes.get(name, "")) for name in names)

    return key


def _attribute(name: str) -> Key:
    def key(entity: Entity) -> str | None:
        value = entity.attributes.get(name)
        return None if value is None else normal_attribute(name, value)

    return key


#: Attributes scored one by one, with the entity types that carry them.
SCORED_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "dose": ("medication",),
    "route": ("medication",),
    "frequency": ("medication",),
    "value": ("lab",),
    "unit": ("lab",),
    "tnm": ("tumor",),
    "histology": ("tumor",),
    "grade": ("tumor",),
}


def _build() -> dict[str, Category]:
    categories = [
        Category("entities", "all entities: type and span", ENTITY_TYPES, _type),
        *(Category(f"entities:{t}", f"{t} entities: span", (t,), _type) for t in ENTITY_TYPES),
        Category(
            "diagnoses", "conditions with their ICD-10-CM code", ("condition",), _icd, needs_spans=False
        ),
        Category(
            "diagnoses:3char",
            "conditions with the ICD-10-CM 3-character category",
            ("condition",),
            _icd3,
            needs_spans=False,
        ),
        Category("medications+dose", "medication name and dose", ("medication",), _attributes("dose")),
        Category(
            "medications:code",
            "medications with their RxNorm or ATC code",
            ("medication",),
            _drug_code,
            needs_spans=False,
        ),
        Category("labs", "lab name, value and unit", ("lab",), _attributes("value", "unit")),
        Category("procedures", "procedures with their code", ("procedure",), _any_code, needs_spans=False),
        Category(
            "tumour",
            "tumour with TNM, histology and grade",
            ("tumor",),
            _attributes("tnm", "histology", "grade"),
        ),
        *(
            Category(f"attribute:{name}", f"{name} of {'/'.join(types)} entities", types, _attribute(name))
            for name, types in SCORED_ATTRIBUTES.items()
        ),
    ]
    return {c.name: c for c in categories}


CATEGORIES: dict[str, Category] = _build()
