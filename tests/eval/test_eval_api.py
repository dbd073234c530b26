import inspect

import clinex.eval

PUBLIC_API = [
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


def test_public_api_is_exactly_this_list() -> None:
    assert clinex.eval.__all__ == PUBLIC_API
    # Submodules appear as attributes once imported anywhere: told apart by kind, not by name.
    public = {
        n for n in dir(clinex.eval) if not n.startswith("_") and not inspect.ismodule(getattr(clinex.eval, n))
    }
    assert public == set(PUBLIC_API)
