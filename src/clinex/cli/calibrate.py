"""`clinex calibrate`: fit confidence calibration on labelled notes, or measure a calibrator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from clinex.cli._errors import user_errors
from clinex.core.errors import ConfigError


def calibrate(
    gold: Annotated[
        Path, typer.Argument(help="Gold annotations of the notes (JSONL, FHIR, BRAT, maccrobat ...).")
    ],
    pred: Annotated[
        Path,
        typer.Argument(
            help="The extractor's output on them with raw scores (clinex extract --calibration none)."
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Write the fitted calibrator here (JSON).")
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option(
            "--check", help="Measure this calibrator on GOLD/PRED instead of fitting one (held-out data)."
        ),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="auto (lower cross-fitted ECE per type) | isotonic | platt.")
    ] = "auto",
    extractor: Annotated[
        str | None,
        typer.Option(
            "--extractor", help="Extractor the predictions came from, where they do not say (e.g. rules.v1)."
        ),
    ] = None,
    gold_format: Annotated[
        str | None, typer.Option("--gold-format", help="Format of GOLD (default: detected).")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Folder for calibration.json and reliability diagrams (PNG)."),
    ] = None,
) -> None:
    """Fit a calibrator per entity type so that confidence = probability the fact is correct
    (same span and type as the gold), or measure one on held-out notes (--check): ECE per
    type before and after, reliability diagrams. Apply it with clinex extract --calibration FILE."""
    from clinex.calibration import load_calibrator
    from clinex.calibration.fitting import check as check_calibrator
    from clinex.calibration.fitting import fit
    from clinex.corpora import read_corpus

    with user_errors():
        if (out is None) == (check is None):
            raise ConfigError(
                "give -o FILE to fit a calibrator, or --check FILE to measure one", hint="not both"
            )
        gold_corpus = read_corpus(gold, format=gold_format)
        pred_corpus = read_corpus(pred)
        if out is not None:
            calibrator, fits = fit(gold_corpus, pred_corpus, extractor=extractor, method=method)
            calibrator.save(out)
            typer.echo(f"{'type':12}{'n':>7}{'precision':>11}{'ECE raw':>10}{'ECE cross-fitted':>18}  method")
            for type_fit in fits:
                row = type_fit.to_dict()
                crossed = row["ece_cross_fitted"].get(type_fit.method or "", None)
                typer.echo(
                    f"{type_fit.name:12}{type_fit.count:7d}{row['precision'] or 0:11.3f}"
                    f"{type_fit.ece_raw or 0:10.3f}{_number(crossed):>18}  {type_fit.method or 'pooled'}"
                )
            typer.echo(f"wrote {out} (for {calibrator.extractor})")
            measured = {"fit": calibrator.fitted}
        else:
            assert check is not None
            result = check_calibrator(load_calibrator(check), gold_corpus, pred_corpus)
            typer.echo(f"{'type':12}{'n':>7}{'ECE raw':>10}{'ECE calibrated':>16}")
            for name, before in result.before.items():
                typer.echo(
                    f"{name:12}{before.count:7d}{_number(before.ece):>10}{_number(result.after[name].ece):>16}"
                )
            measured = {"check": result.to_dict()}
            if report is not None:
                _diagrams(result, report)
        if report is not None:
            report.mkdir(parents=True, exist_ok=True)
            (report / "calibration.json").write_text(json.dumps(measured, indent=1) + "\n", encoding="utf-8")
            typer.echo(f"wrote {report / 'calibration.json'}")


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _diagrams(result: object, folder: Path) -> None:
    from clinex.calibration.fitting import Check
    from clinex.eval.plots import reliability_diagram

    assert isinstance(result, Check)
    folder.mkdir(parents=True, exist_ok=True)
    for name, before in result.before.items():
        label = "all" if name == "*" else name
        (folder / f"reliability-{label}-raw.png").write_bytes(reliability_diagram(before, f"{label} raw"))
        after = result.after[name]
        (folder / f"reliability-{label}-calibrated.png").write_bytes(
            reliability_diagram(after, f"{label} calibrated")
        )
