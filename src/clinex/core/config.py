"""One parser for every config dataclass (training methods, extractors, LLM backends).

A config is a dataclass whose fields carry a ``help`` text (:func:`option`); it is built from a
mapping (a YAML file, then ``key=value`` overrides) by :func:`build_config`, which rejects unknown
keys and turns a ``ValueError`` of ``__post_init__`` (naming the bad value) into a ConfigError.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from clinex.core.errors import ConfigError

T = TypeVar("T")


def option(default: Any, help: str) -> Any:
    """A dataclass field with a default and a help text."""
    if isinstance(default, list | dict):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping at the top of a YAML config file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"config file not found: {path}", hint="give the path of a YAML file, e.g. configs/encoder.yaml"
        ) from None
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 1})" if line is not None else ""
        raise ConfigError(
            f"config file {path} is not valid YAML{where}", hint="check indentation and quoting"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} does not hold a mapping", hint="write one 'key: value' per line"
        )
    return data


def parse_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """``["epochs=2", "method=lora"]`` → ``{"epochs": 2, "method": "lora"}`` (values read as YAML)."""
    parsed: dict[str, Any] = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r} is not key=value", hint="write e.g. --set epochs=2")
        try:
            parsed[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError(
                f"override {key.strip()!r} has an unreadable value", hint="quote strings with spaces"
            ) from None
    return parsed


def build_config(cls: type[T], values: dict[str, Any], *, source: str, help_hint: str | None = None) -> T:
    """An instance of the config dataclass ``cls``; unknown keys and bad values raise ConfigError."""
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"{source}: unknown option(s) {', '.join(unknown)}",
            hint=f"known options: {', '.join(sorted(known))}",
        )
    hints = typing.get_type_hints(cls)
    try:
        return cls(**{key: _coerce(key, value, hints[key]) for key, value in values.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{source}: {exc}", hint=help_hint or "see `clinex train --help-config` for each option"
        ) from None


def _coerce(key: str, value: Any, hint: Any) -> Any:
    """Read YAML scalars as the field's type (YAML reads ``2e-5`` as text, ``1`` as an int)."""
    if hint is float and isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{key} must be a number, got {value!r}") from None
    if hint is int and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{key} must be an integer, got {value!r}") from None
    if typing.get_origin(hint) is tuple and isinstance(value, list | str):
        return tuple(value) if isinstance(value, list) else tuple(v.strip() for v in value.split(","))
    return value


def describe(cls: type[Any]) -> list[tuple[str, str, str]]:
    """(name, default, help) of every field of a config dataclass, for help output."""
    rows = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[operator]
        rows.append((f.name, repr(default), str(f.metadata.get("help", ""))))
    return rows
