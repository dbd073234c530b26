"""Counted work instead of timers: the lines of clinex code a call executes (tests/ is on
sys.path via conftest).

A line counts each time it runs, loops and comprehensions included (a loop over every pair of
spans counts every pair), so the count grows with the work the code does and not with the
machine's load: a test can ask that it grows linearly with the input without timing anything.
Work inside other libraries (spaCy, medspaCy, torch) and inside C built-ins (``sorted``,
``bisect``) is not counted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import clinex

_PACKAGE = str(Path(clinex.__file__).parent) + os.sep


def clinex_lines(call: Callable[[], object]) -> int:
    """How many lines of clinex's own code ``call()`` executes."""
    count = 0

    def in_clinex(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return in_clinex

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        return in_clinex if frame.f_code.co_filename.startswith(_PACKAGE) else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count
