"""A learned layer over the ConText rules: logistic models for the negated and historical flags.

Each mention is described by the sparse binary features of :mod:`clinex.assertion.features`.
One logistic model per flag in :data:`LEARNED_FLAGS` turns them into a probability; the flag is
set at the model's threshold.
The rules stay the input, so a cue ConText knows keeps working, while the weights learn what
the cues miss (e.g. "denies alcohol" in a social history, "redemonstrated") and where they
over-fire ("PATIENT HISTORY:" of a radiology request).

The packaged model (``data/assertion_model.json``) is trained by ``clinex train
configs/assertion.yaml`` on the NegEx/ConText annotated sentences and synthetic letters; its
cross-validated scores are stored in the file. Weights are plain JSON numbers: no torch here.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from clinex.assertion.context import SpanContext
from clinex.assertion.features import span_features
from clinex.core.errors import ModelError

#: The flags the learned layer decides; the others stay with the rules.
LEARNED_FLAGS: tuple[str, ...] = ("negated", "historical")
#: Flags the learned layer may add but never take away from the rules: ConText's historical
#: cues ("was discontinued", "status post") encode what clinex means by historical for drugs
#: and procedures, which the NegEx annotations (conditions only) say little about.
ADD_ONLY_FLAGS: frozenset[str] = frozenset({"historical"})
FORMAT_VERSION = 1
_REBUILD_HINT = (
    "rebuild it with `clinex train configs/assertion.yaml --set output=src/clinex/assertion/data/assertion_model.json` "
    "(or reinstall clinex)"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagModel:
    """One flag's logistic model: ``p = sigmoid(bias + Σ weights[f])``, set when ``p >= threshold``
    (or, with ``add_only``, also whenever the rules' cue set it)."""

    bias: float
    weights: Mapping[str, float]
    threshold: float = 0.5
    add_only: bool = False

    def decide(self, features: Iterable[str], cue: bool) -> bool:
        """Whether the flag is set, given the features and whether ConText's cue set it."""
        return (self.add_only and cue) or self.probability(features) >= self.threshold

    def probability(self, features: Iterable[str]) -> float:
        score = self.bias + sum(self.weights.get(f, 0.0) for f in features)
        # Written to never overflow for large negative scores.
        return 1.0 / (1.0 + math.exp(-score)) if score >= 0 else math.exp(score) / (1.0 + math.exp(score))


@dataclass(frozen=True, slots=True, kw_only=True)
class AssertionModel:
    """Logistic models for :data:`LEARNED_FLAGS`, and what they were trained and scored on."""

    flags: Mapping[str, FlagModel]
    info: Mapping[str, Any] = field(default_factory=dict)

    def flags_of(self, text: str, span: tuple[int, int], context: SpanContext) -> set[str]:
        """The flags of a mention: the model's for its flags, ConText's cues for the others."""
        features = span_features(text, span, context)
        decided = {f for f, m in self.flags.items() if m.decide(features, f in context.cues)}
        return decided | {cue for cue in context.cues if cue not in self.flags}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "flags": {
                name: {
                    "bias": round(m.bias, 4),
                    "threshold": m.threshold,
                    "add_only": m.add_only,
                    "weights": {f: round(w, 4) for f, w in sorted(m.weights.items()) if round(w, 4)},
                }
                for name, m in self.flags.items()
            },
            "info": dict(self.info),
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> AssertionModel:
        """Read a model file; a missing or malformed one raises ModelError naming it."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT_VERSION:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT_VERSION}")
            flags = {
                name: FlagModel(
                    bias=float(m["bias"]),
                    threshold=float(m["threshold"]),
                    add_only=bool(m.get("add_only", False)),
                    weights={str(f): float(w) for f, w in m["weights"].items()},
                )
                for name, m in data["flags"].items()
            }
        except FileNotFoundError:
            raise ModelError(f"assertion model missing: {path}", hint=_REBUILD_HINT) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelError(
                f"assertion model {path} is malformed ({type(exc).__name__})", hint=_REBUILD_HINT
            ) from None
        unknown = set(flags) - set(LEARNED_FLAGS)
        if unknown:
            raise ModelError(
                f"assertion model {path} has unknown flags {sorted(unknown)}", hint=_REBUILD_HINT
            )
        return cls(flags=flags, info=data.get("info", {}))


@functools.cache
def packaged_model() -> AssertionModel:
    """The model shipped in the package (loaded once)."""
    with resources.as_file(resources.files("clinex.assertion") / "data" / "assertion_model.json") as path:
        return AssertionModel.load(path)
