"""The LLM extractor's options are config objects; a backend, a plugin's too, gets its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from clinex.core.config import option
from clinex.core.errors import ConfigError
from clinex.core.registry import llm_backends
from clinex.extractors.llm import LLMExtractor
from clinex.extractors.llm.config import LLMConfig
from clinex.testing import ScriptedBackend


class PluginBackend(ScriptedBackend):
    """A plugin backend with no Config: it takes what its constructor declares."""

    name = "plugin.v1"

    def __init__(self, *, endpoint: str, retries: int = 0) -> None:
        super().__init__(['{"entities": []}'])
        self.endpoint, self.retries = endpoint, retries


@dataclass(frozen=True, kw_only=True)
class TunedConfig:
    model: str = option("m", "model name")
    beams: int = option(1, "beam width")

    def __post_init__(self) -> None:
        if self.beams < 1:
            raise ValueError(f"beams must be ≥ 1, got {self.beams}")


class TunedBackend(ScriptedBackend):
    """A plugin backend with a Config dataclass, built from it."""

    name = "tuned.v1"
    Config = TunedConfig

    def __init__(self, *, model: str, beams: int) -> None:
        super().__init__(['{"entities": []}'])
        self.model, self.beams = model, beams


def test_a_plugin_backend_receives_its_options() -> None:
    with llm_backends.override("plugin.v1", PluginBackend):
        extractor = LLMExtractor(backend="plugin", endpoint="http://x", retries=2, max_tokens=64)
    backend: Any = extractor.backend
    assert isinstance(backend, PluginBackend) and (backend.endpoint, backend.retries) == ("http://x", 2)
    assert extractor.config.max_tokens == 64, "the extractor's own options stay with it"


def test_a_backend_config_checks_its_options() -> None:
    with llm_backends.override("tuned.v1", TunedBackend):
        built: Any = LLMExtractor(backend="tuned", beams=3).backend
        assert (built.model, built.beams) == ("m", 3)
        with pytest.raises(ConfigError, match="unknown option"):
            LLMExtractor(backend="tuned", temperature_of_the_sun=3)
        with pytest.raises(ConfigError, match="beams must be"):
            LLMExtractor(backend="tuned", beams=0)


def test_extractor_options_are_checked_and_a_config_object_is_taken_whole() -> None:
    with pytest.raises(ConfigError, match="chunk_overlap"):
        LLMExtractor(backend=ScriptedBackend(["{}"]), chunk_chars=100, chunk_overlap=100)
    with pytest.raises(ConfigError, match="assertion"):
        LLMExtractor(backend=ScriptedBackend(["{}"]), assertion="guess")
    config = LLMConfig(passes=2, temperature=0.5, assertion="model")
    extractor = LLMExtractor(config, backend=ScriptedBackend(["{}"]), passes=3)
    assert (extractor.config.passes, extractor.config.temperature) == (3, 0.5)
    assert extractor.assigns == frozenset({"assertion"}), (
        "the model's own flags: the pipeline skips assertion"
    )
    with pytest.raises(ConfigError, match="backend instance"):
        LLMExtractor(backend=ScriptedBackend(["{}"]), base_url="http://x")
