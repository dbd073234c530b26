"""Connecting the driver to Ray: an existing cluster (``--address``) or a local one started
for the run and stopped after it; :class:`Cluster` connects on first use, so a run with nothing
left to do starts none.

An address is checked with a plain TCP connection first, so an unreachable one is a one-line
error in seconds instead of Ray's long retry loop. Ray's own logs stay in its session
directory (``/tmp/ray/session_*``); clinex's workers log ids and counts only.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from clinex.core.errors import ConfigError

#: The optional dependency group that brings Ray Data: ``pip install 'clinex[ray]'``.
RAY_EXTRA = "ray"
_CONNECT_TIMEOUT_S = 5.0


def import_ray() -> Any:
    """The ``ray`` module, or ConfigError saying how to install it."""
    # Ray's info and warnings (token set-up, progress-bar notices) are not the user's business;
    # its errors still show. Set before the import: Ray logs while it loads.
    logging.getLogger("ray").setLevel(logging.ERROR)
    try:
        import ray
        import ray.data
    except ImportError:
        raise ConfigError(
            "--engine ray needs Ray Data, which is not installed", hint=f"pip install 'clinex[{RAY_EXTRA}]'"
        ) from None
    return ray


def connect(ray: Any, address: str | None, *, workers: int, gpus_per_worker: float = 0.0) -> bool:
    """Connect to ``address`` (``host:port``, ``ray://host:port`` or ``auto``) or, without one,
    start a local cluster with a CPU per worker at least; True where this call started Ray
    (and so should stop it). ConfigError for an unreachable address, too few CPUs or GPUs.

    The driver's ``CLINEX_*`` environment variables (``CLINEX_LLM_BASE_URL``, ...) go to every
    worker, so all of them reach the same LLM server wherever they run."""
    if ray.is_initialized():
        started = False
    else:
        options: dict[str, Any] = {
            "log_to_driver": False,
            "logging_level": logging.ERROR,
            "include_dashboard": False,
        }
        forwarded = {key: value for key, value in os.environ.items() if key.startswith("CLINEX_")}
        if forwarded:
            options["runtime_env"] = {"env_vars": forwarded}
        if address:
            options["address"] = address
        else:
            options["num_cpus"] = max(workers, os.cpu_count() or 1)
        try:
            ray.init(**options)
        except ConnectionError as exc:
            raise ConfigError(
                f"cannot connect to the Ray cluster at {address} ({type(exc).__name__})",
                hint="check the address (ray status on the head node shows it), or leave out --address",
            ) from None
        started = True
    resources = ray.cluster_resources()
    for kind, each in (("CPU", 1.0), ("GPU", gpus_per_worker)):
        have = float(resources.get(kind, 0))
        if each and have < workers * each:
            if started:
                ray.shutdown()
            raise ConfigError(
                f"the Ray cluster has {have:g} {kind}s for {workers} workers needing {each:g} each",
                hint=f"give --workers {int(have // each) or 1} or fewer, or add nodes to the cluster",
            )
    return started


def check_reachable(address: str) -> None:
    """ConfigError unless ``address``'s host and port accept a TCP connection."""
    where = address.split("://", 1)[-1]
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"--address {address} is not host:port",
            hint="give e.g. --address 10.0.0.5:6379, or ray://HOST:10001",
        )
    try:
        with socket.create_connection((host, int(port)), timeout=_CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ConfigError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or type(exc).__name__})",
            hint="check the address and that the head node runs (ray start --head), or leave out --address",
        ) from None


class Cluster:
    """Ray for one run: the address checked now, connected when first needed, and stopped by
    :meth:`close` where this run started it."""

    def __init__(self, address: str | None, *, workers: int, gpus_per_worker: float = 0.0) -> None:
        self.ray = import_ray()
        self._address, self._workers, self._gpus = address, workers, gpus_per_worker
        if address and address != "auto" and not self.ray.is_initialized():
            check_reachable(address)  # now, before the input is read
        self._connected = self._started = False

    def put(self, value: Any) -> Any:
        """``value`` in the cluster's object store (connecting first); its reference."""
        if not self._connected:
            self._started = connect(
                self.ray, self._address, workers=self._workers, gpus_per_worker=self._gpus
            )
            self._connected = True
        return self.ray.put(value)

    def close(self) -> None:
        if self._started:
            self.ray.shutdown()
        self._connected = self._started = False
