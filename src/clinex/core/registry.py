"""Registries of named, versioned components, resolved lazily.

A component is registered as ``"name.vN"`` with either the object itself or a
``"module:attribute"`` string that is imported only when the name is first asked for, so
heavy dependencies (torch, llama.cpp) load only when used. ``get("name")`` gives the newest
version, ``get("name.v1")`` pins one, so old configs keep resolving. Plugins register through
the entry-point group named by each registry (e.g. ``clinex.extractors``); an entry point whose
name is not ``name.vN`` or whose value is not ``module:attribute`` is reported (a warning) and
skipped, so one broken package cannot break every lookup. ``CLINEX_DISABLE_PLUGINS=1`` skips
entry points altogether. Tests swap a component in for a block with :meth:`Registry.override`.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from clinex.core.errors import ConfigError, UnknownNameError

T = TypeVar("T")
_VERSIONED = re.compile(r"^(?P<base>[a-z0-9_\-]+)\.v(?P<version>\d+)$")
_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
#: Set to 1/true/yes to ignore every installed plugin (entry point).
DISABLE_PLUGINS_ENV = "CLINEX_DISABLE_PLUGINS"
log = logging.getLogger("clinex")


class Registry(Generic[T]):
    """Named components of one kind (extractors, LLM backends, terminologies, ...)."""

    def __init__(self, kind: str, entry_point_group: str) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._targets: dict[str, T | str] = {}
        self._plugins_loaded = False

    def register(self, name: str, target: T | str) -> None:
        """Register ``target`` (an object, or a lazy ``"module:attr"``) under ``name.vN``."""
        if not _VERSIONED.match(name):
            raise ConfigError(
                f"{self.kind} name {name!r} has no version",
                hint="register names as 'name.v1', 'name.v2', ...",
            )
        self._targets[name] = target

    @contextmanager
    def override(self, name: str, target: T | str) -> Iterator[None]:
        """Register ``target`` under ``name`` for the block, then restore what was there."""
        self._load_plugins()
        missing = object()
        before = self._targets.get(name, missing)
        self.register(name, target)
        try:
            yield
        finally:
            if before is missing:
                del self._targets[name]
            else:
                self._targets[name] = before  # type: ignore[assignment]

    def __call__(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`register`."""

        def decorate(obj: T) -> T:
            self.register(name, obj)
            return obj

        return decorate

    def names(self) -> list[str]:
        """Every registered versioned name, sorted."""
        self._load_plugins()
        return sorted(self._targets)

    def base_names(self) -> list[str]:
        """The unversioned names a user may type."""
        return sorted({_split(name)[0] for name in self.names()})

    def resolve(self, name: str) -> str:
        """The versioned name ``name`` stands for (the newest version if none is given)."""
        self._load_plugins()
        if name in self._targets:
            return name
        versions = [n for n in self._targets if _split(n)[0] == name]
        if not versions:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}",
                hint=f"choose one of: {', '.join(self.base_names()) or '(none registered)'}",
            )
        return max(versions, key=lambda n: _split(n)[1])

    def get(self, name: str) -> T:
        versioned = self.resolve(name)
        target = self._targets[versioned]
        if isinstance(target, str):
            target = self._targets[versioned] = _import(target)
        return target

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        if os.environ.get(DISABLE_PLUGINS_ENV, "").strip().lower() in {"1", "true", "yes"}:
            return
        for ep in entry_points(group=self.entry_point_group):
            if not _VERSIONED.match(ep.name) or not _TARGET.match(ep.value):
                # Named only (never the package's code): a broken plugin must not break clinex.
                log.warning(
                    "skipping the %s plugin %r of group %s: its name must be 'name.vN' and its "
                    "value 'module:attribute'",
                    self.kind,
                    ep.name,
                    self.entry_point_group,
                )
                continue
            self._targets.setdefault(ep.name, ep.value)


def _split(name: str) -> tuple[str, int]:
    match = _VERSIONED.match(name)
    assert match is not None  # names are validated in register()
    return match["base"], int(match["version"])


def _import(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = module_name.split(".")[0]
        if exc.name is None or exc.name.split(".")[0] == top:
            raise
        # A registered component whose optional dependency is absent (e.g. torch for the encoder).
        raise ConfigError(
            f"{module_name} needs the package {exc.name!r}, which is not installed",
            hint="install the extra it belongs to, e.g. pip install 'clinex[encoder]' or 'clinex[llm]'",
        ) from None
    return getattr(module, attribute)


extractors: Registry[Any] = Registry("extractor", "clinex.extractors")
trainers: Registry[Any] = Registry("trainer", "clinex.trainers")
engines: Registry[Any] = Registry("batch engine", "clinex.engines")
llm_backends: Registry[Any] = Registry("LLM backend", "clinex.llm_backends")
terminologies: Registry[Any] = Registry("terminology", "clinex.terminologies")
letter_writers: Registry[Any] = Registry("letter writer", "clinex.letter_writers")
exporters: Registry[Any] = Registry("exporter", "clinex.exporters")
