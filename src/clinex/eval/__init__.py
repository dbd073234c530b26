"""Evaluation: read gold and predictions, match, score with intervals, compare runs, report.

report = evaluate_paths(Path("gold.jsonl"), {"rules": Path("rules.jsonl")})
write_report(report, Path("out/eval"))  # metrics.json + report.html

gold, subjects = read_gold(Path("gold.jsonl"))  # with each note's subject, for subgroups
report = evaluate(gold, read_corpus(Path("rules.jsonl")), EvalOptions(types=("condition",)), subjects=subjects)
"""

from clinex.corpora import FORMATS, Corpus, read_corpus
from clinex.eval.bootstrap import PairedTest
from clinex.eval.calibration import Calibration, calibration
from clinex.eval.categories import CATEGORIES, Category
from clinex.eval.evaluation import EvalOptions, evaluate, evaluate_paths
from clinex.eval.matching import MATCH_MODES, MatchMode, match
from clinex.eval.negex_eval import NegExScores, evaluate_negex
from clinex.eval.report_html import render_html, write_report
from clinex.eval.report_terminal import print_report
from clinex.eval.results import CategoryResult, ErrorExample, Report, RunResult
from clinex.eval.scores import PRFScore
from clinex.eval.subgroups import Gap, Subgroups, read_gold

__all__ = [
    "CATEGORIES",
    "FORMATS",
    "MATCH_MODES",
    "Calibration",
    "Category",
    "CategoryResult",
    "Corpus",
    "ErrorExample",
    "EvalOptions",
    "Gap",
    "MatchMode",
    "NegExScores",
    "PRFScore",
    "PairedTest",
    "Report",
    "RunResult",
    "Subgroups",
    "calibration",
    "evaluate",
    "evaluate_negex",
    "evaluate_paths",
    "match",
    "print_report",
    "read_corpus",
    "read_gold",
    "render_html",
    "write_report",
]
