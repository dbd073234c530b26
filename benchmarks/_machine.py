"""A description of the machine a benchmark ran on, printed with every benchmark table."""

from __future__ import annotations

import os
import platform
from importlib import metadata

DEFAULT_PACKAGES = ("clinex", "spacy", "medspacy", "torch", "transformers", "rapidfuzz")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def describe(packages: tuple[str, ...] = DEFAULT_PACKAGES) -> dict[str, str]:
    """CPU, cores, RAM, OS, Python and the versions of ``packages`` (absent ones say so)."""
    ram = memory_gib()
    info = {
        "cpu": cpu_model(),
        "cores": f"{usable_cores()} usable of {os.cpu_count()}",
        "ram": f"{ram:.1f} GiB" if ram else "unknown",
        "os": platform.platform(),
        "python": platform.python_version(),
    }
    for name in packages:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = "not installed"
    return info


def format_machine(info: dict[str, str] | None = None) -> str:
    """The description as aligned ``key: value`` lines."""
    info = info or describe()
    width = max(map(len, info))
    return "\n".join(f"{key:<{width}} : {value}" for key, value in info.items())
