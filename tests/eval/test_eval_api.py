import clinex.eval


def test_public_api_is_curated_and_importable() -> None:
    names = clinex.eval.__all__
    assert len(names) == len(set(names))
    missing = [name for name in names if not hasattr(clinex.eval, name)]
    assert missing == []
    assert {"evaluate", "evaluate_paths", "evaluate_negex", "write_report", "read_corpus"} <= set(names)
