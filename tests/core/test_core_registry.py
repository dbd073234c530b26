from pathlib import Path

import pytest

import clinex
from clinex.core.errors import ConfigError, UnknownNameError
from clinex.core.registry import Registry, extractors


def test_newest_version_is_the_default_and_old_versions_still_resolve():
    one, two = object(), object()
    registry: Registry[object] = Registry("thing", "clinex.test_things")
    registry.register("widget.v1", one)
    registry.register("widget.v2", two)
    assert registry.get("widget") is two
    assert registry.get("widget.v1") is one
    assert registry.base_names() == ["widget"]


def test_lazy_targets_are_imported_on_first_use():
    registry: Registry[object] = Registry("thing", "clinex.test_things")
    registry.register("join.v1", "os.path:join")
    import os.path

    assert registry.get("join") is os.path.join


def test_unknown_and_unversioned_names_give_clear_errors():
    registry: Registry[str] = Registry("thing", "clinex.test_things")
    registry.register("widget.v1", "one")
    with pytest.raises(UnknownNameError, match="unknown thing 'gadget'") as info:
        registry.get("gadget")
    assert info.value.hint is not None and "widget" in info.value.hint
    with pytest.raises(ConfigError, match="no version"):
        registry.register("widget", "x")


def test_shipped_extractors_are_registered():
    assert {"rules", "encoder", "llm"} <= set(extractors.base_names())


def test_public_api_is_exactly_all():
    public = {name for name in dir(clinex) if not name.startswith("_")}
    modules = {
        "core",
        "pipeline",
        "cli",
        "terminology",
        "text",
        "extractors",
        "fhir",
        "llm",
        "synth",
        "train",
        "eval",
        "corpora",
        "service",
        "assertion",
        "inputs",
        "batch",
    }
    assert set(clinex.__all__) - {"__version__"} == public - modules
    for name in clinex.__all__:
        assert hasattr(clinex, name)


def test_a_component_whose_optional_dependency_is_missing_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "clinex_needs_missing.py").write_text("import clinex_not_installed_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry: Registry[object] = Registry("extractor", "clinex.test_missing")
    registry.register("needy.v1", "clinex_needs_missing:Thing")
    with pytest.raises(ConfigError, match="clinex_not_installed_anywhere") as error:
        registry.get("needy")
    assert "pip install" in (error.value.hint or "")
