"""An extractor for the extraction-worker tests, imported by name in the worker's child process
(``plugins={"stub.v1": "worker_stubs:StubExtractor"}``; pytest puts this folder on sys.path,
and a spawned child inherits it).

It reports what the rules extractor finds, except on notes holding a marker:

- ``SLEEP-<seconds>``: sleeps that long first (an extraction that runs past its limit);
- ``PLUGIN-BUG``: raises a RuntimeError whose message quotes the note (a plugin's bug);
- ``BACKEND-DOWN``: raises BackendError with its ``backend`` and ``original_type`` set.

Each construction (a model load) and each sleep start appends ``load <pid>`` / ``sleep <pid>``
to the file named by ``CLINEX_TEST_WORKER_LOG``, so a test can count loads and see a call start.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from clinex.core.errors import BackendError
from clinex.core.types import Entity
from clinex.pipeline import load_extractor

LOG_ENV = "CLINEX_TEST_WORKER_LOG"
_SLEEP = re.compile(r"SLEEP-(\d+(?:\.\d+)?)")


def log_event(event: str) -> None:
    path = os.environ.get(LOG_ENV)
    if path:
        with Path(path).open("a", encoding="utf-8") as out:
            out.write(f"{event} {os.getpid()}\n")


def events(path: Path, event: str) -> list[int]:
    """The pids logged with ``event``, in order."""
    if not path.exists():
        return []
    return [
        int(pid) for kind, pid in (line.split() for line in path.read_text().splitlines()) if kind == event
    ]


class StubExtractor:
    name = "stub"

    def __init__(self) -> None:
        self.inner = load_extractor("rules")
        log_event("load")

    def extract(self, text: str) -> list[Entity]:
        sleep = _SLEEP.search(text)
        if sleep:
            log_event("sleep")
            time.sleep(float(sleep[1]))
        if "PLUGIN-BUG" in text:
            raise RuntimeError(f"stub failed on: {text}")
        if "BACKEND-DOWN" in text:
            raise BackendError(
                "the stub backend is down",
                hint="start it",
                backend="stub",
                original_type="ConnectionRefusedError",
            )
        found: list[Entity] = self.inner.extract(text)
        return found
