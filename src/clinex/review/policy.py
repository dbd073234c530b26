"""The review policy: which extracted facts a person must decide before export, and which the
system may accept on its own.

A fact must be reviewed when any rule fires: its confidence is below ``review_below``, its type
is one of ``types``, one of the assertion ``flags`` is set on it, or its ICD-10-CM code lies in
one of ``chapters``. A fact no rule holds is auto-accepted when its confidence reaches
``auto_accept_above`` (the store records that as a decision of SYSTEM_REVIEWER).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from clinex.core.errors import ConfigError
from clinex.core.systems import ICD10CM
from clinex.core.types import ASSERTION_FLAGS, ENTITY_TYPES
from clinex.review.model import Fact

#: ICD-10-CM has 22 chapters; chapter 22 (U00-U85) is the last.
_CHAPTER_COUNT = 22


@dataclass(frozen=True, slots=True)
class FactReview:
    """What the policy says of one fact: must a person decide it (and why), or may the system
    accept it."""

    required: bool = False
    reason: str | None = None
    auto_accept: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewPolicy:
    """Which facts need a person (see the module docstring). The default requires nothing and
    auto-accepts nothing: every fact stays pending, none blocks export.

    ``chapters`` holds ICD-10-CM chapters as ``clinex.terminology.icd10cm.chapter`` names them
    (``"I00-I99"``); :meth:`from_mapping` also takes chapter numbers (9 → ``"I00-I99"``).
    """

    review_below: float | None = None
    types: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    chapters: tuple[str, ...] = ()
    auto_accept_above: float | None = None

    def __post_init__(self) -> None:
        for name in ("review_below", "auto_accept_above"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in 0..1, got {value!r}")
        for name, known in (("types", ENTITY_TYPES), ("flags", ASSERTION_FLAGS)):
            unknown = [v for v in getattr(self, name) if v not in known]
            if unknown:
                raise ValueError(f"{name}: unknown {unknown}; choose from {', '.join(known)}")
        if (
            self.review_below is not None
            and self.auto_accept_above is not None
            and self.auto_accept_above < self.review_below
        ):
            # Harmless (required wins) but almost surely a typo in the config.
            raise ValueError(
                f"auto_accept_above {self.auto_accept_above} is below review_below {self.review_below}"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> ReviewPolicy:
        """A policy from config (``{"review_below": 0.6, "types": ["tumor"], "flags":
        ["negated"], "chapters": ["C00-D49", 9], "auto_accept_above": 0.95}``); None or ``{}``
        is the default policy. ConfigError names an unknown key or a bad value."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"review policy must be a mapping, got {type(data).__name__}",
                hint="e.g. {review_below: 0.6, types: [tumor], auto_accept_above: 0.95}",
            )
        known = [f.name for f in fields(cls)]
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise ConfigError(
                f"review policy: unknown key(s) {', '.join(unknown)}",
                hint=f"the review policy takes: {', '.join(known)}",
            )
        values: dict[str, Any] = {}
        for name in ("review_below", "auto_accept_above"):
            if data.get(name) is not None:
                values[name] = _threshold(name, data[name])
        for name in ("types", "flags", "chapters"):
            if data.get(name) is not None:
                values[name] = _names(name, data[name])
        if "chapters" in values:
            values["chapters"] = tuple(_chapter(v) for v in values["chapters"])
        try:
            return cls(**values)
        except ValueError as exc:
            raise ConfigError(f"review policy: {exc}", hint="fix the value in the review policy") from None

    def assess(self, entity: Mapping[str, Any]) -> FactReview:
        """What the policy says of one fact in its JSONL form (``clinex.core.serialize``)."""
        reasons: list[str] = []
        confidence = _confidence(entity)
        if self.review_below is not None and confidence < self.review_below:
            reasons.append(f"confidence {confidence:.2f} < {self.review_below:g}")
        if entity.get("type") in self.types:
            reasons.append(f"type {entity['type']}")
        assertion = entity.get("assertion") or {}
        set_flags = [flag for flag in self.flags if assertion.get(flag)]
        if set_flags:
            reasons.append(f"assertion {', '.join(set_flags)}")
        if self.chapters:
            chapter = _icd_chapter(entity.get("code"))
            if chapter is not None and chapter in self.chapters:
                reasons.append(f"ICD-10-CM chapter {chapter}")
        if reasons:
            return FactReview(required=True, reason="; ".join(reasons))
        auto = self.auto_accept_above is not None and confidence >= self.auto_accept_above
        return FactReview(auto_accept=auto)


def open_reviews(facts: Sequence[Fact]) -> list[Fact]:
    """The facts the policy requires a person to decide that are still undecided."""
    return [fact for fact in facts if fact.required and fact.review_status == "pending"]


def _confidence(entity: Mapping[str, Any]) -> float:
    value = entity.get("confidence", 1.0)
    try:
        confidence = float(value if value is not None else 1.0)
    except (TypeError, ValueError):
        # An unreadable confidence must not slip past review_below: treat it as no confidence.
        return 0.0
    return confidence if math.isfinite(confidence) else 0.0


def _icd_chapter(code: object) -> str | None:
    if not isinstance(code, Mapping) or code.get("system") != ICD10CM or not code.get("code"):
        return None
    # Imported here: simple-icd-10-cm takes ~2 s to load, which a policy without chapters
    # (and `import clinex.review`) must not pay.
    from clinex.terminology.icd10cm import chapter

    return chapter(str(code["code"]))


def _threshold(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(
            f"review policy: {name} must be a number in 0..1, got {value!r}",
            hint=f"e.g. {name}: 0.6",
        )
    return float(value)


def _names(name: str, value: object) -> tuple[Any, ...]:
    if isinstance(value, str | int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ConfigError(
            f"review policy: {name} must be a list, got {type(value).__name__}",
            hint=f"e.g. {name}: [{'tumor' if name == 'types' else 'negated' if name == 'flags' else 'C00-D49'}]",
        )
    return tuple(value)


def _chapter(value: object) -> str:
    from clinex.terminology.icd10cm import chapter

    known = [chapter(str(n)) for n in range(1, _CHAPTER_COUNT + 1)]
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _CHAPTER_COUNT:
        return known[value - 1] or str(value)
    if isinstance(value, str):
        text = value.strip().upper()
        if text.isdigit() and 1 <= int(text) <= _CHAPTER_COUNT:
            return known[int(text) - 1] or text
        if text in known:
            return text
    raise ConfigError(
        f"review policy: chapters: unknown ICD-10-CM chapter {value!r}",
        hint=f"give a chapter number 1-{_CHAPTER_COUNT} or its range: {', '.join(str(k) for k in known)}",
    )
