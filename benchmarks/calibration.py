"""Calibrated confidence: fit on one half of MACCROBAT, measure on the other and on synthetic letters.

    .venv/bin/python benchmarks/calibration.py [--maccrobat ../shared/data/maccrobat]
        [--test data/synth/splits/test.jsonl] [--extractors encoder rules] [--report out/calibration]
        [--write src/clinex/calibration/data]

Each extractor runs with raw confidences (``calibration="none"``) over every MACCROBAT case
report and the synthetic test letters (held-out templates). MACCROBAT is split in two halves by
id (:func:`clinex.corpora.maccrobat.maccrobat_halves`): a calibrator is fitted on the ``fit``
half (method chosen per type by cross-fitted ECE) and measured on the ``report`` half and on the
synthetic test letters: ECE per type before and after, and reliability diagrams (PNG) in
``--report``. ``--write DIR`` saves each calibrator as ``DIR/<extractor>.json`` (how the shipped
ones were made). Correct = same span and type as the gold, strictly.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from _machine import format_machine

import clinex
from clinex.calibration.calibrator import POOLED, Calibrator
from clinex.calibration.fitting import check, fit, labelled
from clinex.corpora import Corpus, read_corpus, read_jsonl
from clinex.corpora.maccrobat import maccrobat_halves
from clinex.eval.plots import reliability_diagram
from clinex.pipeline import Pipeline, load_extractor


def predictions(gold: Corpus, extractor: str, label: str) -> Corpus:
    """The extractor's raw-confidence output on the gold's notes, as a corpus."""
    pipeline = Pipeline(load_extractor(extractor), calibration="none")
    docs = {d.id: pipeline(d.text, id=d.id) for d in gold.documents.values()}
    print(f"{extractor}: {len(docs)} {label} extracted")
    return Corpus(documents=docs, source=f"{extractor} on {label}", format="jsonl")


def subset(corpus: Corpus, ids: list[str], label: str) -> Corpus:
    return Corpus(
        documents={i: corpus.documents[i] for i in ids if i in corpus.documents},
        source=f"{corpus.source} ({label})",
        format=corpus.format,
    )


def print_check(name: str, calibrator: Calibrator, gold: Corpus, pred: Corpus, report: Path | None) -> None:
    result = check(calibrator, gold, pred)
    print(f"\n{name}: ECE per type, raw → calibrated (10 equal-width bins)")
    print(f"{'type':12}{'n':>7}{'precision':>11}{'ECE raw':>10}{'ECE cal':>10}")
    for entity_type, before in result.before.items():
        after = result.after[entity_type]
        correct = sum(b.count * (b.accuracy or 0) for b in before.bins)
        precision = correct / before.count if before.count else 0.0
        label = "all" if entity_type == POOLED else entity_type
        if not before.count:
            print(f"{label:12}{0:7d}{'—':>11}{'—':>10}{'—':>10}")
            continue
        print(f"{label:12}{before.count:7d}{precision:11.3f}{before.ece or 0:10.3f}{after.ece or 0:10.3f}")
        if report is not None:
            slug = name.replace(" ", "_").replace("/", "_")
            for stage, value in (("raw", before), ("calibrated", after)):
                png = reliability_diagram(value, f"{name} {label} {stage}")
                (report / f"{slug}-{label}-{stage}.png").write_bytes(png)


def print_thresholds(name: str, calibrator: Calibrator, gold: Corpus, pred: Corpus) -> None:
    """What ``--min-confidence T`` keeps once confidences are calibrated: precision, recall and
    F1 of every entity (strict span and type) and the mean calibrated confidence of the kept."""
    data = labelled(gold, pred)
    golds = sum(1 for d in gold.documents.values() for e in d.entities)
    print(f"\n{name}: --min-confidence on calibrated scores (all entities, strict)")
    print(f"{'T':>5}{'kept':>7}{'P':>8}{'R':>8}{'F1':>8}{'mean conf':>11}")
    for threshold in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        kept = correct = 0
        confidence = 0.0
        for entity_type, found in data.items():
            calibrated = calibrator.scores(entity_type, found.scores)
            for value, right in zip(calibrated, found.correct, strict=True):
                if value >= threshold:
                    kept += 1
                    correct += right
                    confidence += float(value)
        p = correct / kept if kept else 0.0
        r = correct / golds if golds else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        mean = confidence / kept if kept else 0.0
        print(f"{threshold:5.1f}{kept:7d}{p:8.3f}{r:8.3f}{f:8.3f}{mean:11.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maccrobat", type=Path, default=Path("../shared/data/maccrobat"))
    parser.add_argument("--test", type=Path, default=Path("data/synth/splits/test.jsonl"))
    parser.add_argument("--extractors", nargs="+", default=["encoder", "rules"])
    parser.add_argument("--report", type=Path, default=None, help="folder for reliability diagrams")
    parser.add_argument("--write", type=Path, default=None, help="folder to save <extractor>.json in")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(format_machine())
    if args.report is not None:
        args.report.mkdir(parents=True, exist_ok=True)
    maccrobat = read_corpus(args.maccrobat, format="maccrobat")
    fit_ids, report_ids = maccrobat_halves(args.maccrobat)
    synthetic = read_jsonl(args.test)
    print(
        f"MACCROBAT: {len(fit_ids)} reports to fit, {len(report_ids)} to report; synthetic test: "
        f"{len(synthetic.documents)} letters"
    )
    for extractor in args.extractors:
        on_maccrobat = predictions(maccrobat, extractor, "MACCROBAT reports")
        on_synthetic = predictions(synthetic, extractor, "synthetic test letters")
        calibrator, fits = fit(
            subset(maccrobat, fit_ids, "fit half"), subset(on_maccrobat, fit_ids, "fit half")
        )
        print(f"\n{extractor}: fitted on the MACCROBAT fit half (cross-fitted ECE by method)")
        for type_fit in fits:
            crossed = ", ".join(f"{k} {v:.3f}" for k, v in type_fit.ece_cross_fitted.items() if v is not None)
            print(
                f"  {type_fit.name:12} n {type_fit.count:5d}  raw ECE {type_fit.ece_raw or 0:.3f}  "
                f"{crossed or 'too few: pooled curve'}  → {type_fit.method or '-'}"
            )
        print_check(
            f"{extractor} MACCROBAT report half",
            calibrator,
            subset(maccrobat, report_ids, "report half"),
            subset(on_maccrobat, report_ids, "report half"),
            args.report,
        )
        print_thresholds(
            f"{extractor} MACCROBAT report half",
            calibrator,
            subset(maccrobat, report_ids, "report half"),
            subset(on_maccrobat, report_ids, "report half"),
        )
        print_check(f"{extractor} synthetic test", calibrator, synthetic, on_synthetic, args.report)
        if args.write is not None:
            fitted = dict(calibrator.fitted)
            fitted["fit_on"] = "MACCROBAT2020 fit half (maccrobat_halves), strict span + type"
            fitted["clinex_version"] = clinex.__version__
            shipped = Calibrator(
                extractor=calibrator.extractor,
                model_checksum=calibrator.model_checksum,
                curves=calibrator.curves,
                fitted=fitted,
            )
            name = extractor.split(".")[0]
            shipped.save(args.write / f"{name}.json")
            print(f"wrote {args.write / f'{name}.json'}")


if __name__ == "__main__":
    main()
