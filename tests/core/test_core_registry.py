import inspect
import json
import logging
import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import clinex
import clinex.core.registry as registry_module
from clinex.core.errors import ConfigError, UnknownNameError
from clinex.core.registry import DISABLE_PLUGINS_ENV, Registry, extractors


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


PUBLIC_API = [
    "Assertion",
    "BackendError",
    "ClinexError",
    "Code",
    "ConfigError",
    "ContextLengthError",
    "Document",
    "EmptyNoteError",
    "Entity",
    "EvaluationError",
    "Extractor",
    "FHIRError",
    "InputError",
    "InternalError",
    "ModelError",
    "NoteInput",
    "NoteTooLargeError",
    "OutputParseError",
    "TerminologyError",
    "UnknownNameError",
    "__version__",
    "extract",
    "extract_many",
    "load_extractor",
]


def test_public_api_is_exactly_this_list():
    assert clinex.__all__ == PUBLIC_API
    # Every public attribute that is not a subpackage is listed (subpackages appear as other
    # tests import them, so they are told apart by kind, not by name).
    public = {n for n in dir(clinex) if not n.startswith("_") and not inspect.ismodule(getattr(clinex, n))}
    assert public == set(PUBLIC_API) - {"__version__"}


GROUP = "clinex.test_things"


def _plugins(monkeypatch: pytest.MonkeyPatch, *found: EntryPoint) -> None:
    """Entry points as if installed packages declared ``found`` (real EntryPoint objects)."""
    monkeypatch.setattr(
        registry_module, "entry_points", lambda *, group: [ep for ep in found if ep.group == group]
    )


def test_a_bad_plugin_is_reported_and_skipped_while_every_other_lookup_works(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The review's probe: an unversioned name; also a value that is no "module:attribute".
    _plugins(
        monkeypatch,
        EntryPoint(name="myextractor", value="os.path:join", group=GROUP),
        EntryPoint(name="broken.v1", value="not a target", group=GROUP),
        EntryPoint(name="joiner.v1", value="os.path:join", group=GROUP),
        EntryPoint(name="other.v1", value="os.path:split", group="clinex.other_group"),
    )
    registry: Registry[object] = Registry("thing", GROUP)
    registry.register("widget.v1", "os.path:basename")
    with caplog.at_level(logging.WARNING, logger="clinex"):
        assert registry.names() == ["joiner.v1", "widget.v1"]
    skipped = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(skipped) == 2
    assert "'myextractor'" in skipped[0] and "'broken.v1'" in skipped[1]
    assert all(GROUP in message for message in skipped)
    assert registry.get("joiner") is os.path.join and registry.get("widget") is os.path.basename
    assert registry.base_names() == ["joiner", "widget"]
    with pytest.raises(UnknownNameError, match="'myextractor'"):
        registry.get("myextractor")


def test_disable_plugins_ignores_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    _plugins(monkeypatch, EntryPoint(name="joiner.v1", value="os.path:join", group=GROUP))
    assert Registry("thing", GROUP).names() == ["joiner.v1"]
    monkeypatch.setenv(DISABLE_PLUGINS_ENV, "1")
    assert DISABLE_PLUGINS_ENV == "CLINEX_DISABLE_PLUGINS"
    assert Registry("thing", GROUP).names() == []


def test_override_restores_the_previous_state_even_when_the_block_raises(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _plugins(monkeypatch, EntryPoint(name="joiner.v1", value="os.path:join", group=GROUP))
    registry: Registry[object] = Registry("thing", GROUP)
    one, two = object(), object()
    # First use of the registry: the plugin under the same name is what comes back afterwards.
    with pytest.raises(RuntimeError), registry.override("joiner.v1", two):
        assert registry.get("joiner") is two
        raise RuntimeError("inside the block")
    assert registry.get("joiner") is os.path.join
    registry.register("widget.v1", one)
    with pytest.raises(RuntimeError), registry.override("widget.v1", two):
        assert registry.get("widget") is two
        raise RuntimeError("inside the block")
    assert registry.get("widget") is one
    with pytest.raises(RuntimeError), registry.override("gadget.v1", two):
        raise RuntimeError("inside the block")
    assert registry.names() == ["joiner.v1", "widget.v1"]  # a new name is gone afterwards


def test_load_extractor_takes_a_list_option_and_names_an_unknown_one():
    rules = clinex.load_extractor("rules", types=["medication"], assertion="off")
    assert rules.name == "rules.v2"
    assert {e.type for e in rules.extract("Metformin 500 mg for hypertension.")} == {"medication"}
    with pytest.raises(ConfigError, match="no option 'model'") as info:
        clinex.load_extractor("rules", model="x")
    assert "types" in (info.value.hint or "")


def test_load_extractor_builds_what_an_override_registered():
    class Stub:
        name = "rules.v2"

        def __init__(self, types: tuple[str, ...] = ()) -> None:
            self.types = types

        def extract(self, text: str) -> list[object]:
            return []

    clinex.load_extractor("rules", types=["lab"])
    with extractors.override("rules.v2", Stub):
        assert isinstance(clinex.load_extractor("rules", types=["lab"]), Stub)


HEAVY = ("simple_icd_10_cm", "torch", "spacy", "medspacy")


def test_import_clinex_imports_no_heavy_dependency():
    probe = f"import json, sys; import clinex; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    source = str(Path(clinex.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": source}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True, timeout=120
    )
    assert json.loads(result.stdout) == []


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
