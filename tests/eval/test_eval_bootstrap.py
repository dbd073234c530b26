import numpy as np
import pytest

from clinex.eval.bootstrap import confidence_intervals, paired_test, resample_indices


def test_identical_documents_give_a_degenerate_interval() -> None:
    counts = np.array([[1, 1, 0]] * 5, dtype=np.int64)  # every document: P 0.5, R 1
    ci = confidence_intervals(counts, resample_indices(5, 200, seed=1), 0.95)
    assert ci["p"] == pytest.approx((0.5, 0.5))
    assert ci["r"] == pytest.approx((1.0, 1.0))


def test_interval_brackets_the_point_estimate_and_is_seeded() -> None:
    counts = np.array([[3, 0, 0], [0, 2, 1], [1, 1, 1], [2, 0, 1], [0, 0, 2]], dtype=np.int64)
    tp, fp, fn = counts.sum(axis=0)
    f = 2 * tp / (2 * tp + fp + fn)
    indices = resample_indices(5, 500, seed=7)
    low, high = confidence_intervals(counts, indices, 0.95)["f"]  # type: ignore[misc]
    assert low < f < high
    assert confidence_intervals(counts, resample_indices(5, 500, seed=7), 0.95) == confidence_intervals(
        counts, indices, 0.95
    )


def test_undefined_metric_has_no_interval() -> None:
    counts = np.array([[0, 0, 2], [0, 0, 1]], dtype=np.int64)  # no predictions anywhere
    ci = confidence_intervals(counts, resample_indices(2, 50, seed=0), 0.95)
    assert ci["p"] is None
    assert ci["r"] == (0.0, 0.0)
    assert confidence_intervals(counts, resample_indices(2, 0, seed=0), 0.95)["f"] is None


def test_paired_test_of_a_run_against_itself_finds_no_difference() -> None:
    counts = np.array([[1, 0, 1], [2, 1, 0], [0, 1, 1]], dtype=np.int64)
    test = paired_test(counts, counts, resample_indices(3, 100, seed=0), 0.95, category="x", names=("a", "b"))
    assert test.delta == 0.0
    assert test.p_value == 1.0


def test_paired_test_of_a_uniformly_better_run() -> None:
    worse = np.array([[1, 1, 1]] * 10, dtype=np.int64)  # F1 0.5 in every document
    better = np.array([[2, 0, 0]] * 10, dtype=np.int64)  # F1 1.0 in every document
    test = paired_test(worse, better, resample_indices(10, 99, seed=0), 0.95, category="x", names=("a", "b"))
    assert test.delta == pytest.approx(0.5)
    assert test.interval == pytest.approx((0.5, 0.5))
    assert test.p_value == pytest.approx(2 * 1 / 100)  # no resample at or below zero: (0 + 1) / (B + 1)
