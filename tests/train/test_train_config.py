from __future__ import annotations

from pathlib import Path

import pytest

from clinex.core.config import describe
from clinex.core.errors import ConfigError
from clinex.train import load_training
from clinex.train.encoder import EncoderTrainConfig, train_encoder


def _yaml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(body)
    return path


def test_yaml_then_overrides_with_types_coerced(tmp_path: Path) -> None:
    path = _yaml(tmp_path, "task: encoder\nlearning_rate: 2e-5\nepochs: 3\nlora_targets: [query]\n")
    config, trainer = load_training(path, ["epochs=1", "method=lora", "lora_targets=query,value"])
    assert isinstance(config, EncoderTrainConfig)
    assert trainer is train_encoder
    assert config.learning_rate == pytest.approx(2e-5)  # YAML 1.1 reads 2e-5 as text
    assert (config.epochs, config.method, config.lora_targets) == (1, "lora", ("query", "value"))


@pytest.mark.parametrize(
    ("body", "overrides", "message"),
    [
        ("epochs: 1\nepoch: 2\n", [], "unknown option"),
        ("method: qlora\n", [], "method must be one of"),
        ("", ["epochs=0"], "epochs must be at least 1"),
        ("", ["epochs"], "not key=value"),
        ("task: decoder\n", [], "unknown training task"),
        ("epochs: [1\n", [], "not valid YAML"),
        ("", ["learning_rate=fast"], "learning_rate must be a number"),
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


def test_every_option_has_a_help_text() -> None:
    rows = describe(EncoderTrainConfig)
    assert {name for name, _, _ in rows} >= {"method", "lora_r", "epochs", "seed"}
    assert all(text for _, _, text in rows)


def test_shipped_config_loads() -> None:
    config, _ = load_training(Path(__file__).parents[2] / "configs" / "encoder.yaml")
    assert config.method == "full" and config.output_dir == "src/clinex/extractors/encoder/model"


def test_cli_lists_options_and_reports_bad_configs_in_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clinex.cli.app import app

    runner = CliRunner()
    listed = runner.invoke(app, ["train", str(_yaml(tmp_path, "task: encoder\n")), "--help-config"])
    assert listed.exit_code == 0 and "lora_r" in listed.output and "top N" in listed.output
    bad = runner.invoke(app, ["train", str(_yaml(tmp_path, "epochs: 1\n")), "--set", "method=qlora"])
    assert bad.exit_code == 2
    assert "method must be one of" in bad.output and "Traceback" not in bad.output
