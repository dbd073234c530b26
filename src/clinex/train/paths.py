"""Checks of the paths a training config names, made before any training starts.

A run that trains for minutes must not fail at its end because its output cannot be written, or
halfway because a file it reads last does not exist.
"""

from __future__ import annotations

import os
from pathlib import Path

from clinex.core.errors import ConfigError, InputError


def require_file(path: Path, *, what: str, hint: str) -> Path:
    """``path`` if it is a readable file; otherwise an InputError naming ``what`` and the path."""
    if path.is_file():
        return path
    problem = "is a directory, not a file" if path.is_dir() else "not found"
    raise InputError(f"{what} {path}: {problem}", hint=hint)


def require_output(path: Path, *, what: str, directory: bool) -> Path:
    """``path`` if a trainer can write it (as a directory or as a file); otherwise a ConfigError."""
    if directory and path.exists() and not path.is_dir():
        raise ConfigError(f"{what} {path} is a file", hint=f"give a directory for {what}")
    if not directory and path.is_dir():
        raise ConfigError(f"{what} {path} is a directory", hint=f"give a file name for {what}")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if existing != path and not existing.is_dir():
        raise ConfigError(f"{what} {path}: {existing} is a file, not a directory", hint=f"fix {what}")
    if not os.access(existing, os.W_OK):
        raise ConfigError(f"{what} {path}: {existing} is not writable", hint=f"fix {what}")
    return path
