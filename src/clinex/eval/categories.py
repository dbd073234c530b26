"""What is scored: entity types, the JMIR-study categories, attributes and code sets.

Each category selects entities by type and gives each a *key*; a gold and a predicted entity
match when their keys are equal and their spans agree under the match mode. An entity whose key
is None does not take part (e.g. a condition without an ICD-10-CM code in ``diagnoses``).

A category that scores more than type and span (a code, a dose) also says how to tell that a gold
entity carries it: a gold set where none does cannot score that category (see
:mod:`clinex.eval.scope`).
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
    #: Whether a gold entity carries what the category scores beyond type and span (None: any
    #: entity of its types does).
    annotated: Callable[[Entity], bool] | None = None
    #: What a gold set without any such entity lacks, for the reason it is not evaluated.
    needs: str = ""


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


def _has(key: Key) -> Callable[[Entity], bool]:
    def annotated(entity: Entity) -> bool:
        return key(entity) is not None

    return annotated


def _any_attribute(*names: str) -> Callable[[Entity], bool]:
    def annotated(entity: Entity) -> bool:
        return any(name in entity.attributes for name in names)

    return annotated


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
            "diagnoses",
            "conditions with their ICD-10-CM code",
            ("condition",),
            _icd,
            needs_spans=False,
            annotated=_has(_icd),
            needs="ICD-10-CM codes",
        ),
        Category(
            "diagnoses:3char",
            "conditions with the ICD-10-CM 3-character category",
            ("condition",),
            _icd3,
            needs_spans=False,
            annotated=_has(_icd),
            needs="ICD-10-CM codes",
        ),
        Category(
            "medications+dose",
            "medication name and dose",
            ("medication",),
            _attributes("dose"),
            annotated=_any_attribute("dose"),
            needs="medication doses",
        ),
        Category(
            "medications:code",
            "medications with their RxNorm or ATC code",
            ("medication",),
            _drug_code,
            needs_spans=False,
            annotated=_has(_drug_code),
            needs="RxNorm or ATC codes",
        ),
        Category(
            "labs",
            "lab name, value and unit",
            ("lab",),
            _attributes("value", "unit"),
            annotated=_any_attribute("value", "unit"),
            needs="lab values or units",
        ),
        Category(
            "procedures",
            "procedures with their code",
            ("procedure",),
            _any_code,
            needs_spans=False,
            annotated=_has(_any_code),
            needs="procedure codes",
        ),
        Category(
            "tumour",
            "tumour with TNM, histology and grade",
            ("tumor",),
            _attributes("tnm", "histology", "grade"),
            annotated=_any_attribute("tnm", "histology", "grade"),
            needs="tumour TNM, histology or grade",
        ),
        *(
            Category(
                f"attribute:{name}",
                f"{name} of {'/'.join(types)} entities",
                types,
                _attribute(name),
                annotated=_has(_attribute(name)),
                needs=f"{name} attributes",
            )
            for name, types in SCORED_ATTRIBUTES.items()
        ),
    ]
    return {c.name: c for c in categories}


CATEGORIES: dict[str, Category] = _build()
