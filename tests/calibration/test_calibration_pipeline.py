"""Calibrators in the pipeline: the shipped ones, files, refusals, --min-confidence after calibration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import clinex
from clinex.calibration.calibrator import Calibrator, Curve, load_calibrator, packaged_calibrators
from clinex.core.errors import ConfigError, InputError
from clinex.pipeline import Pipeline, load_extractor

NOTE = "History of hypertension. No fever.\nMetformin 500 mg orally twice daily.\nHaemoglobin 12.1 g/dL.\n"


def test_the_rules_extractor_is_calibrated_by_default_with_the_shipped_curves() -> None:
    raw = clinex.extract(NOTE, extractor="rules", calibration="none")
    calibrated = clinex.extract(NOTE, extractor="rules")
    assert "calibration" not in raw.meta
    assert calibrated.meta["calibration"]["source"] == "packaged:rules.json"
    shipped = packaged_calibrators()["rules.json"]
    assert calibrated.meta["calibration"]["digest"] == shipped.digest
    assert [e.text for e in raw.entities] == [e.text for e in calibrated.entities]
    for before, after in zip(raw.entities, calibrated.entities, strict=True):
        expected = float(shipped.scores(before.type, [before.confidence])[0])
        assert after.confidence == pytest.approx(expected, abs=1e-4)
    assert [e.confidence for e in raw.entities] != [e.confidence for e in calibrated.entities]


@pytest.mark.parametrize("name", ["rules", "encoder"])
def test_every_shipped_calibrator_fits_the_shipped_extractor(name: str) -> None:
    """A retrained model or a changed lexicon must come with a refitted calibrator."""
    pipeline = Pipeline(load_extractor(name))
    assert pipeline.calibration is not None, (
        f"no shipped calibrator fits {name}: refit it (benchmarks/calibration.py)"
    )
    assert pipeline.calibration[0] == f"packaged:{name}.json"


def test_min_confidence_applies_to_the_calibrated_confidence() -> None:
    everything = clinex.extract(NOTE, extractor="rules")
    threshold = sorted({e.confidence for e in everything.entities})[1]
    kept = clinex.extract(NOTE, extractor="rules", min_confidence=threshold)
    assert kept.entities and all(e.confidence >= threshold for e in kept.entities)
    assert len(kept.entities) < len(everything.entities)


def test_a_calibrator_file_is_applied_and_recorded(tmp_path: Path) -> None:
    flat = Calibrator(extractor="rules.v2", curves={"*": Curve((0.0, 1.0), (0.3, 0.3))})
    path = tmp_path / "flat.json"
    flat.save(path)
    doc = clinex.extract(NOTE, extractor="rules", calibration=path)
    assert {e.confidence for e in doc.entities} == {0.3}
    assert doc.meta["calibration"] == {"source": str(path), "digest": flat.digest, "extractor": "rules.v2"}
    assert load_calibrator(path) == flat


def test_a_calibrator_of_another_extractor_or_model_is_refused(tmp_path: Path) -> None:
    other = Calibrator(extractor="encoder.v1", curves={"*": Curve((0.0, 1.0), (0.0, 1.0))})
    with pytest.raises(ConfigError, match=r"fitted for encoder\.v1"):
        clinex.extract(NOTE, extractor="rules", calibration=other)
    stale = Calibrator(extractor="rules.v2", model_checksum="sha256:old", curves={"*": Curve((0.0,), (0.5,))})
    with pytest.raises(ConfigError, match="with model sha256:old"):
        clinex.extract(NOTE, extractor="rules", calibration=stale)


def test_bad_calibrator_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_calibrator(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="is not JSON"):
        load_calibrator(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something"}), encoding="utf-8")
    with pytest.raises(InputError, match="not a clinex calibrator"):
        load_calibrator(tmp_path / "other.json")
    (tmp_path / "broken.json").write_text(
        json.dumps(
            {
                "format": "clinex.calibrator.v1",
                "extractor": "rules.v2",
                "curves": {"*": {"x": [0, 1], "y": [1, 0]}},
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="malformed calibrator"):
        load_calibrator(tmp_path / "broken.json")


def test_the_digest_changes_with_the_curves_and_not_with_the_fit_record() -> None:
    a = Calibrator(extractor="rules.v2", curves={"*": Curve((0.0, 1.0), (0.1, 0.9))}, fitted={"n": 1})
    b = Calibrator(extractor="rules.v2", curves={"*": Curve((0.0, 1.0), (0.1, 0.9))}, fitted={"n": 2})
    c = Calibrator(extractor="rules.v2", curves={"*": Curve((0.0, 1.0), (0.1, 0.8))})
    assert a.digest == b.digest != c.digest
    assert Calibrator.from_dict(a.to_dict()) == a
