"""The HTML report: one self-contained file, plots embedded as base64 PNG, opens offline."""

from __future__ import annotations

import base64
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from clinex.core.errors import ConfigError
from clinex.core.types import ENTITY_TYPES
from clinex.eval import _format
from clinex.eval.results import Report

_ENVIRONMENT = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
# Beside this module (not in a sub-folder) so the package-data pattern "*.jinja" ships it.
_TEMPLATE = "report.html.jinja"


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def render_html(report: Report) -> str:
    """The report as one HTML page (note text appears only in the error examples)."""
    try:
        from clinex.eval import plots
    except ImportError:
        raise ConfigError(
            "the HTML report needs matplotlib", hint="install the eval extra: pip install 'clinex[eval]'"
        ) from None
    rendered_plots: dict[str, Any] = {
        "bars": _b64(plots.category_bars(report)),
        "confusion": {
            run.name: _b64(plots.assertion_confusion(run.assertion, run.name))
            for run in report.runs
            if run.assertion is not None
        },
        "reliability": {
            run.name: _b64(plots.reliability_diagram(run.calibration, run.name))
            for run in report.runs
            if run.calibration is not None
        },
    }
    comparison = {
        "names": list(dict.fromkeys(n for run in report.runs for n in run.categories)),
        "f1": {
            run.name: {n: _format.number(r.micro.fscore) for n, r in run.categories.items()}
            for run in report.runs
        },
        "tests": {(t.other, t.category): t for t in report.tests},
    }
    # The category whose subgroup table is shown in full: the run's reference where it was scored.
    subgroup_reference = {
        run.name: run.reference if run.reference in run.categories else next(iter(run.categories), "")
        for run in report.runs
    }
    template = _ENVIRONMENT.from_string(resources.files("clinex.eval").joinpath(_TEMPLATE).read_text("utf-8"))
    return template.render(
        report=report,
        plots=rendered_plots,
        comparison=comparison,
        fmt=_format,
        entity_types=ENTITY_TYPES,
        subgroup_reference=subgroup_reference,
    )


def write_report(report: Report, folder: Path) -> tuple[Path, Path]:
    """Write ``metrics.json`` and ``report.html`` into ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    metrics = folder / "metrics.json"
    metrics.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    html = folder / "report.html"
    html.write_text(render_html(report), encoding="utf-8")
    return metrics, html
