"""Which drug a medication mention names: its ingredients, read from its RxNorm code where it
has one, else from its name (:mod:`clinex.terminology.drugs`: brands and synonyms included,
never a fuzzy match), else its name itself, as one key per drug."""

from __future__ import annotations

from collections.abc import Iterable

from clinex.core.systems import RXNORM
from clinex.core.types import Entity
from clinex.terminology import drugs


def ingredient_key(names: Iterable[str]) -> str:
    """One key for a set of ingredient names: base names (no salts), sorted, joined by ``+``."""
    return " + ".join(sorted({drugs.base_name(name) for name in names}))


def drug_keys(entity: Entity) -> list[str]:
    """The keys a medication mention may be known by, surest first: the ingredients of its
    RxNorm concept, the ingredients its name names, its name (without salts)."""
    coder = drugs.packaged_coder()
    keys: list[str] = []
    if entity.code is not None and entity.code.system == RXNORM:
        concept = coder.terminology.get(entity.code.code)
        product = drugs.parse_product(concept) if concept is not None else None
        if product is not None:
            keys.append(ingredient_key(product.ingredients))
    named = coder.ingredients_named(entity.text)
    if named is not None:
        keys.append(ingredient_key(named[0]))
    keys.append(ingredient_key(part for part in entity.text.split(" + ")))
    return [key for key in dict.fromkeys(keys) if key]


def drug_key(entity: Entity) -> str | None:
    """The surest key of :func:`drug_keys`, or None for a mention with no name."""
    keys = drug_keys(entity)
    return keys[0] if keys else None
