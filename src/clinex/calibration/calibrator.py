"""A fitted map from an extractor's raw confidence to the probability that a fact is correct.

A :class:`Calibrator` holds one monotone, piecewise-linear :class:`Curve` per entity type (and a
pooled curve for types with too little data), fitted for one extractor and, where the extractor
declares one, one model checksum. Applying it only interpolates (numpy): fitting lives in
:mod:`clinex.calibration.fitting`. Correct means what the fitting data's gold says: the same
span and type, strictly (:mod:`clinex.eval.matching`).

Calibrated confidences are never calibrated again: :meth:`Calibrator.apply` is run once by the
pipeline, and ``Document.meta["calibration"]`` says which calibrator it was.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from clinex.core.errors import ConfigError, InputError
from clinex.core.types import Entity

#: The format written in every calibrator file.
FORMAT = "clinex.calibrator.v1"
#: The curve used for a type the calibrator has no curve of.
POOLED = "*"


@dataclass(frozen=True, slots=True)
class Curve:
    """A non-decreasing piecewise-linear map of [0, 1] into [0, 1] through points (x, y)."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    method: str = "isotonic"

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y) or not self.x:
            raise ValueError("a curve needs as many y as x values, at least one")
        if any(b < a for a, b in zip(self.x, self.x[1:], strict=False)):
            raise ValueError("curve x values must be sorted")
        if any(b < a - 1e-12 for a, b in zip(self.y, self.y[1:], strict=False)):
            raise ValueError("curve y values must not decrease (a calibrator keeps the ranking)")
        if not all(0.0 <= v <= 1.0 for v in (*self.x, *self.y)):
            raise ValueError("curve points must lie in [0, 1]")

    def __call__(self, scores: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
        return np.interp(np.asarray(scores, dtype=np.float64), self.x, self.y)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Curve:
        return cls(
            tuple(float(v) for v in value["x"]),
            tuple(float(v) for v in value["y"]),
            str(value.get("method", "isotonic")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibrator:
    """Curves per entity type for one extractor (and model), with what they were fitted on."""

    extractor: str
    curves: Mapping[str, Curve]
    #: The model checksum the curves hold for (None: any model of this extractor).
    model_checksum: str | None = None
    #: What it was fitted on and how well it did: data sources, counts, ECE before and after.
    fitted: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.curves:
            raise ValueError("a calibrator needs at least one curve")

    def curve(self, entity_type: str) -> Curve | None:
        return self.curves.get(entity_type) or self.curves.get(POOLED)

    def scores(self, entity_type: str, raw: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
        """Calibrated confidences of raw ones of one type (unchanged where it has no curve)."""
        curve = self.curve(entity_type)
        values = np.asarray(raw, dtype=np.float64)
        return values if curve is None else np.clip(curve(values), 0.0, 1.0)

    def apply(self, entities: Sequence[Entity]) -> list[Entity]:
        """``entities`` with calibrated confidences (rounded as the JSONL record rounds them)."""
        return [e.with_(confidence=round(float(self.scores(e.type, [e.confidence])[0]), 4)) for e in entities]

    def fits(self, extractor: str, provenance: Mapping[str, Any]) -> bool:
        """Whether this calibrator was fitted for this extractor and its model."""
        if extractor != self.extractor:
            return False
        return self.model_checksum is None or provenance.get("checksum") == self.model_checksum

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "extractor": self.extractor,
            "model_checksum": self.model_checksum,
            "curves": {name: curve.to_dict() for name, curve in sorted(self.curves.items())},
            "fitted": dict(self.fitted),
        }

    @property
    def digest(self) -> str:
        """sha256 of the curves and what they are for (recorded in each Document's meta)."""
        body = {k: v for k, v in self.to_dict().items() if k != "fitted"}
        return "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]

    def provenance(self, source: str) -> dict[str, Any]:
        """What ``Document.meta["calibration"]`` records: where it came from, its digest and
        the held-out figure it was shipped with."""
        out: dict[str, Any] = {"source": source, "digest": self.digest, "extractor": self.extractor}
        if "fit_on" in self.fitted:
            out["fit_on"] = self.fitted["fit_on"]
        return out

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, value: Mapping[str, Any], *, source: str = "calibrator") -> Calibrator:
        if value.get("format") != FORMAT:
            raise InputError(
                f"{source} is not a clinex calibrator (format {value.get('format')!r})",
                hint=f"write one with `clinex calibrate GOLD PRED -o FILE` (format {FORMAT})",
            )
        try:
            return cls(
                extractor=str(value["extractor"]),
                model_checksum=value.get("model_checksum"),
                curves={str(k): Curve.from_dict(v) for k, v in value["curves"].items()},
                fitted=dict(value.get("fitted") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{source}: malformed calibrator ({exc})", hint="fit it again") from None


def load_calibrator(path: Path) -> Calibrator:
    """A calibrator file; a missing or malformed one raises InputError naming it."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"calibrator {path}: no such file", hint="check the path") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(
            f"calibrator {path} is not JSON", hint="give a file written by clinex calibrate"
        ) from None
    if not isinstance(value, dict):
        raise InputError(
            f"calibrator {path} is not a JSON object", hint="give a file written by clinex calibrate"
        )
    return Calibrator.from_dict(value, source=str(path))


@functools.cache
def packaged_calibrators() -> dict[str, Calibrator]:
    """The calibrators shipped in the package, by file name."""
    folder = resources.files("clinex.calibration") / "data"
    out = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json"):
            out[item.name] = Calibrator.from_dict(json.loads(item.read_text("utf-8")), source=item.name)
    return out


def packaged_for(extractor: str, provenance: Mapping[str, Any]) -> tuple[str, Calibrator] | None:
    """The shipped calibrator fitted for this extractor and model, with its file name, if any."""
    for name, calibrator in packaged_calibrators().items():
        if calibrator.fits(extractor, provenance):
            return f"packaged:{name}", calibrator
    return None


def resolve(
    setting: str | Path | Calibrator | None, extractor: str, provenance: Mapping[str, Any]
) -> tuple[str, Calibrator] | None:
    """The calibrator a pipeline runs: ``"default"`` the shipped one for this extractor and
    model (None where none was fitted for it), ``"none"``/None no calibration, a path or a
    :class:`Calibrator` that one — refused with ConfigError if it was fitted for another
    extractor or model."""
    if setting is None or setting == "none":
        return None
    if setting == "default":
        return packaged_for(extractor, provenance)
    if isinstance(setting, Calibrator):
        source, calibrator = "given", setting
    else:
        source, calibrator = str(setting), load_calibrator(Path(setting))
    if not calibrator.fits(extractor, provenance):
        raise ConfigError(
            f"calibrator {source} was fitted for {calibrator.extractor}"
            + (f" with model {calibrator.model_checksum}" if calibrator.model_checksum else "")
            + f", not for {extractor} with model {provenance.get('checksum')}",
            hint="fit one on this extractor's output with `clinex calibrate`, or give --calibration none",
        )
    return source, calibrator
