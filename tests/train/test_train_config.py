from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path
from typing import Any

import pytest

import clinex
from clinex.core.config import describe, option
from clinex.core.errors import ConfigError
from clinex.core.registry import llm_backends, trainers
from clinex.train import load_training, options, trainer
from clinex.train.config import Trainer, TrainResult
from clinex.train.encoder.config import EncoderTrainConfig
from clinex.train.encoder.trainer import train_encoder

ROOT = Path(__file__).parents[2]


def _yaml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(body)
    return path


def test_yaml_then_overrides_with_types_coerced(tmp_path: Path) -> None:
    path = _yaml(tmp_path, "task: encoder\nlearning_rate: 2e-5\nepochs: 3\nlora_targets: [query]\n")
    config, found = load_training(path, ["epochs=1", "method=lora", "lora_targets=query,value"])
    assert isinstance(config, EncoderTrainConfig)
    assert found.config is EncoderTrainConfig and found.train is train_encoder
    assert config.learning_rate == pytest.approx(2e-5)  # YAML 1.1 reads 2e-5 as text
    assert (config.epochs, config.method, config.lora_targets) == (1, "lora", ("query", "value"))


@pytest.mark.parametrize(
    ("body", "overrides", "message"),
    [
        ("epochs: 1\nepoch: 2\n", [], "unknown option"),
        ("method: qlora\n", [], "method must be one of"),
        ("", ["epochs=0"], "epochs must be at least 1"),
        ("", ["epochs"], "not key=value"),
        ("task: decoder\n", [], r"c\.yaml: task: unknown trainer 'decoder'"),
        ("epochs: [1\n", [], "not valid YAML"),
        ("", ["learning_rate=fast"], "learning_rate must be a number"),
        ("", ["learning_rate=-1e-4"], "learning_rate must not be negative, got -0.0001"),
        ("", ["max_train_letters=-1"], "max_train_letters must not be negative, got -1"),
        ("", ["lora_targets=[]"], "lora_targets is empty"),
        ("", ["lora_dropout=1"], r"lora_dropout must be in \[0, 1\), got 1.0"),
        ("", ["train_file=''"], "train_file is empty"),
    ],
)
def test_bad_configs_raise_config_errors_naming_the_problem(
    tmp_path: Path, body: str, overrides: list[str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_training(_yaml(tmp_path, body), overrides)


def test_missing_config_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml"):
        load_training(tmp_path / "nope.yaml")


def _config_classes() -> list[type[Any]]:
    """Every config dataclass of clinex: walked in the modules that use the config parser, plus
    the configs of every registered trainer and LLM backend (so one with no help at all is found)."""
    package = Path(clinex.__file__).parent
    found: set[type[Any]] = set()
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not any(
            isinstance(n, ast.ImportFrom) and n.module == "clinex.core.config" for n in ast.walk(tree)
        ):
            continue
        name = ".".join(("clinex", *path.relative_to(package).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and dataclasses.is_dataclass(obj)
                and obj.__module__ == name
                and (
                    obj.__name__.endswith("Config")
                    or any("help" in f.metadata for f in dataclasses.fields(obj))
                )
            ):
                found.add(obj)
    found |= {trainer(name).config for name in trainers.names()}
    found |= {c for name in llm_backends.names() if (c := getattr(llm_backends.get(name), "Config", None))}
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


CONFIG_CLASSES = _config_classes()


def test_the_walk_finds_the_trainers_the_llm_extractor_and_every_backend() -> None:
    names = {c.__qualname__ for c in CONFIG_CLASSES}
    assert {trainer(n).config.__qualname__ for n in trainers.names()} <= names
    assert "LLMConfig" in names
    backends = {llm_backends.get(n).Config.__qualname__ for n in llm_backends.names()}
    assert len(backends) >= 3 and backends <= names


@pytest.mark.parametrize("config_cls", CONFIG_CLASSES, ids=lambda c: c.__qualname__)
def test_every_option_has_a_help_text(config_cls: type[Any]) -> None:
    rows = describe(config_cls)
    assert rows
    assert [name for name, _, text in rows if not text.strip()] == []


def test_shipped_configs_write_outside_the_package() -> None:
    package = (ROOT / "src" / "clinex").resolve()
    encoder, _ = load_training(ROOT / "configs" / "encoder.yaml")
    assertion, _ = load_training(ROOT / "configs" / "assertion.yaml")
    assert encoder.method == "full" and encoder.output_dir == "runs/encoder"
    for output in (encoder.output_dir, assertion.output):
        assert not (ROOT / output).resolve().is_relative_to(package), output


def test_options_show_the_files_values_and_the_defaults_they_replace(tmp_path: Path) -> None:
    config, _ = load_training(_yaml(tmp_path, "train_layers: 4\nmethod: full\n"), ["epochs=3"])
    rows = {name: (value, default) for name, value, default, _ in options(config)}
    assert rows["train_layers"] == ("4", "6")
    assert rows["epochs"] == ("3", "2")
    assert rows["method"] == ("'full'", "")  # the file repeats the default
    assert rows["lora_targets"] == ("('query', 'key', 'value', 'dense')", "")


def test_cli_lists_the_files_options_and_reports_bad_configs_in_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clinex.cli.app import app

    runner = CliRunner()
    path = _yaml(tmp_path, "task: encoder\ntrain_layers: 4\n")
    listed = runner.invoke(app, ["train", str(path), "--help-config", "--set", "lora_r=8"])
    assert listed.exit_code == 0, listed.output
    lines = {line.split()[0]: line for line in listed.output.splitlines()[1:]}
    assert lines["train_layers"].split()[1] == "4" and lines["train_layers"].endswith("[default: 6]")
    assert lines["lora_r"].split()[1] == "8" and "[default: 16]" in lines["lora_r"]
    assert "top N" in lines["train_layers"] and "[default" not in lines["epochs"]
    bad = runner.invoke(app, ["train", str(_yaml(tmp_path, "epochs: 1\n")), "--set", "method=qlora"])
    assert bad.exit_code == 2
    assert "method must be one of" in bad.output and "Traceback" not in bad.output


@dataclasses.dataclass(kw_only=True)
class _ToyConfig:
    steps: int = option(1, "steps to take")


def test_a_registered_trainer_is_found_by_the_task_key(tmp_path: Path) -> None:
    seen: list[int] = []

    def train_toy(config: _ToyConfig) -> TrainResult:
        seen.append(config.steps)
        return TrainResult(tmp_path, "0" * 64, {"steps": config.steps})

    with trainers.override("toy.v1", Trainer(config=_ToyConfig, train=train_toy)):
        config, found = load_training(_yaml(tmp_path, "task: toy\nsteps: 3\n"))
        assert found.train(config).metrics == {"steps": 3} and seen == [3]
        assert {"assertion", "encoder", "toy"} <= set(trainers.base_names())


def test_a_trainer_entry_that_is_not_a_trainer_is_a_config_error(tmp_path: Path) -> None:
    with (
        trainers.override("odd.v1", "clinex.train.encoder.trainer:train_encoder"),
        pytest.raises(ConfigError, match=r"'odd\.v1' is a function, not a clinex\.train\.config\.Trainer"),
    ):
        load_training(_yaml(tmp_path, "task: odd\n"))
