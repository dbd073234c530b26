"""What a gold set can score: the entity types it annotates, the codes and attributes it carries,
and the categories the options select.

Scoring predictions against gold that does not annotate something turns every prediction of it
into a false positive: a code list without medications would give ``medications:code`` a
precision of 0, a gold set of conditions only would count every predicted medication against
``entities``. So a category is *not evaluated* (its metrics null, with a reason) when

1. ``categories`` names others (reason ``not in --categories``);
2. none of its types is annotated: the annotated types are ``types`` where given (``not in
   --types``), else the types the gold holds any entity of (``gold has no medication entities``);
3. it scores spans and the gold has none (document-level code lists);
4. it scores a code or attribute that no gold entity of the annotated types carries (``gold has
   no ICD-10-CM codes``).

A category over several types (``entities``) is scored over the annotated ones only: predictions
of the other types are left out of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from clinex.core.errors import ConfigError
from clinex.core.types import ENTITY_TYPES, Entity
from clinex.corpora import Corpus
from clinex.eval.categories import CATEGORIES, Category
from clinex.eval.doclevel import CODE_SETS

#: Every name ``categories`` may hold: the entity categories, then the document-level code sets.
CATEGORY_NAMES: tuple[str, ...] = (*CATEGORIES, *CODE_SETS)


def check_names(types: Sequence[str] | None, categories: Sequence[str] | None) -> None:
    """Raise ConfigError naming unknown entity types or category names, and the valid ones."""
    checks = (
        ("types", ("entity type", "entity types"), types, ENTITY_TYPES),
        ("categories", ("category", "categories"), categories, CATEGORY_NAMES),
    )
    for option, (one, many), given, valid in checks:
        if given is None:
            continue
        if not given:
            raise ConfigError(f"{option} names no {one}", hint=f"name at least one of: {', '.join(valid)}")
        unknown = [name for name in given if name not in valid]
        if unknown:
            raise ConfigError(
                f"{option}: unknown {one if len(unknown) == 1 else many} {', '.join(map(repr, unknown))}",
                hint=f"choose from: {', '.join(valid)}",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """The categories to score (restricted to the annotated types) and those left out, with why."""

    #: The entity types scored, in the order of ENTITY_TYPES.
    types: tuple[str, ...]
    #: "gold" where the types are those the gold holds, "--types" where the options named them.
    types_from: str
    categories: dict[str, Category]
    code_sets: dict[str, Category]
    #: Category name → why it is not evaluated.
    not_evaluated: dict[str, str]


def scope(
    gold: Corpus, *, types: Sequence[str] | None = None, categories: Sequence[str] | None = None
) -> Scope:
    """The scope of scoring against ``gold`` (see the module docstring)."""
    check_names(types, categories)
    entities = [e for doc in gold.documents.values() for e in doc.entities]
    held = {e.type for e in entities}
    annotated = tuple(t for t in ENTITY_TYPES if (t in types if types is not None else t in held))
    chosen: dict[str, Category] = {}
    not_evaluated: dict[str, str] = {}
    for name, category in (*CATEGORIES.items(), *CODE_SETS.items()):
        kept = tuple(t for t in category.types if t in annotated)
        reason = _reason(name, category, kept, entities, gold.grounded, types=types, categories=categories)
        if reason is not None:
            not_evaluated[name] = reason
        elif kept == category.types:
            chosen[name] = category
        else:
            description = f"{category.description}, over the annotated types: {', '.join(kept)}"
            chosen[name] = replace(category, types=kept, description=description)
    return Scope(
        types=annotated,
        types_from="gold" if types is None else "--types",
        categories={n: c for n, c in chosen.items() if n in CATEGORIES},
        code_sets={n: c for n, c in chosen.items() if n in CODE_SETS},
        not_evaluated=not_evaluated,
    )


def _reason(
    name: str,
    category: Category,
    kept: tuple[str, ...],
    entities: list[Entity],
    grounded: bool,
    *,
    types: Sequence[str] | None,
    categories: Sequence[str] | None,
) -> str | None:
    if categories is not None and name not in categories:
        return "not in --categories"
    if not kept:
        if types is not None:
            return "not in --types"
        return (
            f"gold has no {category.types[0]} entities"
            if len(category.types) == 1
            else "gold has no entities"
        )
    if category.needs_spans and not grounded:
        return "gold has no spans (document-level codes only)"
    carries = category.annotated
    if carries is not None and not any(e.type in kept and carries(e) for e in entities):
        return f"gold has no {category.needs}"
    return None
