"""A monitor run written out: ``monitor.json`` (every signal, flat) and ``monitor.html`` (one
offline page: the verdict, a table of signals by status, histograms, what moved each signal).
Neither holds note text beyond header names and the terms that tell CUR from REF."""

from __future__ import annotations

import base64
import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from clinex.core.errors import ConfigError
from clinex.monitor.run import MonitorReport
from clinex.monitor.signals import Signal

_ENVIRONMENT = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEMPLATE = "monitor.html.jinja"


def write_report(report: MonitorReport, folder: Path) -> tuple[Path, Path]:
    """Write ``monitor.json`` and ``monitor.html`` into ``folder`` (created); their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    data = report.to_dict()
    json_path = folder / "monitor.json"
    json_path.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    html_path = folder / "monitor.html"
    html_path.write_text(render_html(report, data), encoding="utf-8")
    return json_path, html_path


def render_html(report: MonitorReport, data: dict[str, Any] | None = None) -> str:
    data = data or report.to_dict()
    plots = {s.name: _histogram_png(s) for s in report.signals if _has_histogram(s)}
    template = _ENVIRONMENT.from_string(
        resources.files("clinex.monitor").joinpath(_TEMPLATE).read_text("utf-8")
    )
    return template.render(report=data, plots=plots)


def _has_histogram(signal: Signal) -> bool:
    return isinstance(signal.ref, dict) and "histogram" in signal.ref and isinstance(signal.cur, dict)


def _histogram_png(signal: Signal) -> str:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ConfigError(
            "the monitor's HTML report needs matplotlib", hint="pip install 'clinex[monitor]'"
        ) from None
    ref, cur = signal.ref["histogram"], signal.cur["histogram"]
    bins = len(ref)
    figure = Figure(figsize=(4.2, 2.6))
    axes = figure.add_subplot()
    centres = [(i + 0.5) / bins for i in range(bins)]
    width = 0.4 / bins
    total_ref, total_cur = sum(ref) or 1, sum(cur) or 1
    axes.bar([c - width / 2 for c in centres], [v / total_ref for v in ref], width, label="REF")
    axes.bar([c + width / 2 for c in centres], [v / total_cur for v in cur], width, label="CUR")
    axes.set_xlim(0, 1)
    axes.set_xlabel("confidence")
    axes.set_ylabel("share of facts")
    axes.set_title(signal.name, fontsize="medium")
    axes.legend(fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
