"""The report's plots as PNG bytes (matplotlib, no display needed)."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

from clinex.eval.assertions import CLASSES, AssertionScores
from clinex.eval.calibration import Calibration
from clinex.eval.results import Report


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def category_bars(report: Report) -> bytes:
    """Micro F1 per category, one bar per run, with bootstrap intervals as error bars."""
    names = list(dict.fromkeys(n for run in report.runs for n in run.categories))
    width = 0.8 / len(report.runs)
    figure = Figure(figsize=(max(6.0, 0.55 * len(names) * max(1, len(report.runs) / 2)), 4.2))
    axes = figure.add_subplot()
    positions = np.arange(len(names))
    for i, run in enumerate(report.runs):
        values, low, high = [], [], []
        for name in names:
            result = run.categories.get(name)
            f = None if result is None else result.micro.fscore
            ci = None if result is None else result.ci.get("f")
            values.append(f if f is not None else 0.0)
            low.append(0.0 if f is None or ci is None else max(0.0, f - ci[0]))
            high.append(0.0 if f is None or ci is None else max(0.0, ci[1] - f))
        axes.bar(positions + i * width, values, width, yerr=[low, high], capsize=2, label=run.name)
    axes.set_xticks(positions + width * (len(report.runs) - 1) / 2, names, rotation=45, ha="right")
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("micro F1")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def reliability_diagram(calibration: Calibration, title: str) -> bytes:
    """Accuracy against mean confidence per bin, with the diagonal of perfect calibration."""
    figure = Figure(figsize=(4.2, 4.2))
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    filled = [b for b in calibration.bins if b.count]
    centres = [(b.low + b.high) / 2 for b in filled]
    axes.bar(
        centres,
        [b.accuracy or 0.0 for b in filled],
        width=calibration.bins[0].high,
        alpha=0.6,
        edgecolor="black",
    )
    axes.plot(
        [b.confidence or 0.0 for b in filled],
        [b.accuracy or 0.0 for b in filled],
        marker="o",
        color="tab:red",
    )
    ece = "—" if calibration.ece is None else f"{calibration.ece:.3f}"
    axes.set_title(f"{title}: ECE {ece} (n={calibration.count})", fontsize="medium")
    axes.set_xlabel("confidence")
    axes.set_ylabel("accuracy (matched)")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.05)
    return _png(figure)


def assertion_confusion(scores: AssertionScores, title: str) -> bytes:
    """Gold (rows) against predicted (columns) assertion classes, counts in the cells."""
    matrix = np.array([[scores.confusion[g][p] for p in CLASSES] for g in CLASSES])
    figure = Figure(figsize=(5.2, 4.4))
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(CLASSES)), CLASSES, rotation=45, ha="right")
    axes.set_yticks(range(len(CLASSES)), CLASSES)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title, fontsize="medium")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(
            column, row, str(count), ha="center", va="center", color="white" if count > threshold else "black"
        )
    figure.colorbar(image, ax=axes, fraction=0.046)
    return _png(figure)
