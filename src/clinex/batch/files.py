"""Output files the batch writers share: a writability check made before any work, and files
written under a temporary name and renamed into place, so no reader sees half a file."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import IO, Any

from clinex.core.errors import ConfigError

#: How a writer names standard output as its destination.
STDOUT = "standard output"


def check_writable(path: Path, *, directory: bool = False) -> None:
    """ConfigError now, before any model is loaded, if ``path`` could not be written (as a file,
    or as a ``directory`` of files); creates nothing."""
    if path.exists():
        if directory and not path.is_dir():
            raise ConfigError(
                f"{path} is a file, but several notes need a directory",
                hint="give -o DIR (one bundle per note) or -o FILE.ndjson (one bundle per line)",
            )
        if not directory and path.is_dir():
            raise ConfigError(
                f"{path} is a directory", hint=f"give -o a file, e.g. -o {path / 'notes.jsonl'}"
            )
        target = path
    else:
        target = next(parent for parent in path.parents if parent.exists())
        if not target.is_dir():
            raise _cannot_open(path, f"{target} is not a directory")
    if not os.access(target, os.W_OK):
        raise _cannot_open(path, "permission denied")


def cannot_open(path: Path, exc: OSError) -> ConfigError:
    """The error for an output that failed to open (the OS's reason, never a file's content)."""
    return _cannot_open(path, exc.strerror or type(exc).__name__)


def _cannot_open(path: Path, reason: str) -> ConfigError:
    return ConfigError(
        f"cannot open the output {path} ({reason})", hint="give -o a path in a writable directory"
    )


class AtomicFile:
    """A file written under a temporary name beside ``path``: :meth:`commit` renames it into
    place, :meth:`discard` removes it. Nothing is created before :meth:`open`."""

    def __init__(self, path: Path, *, binary: bool = False) -> None:
        self.path = path
        self._binary = binary
        self._stream: IO[Any] | None = None
        self._temporary: Path | None = None

    @property
    def opened(self) -> bool:
        return self._stream is not None

    def open(self) -> IO[Any]:
        """The temporary file's stream (created on the first call)."""
        if self._stream is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
            os.chmod(name, _file_mode())  # mkstemp's 0600 would make the output private
            self._temporary = Path(name)
            self._stream = (
                os.fdopen(handle, "wb")
                if self._binary
                else os.fdopen(handle, "w", encoding="utf-8", newline="")
            )
        return self._stream

    def commit(self) -> None:
        if self._stream is None or self._temporary is None:
            return
        try:
            self._stream.close()
            os.replace(self._temporary, self.path)
        except BaseException:
            self.discard()
            raise
        self._stream = self._temporary = None

    def discard(self) -> None:
        if self._stream is not None:
            self._stream.close()
        if self._temporary is not None:
            self._temporary.unlink(missing_ok=True)
        self._stream = self._temporary = None


@functools.cache
def _file_mode() -> int:
    """The mode a plain ``open()`` would give a new file (0666 less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(path: Path, text: str) -> None:
    """``path`` holds ``text`` whole, or is as it was."""
    file = AtomicFile(path)
    try:
        file.open().write(text)
    except BaseException:
        file.discard()
        raise
    file.commit()
