import pytest

from clinex.eval.calibration import calibration


def test_ece_by_hand() -> None:
    # bin 0.9: confidence 0.9, accuracy 0.5 → gap 0.4 on 2; bin 0.2: 0.2 vs 0 → gap 0.2 on 2
    result = calibration([0.9, 0.9, 0.2, 0.2], [True, False, False, False], n_bins=10)
    assert result.ece == pytest.approx((2 * 0.4 + 2 * 0.2) / 4)
    filled = [b for b in result.bins if b.count]
    assert [(b.low, b.count, b.accuracy) for b in filled] == [(0.2, 2, 0.0), (0.9, 2, 0.5)]


def test_confidence_one_falls_in_the_last_bin_and_perfect_calibration_is_zero() -> None:
    result = calibration([1.0, 1.0], [True, True], n_bins=4)
    assert result.bins[-1].count == 2
    assert result.ece == 0.0


def test_no_predictions_has_no_ece() -> None:
    result = calibration([], [], n_bins=5)
    assert result.ece is None
    assert len(result.bins) == 5


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="length"):
        calibration([0.5], [], n_bins=5)
