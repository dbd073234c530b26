"""Review load: concurrent reviewers submitting decisions to a real ``clinex serve``, on SQLite
and on PostgreSQL, with every decision checked against the store and its audit log.

    .venv/bin/python benchmarks/review_load.py [--clients 20] [--seconds 60] [--notes 20]
        [--facts 100] [--backends sqlite postgresql] [--peer-seconds 20] [--blind]

For each backend: a fresh database (a SQLite file in a temporary folder; a PostgreSQL server
started on 127.0.0.1 by tests/postgres_server.py), one reviewer key per client, ``clinex serve
--extractor rules`` on a free port, ``--notes`` copies of examples/discharge_letter.txt
submitted as one job and extracted. Then ``--clients`` threads, each with its own key and HTTP
connection, post accept/reject decisions on facts drawn at random from the first ``--facts``
(a small set, so reviewers collide) for ``--seconds``: each reads the fact (``GET``, its ETag)
and posts its decision with that ``If-Match``, as the review UI does (``--blind``: the version it
last saw instead, without the read); a 409 answers the current fact, whose version it takes.

Every decision carries a unique comment (``client:n``). After the run, the store's decisions
and audit log are compared with what the clients were told: *lost* = a decision answered 200
that is not stored (or not in the audit log), *duplicated* = a comment stored twice or a stored
decision no client was told about, *refusals* = audit rows ``decision_refused`` beside the 409s
the clients got; each fact's version must be 1 + its decisions, and the hash chain must verify.

The peer in the same run: the same workload with ``Store.decide`` called in-process by as
many threads (no HTTP, no auth, no JSON) on the same database, so the ratio is what the
service adds; and PostgreSQL beside SQLite. Latencies are client-side, per decision request
(200 or 409). A benchmark prints; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests"))  # the PostgreSQL test server and free ports

import httpx  # noqa: E402
from _machine import format_machine  # noqa: E402

from clinex.core.errors import StaleVersionError  # noqa: E402
from clinex.review import Decision  # noqa: E402
from clinex.review.model import Action  # noqa: E402
from clinex.store import Store, open_store  # noqa: E402
from local_ports import free_port  # noqa: E402

LETTER = (ROOT / "examples" / "discharge_letter.txt").read_text(encoding="utf-8")
ACTIONS: tuple[Action, ...] = ("accept", "reject")


@dataclass
class ClientLog:
    """What one client sent and was told."""

    name: str
    latencies: list[float] = field(default_factory=list)
    acknowledged: dict[str, int | str] = field(default_factory=dict)  # comment → decision id
    conflicts: int = 0
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class Result:
    backend: str
    runner: str
    clients: int
    seconds: float
    decisions: int
    conflicts: int
    errors: int
    latencies: list[float]
    lost: int | None = None
    duplicated: int | None = None
    refusals_logged: str = "-"
    versions_ok: str = "-"
    chain_ok: str = "-"

    @property
    def rate(self) -> float:
        return self.decisions / self.seconds

    def percentile(self, q: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


# -- databases ----------------------------------------------------------------------------------
@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield str(folder / "review.sqlite")
        return
    import postgres_server

    why = postgres_server.missing()
    if why:
        raise SystemExit(f"PostgreSQL cannot start here: {why}")
    with postgres_server.postgres_server() as url:
        yield url


# -- the server ---------------------------------------------------------------------------------
@contextmanager
def serve(url: str, folder: Path) -> Iterator[str]:
    port = free_port()
    log = (folder / "server.log").open("wb")
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "clinex.cli",
        "serve",
        "--db",
        url,
        "--port",
        str(port),
        "--extractor",
        "rules",
    ]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"clinex serve exited ({proc.returncode}); see {folder / 'server.log'}")
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            raise SystemExit("clinex serve was not ready within 300 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def submit_notes(base: str, admin: str, count: int) -> list[str]:
    notes = [{"id": f"load-{i:03d}", "text": LETTER} for i in range(count)]
    headers = {"Authorization": f"Bearer {admin}"}
    response = httpx.post(f"{base}/jobs", json={"notes": notes}, headers=headers, timeout=120)
    response.raise_for_status()
    job = response.json()["job_id"]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        state = httpx.get(f"{base}/jobs/{job}", headers=headers, timeout=30).json()
        if state["status"] in ("done", "failed"):
            if state["failed"]:
                raise SystemExit(f"{state['failed']} notes failed to extract: {state['errors'][:3]}")
            return [n["id"] for n in notes]
        time.sleep(0.5)
    raise SystemExit("the extraction job did not finish within 600 s")


# -- the load -----------------------------------------------------------------------------------
def run_clients(
    base: str, keys: dict[str, str], facts: list[str], seconds: float, *, fresh: bool
) -> list[ClientLog]:
    versions = {fact: 1 for fact in facts}
    logs = [ClientLog(name) for name in keys]
    start = threading.Barrier(len(logs) + 1)
    deadline = [0.0]

    def client(log: ClientLog, token: str, seed: int) -> None:
        rng = random.Random(seed)
        known = dict(versions)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            start.wait()
            number = 0
            while time.monotonic() < deadline[0]:
                fact = rng.choice(facts)
                number += 1
                comment = f"{log.name}:{number}"
                body = {"action": rng.choice(ACTIONS), "comment": comment}
                if fresh:  # as the UI does: read the fact (its ETag), then decide
                    try:
                        shown = http.get(f"/facts/{fact}")
                        known[fact] = int(shown.headers["etag"].strip('"'))
                    except (httpx.HTTPError, KeyError, ValueError) as exc:
                        log.errors[type(exc).__name__] += 1
                        continue
                began = time.perf_counter()
                try:
                    response = http.post(
                        f"/facts/{fact}/decisions", json=body, headers={"If-Match": f'"{known[fact]}"'}
                    )
                except httpx.HTTPError as exc:
                    log.errors[type(exc).__name__] += 1
                    continue
                log.latencies.append(time.perf_counter() - began)
                if response.status_code == 200:
                    answer = response.json()
                    log.acknowledged[comment] = answer["decision"]["id"]
                    known[fact] = answer["fact"]["version"]
                elif response.status_code == 409:
                    log.conflicts += 1
                    known[fact] = response.json()["current"]["version"]
                else:
                    log.errors[str(response.status_code)] += 1

    threads = [
        threading.Thread(target=client, args=(log, keys[log.name], seed)) for seed, log in enumerate(logs)
    ]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    start.wait()
    for thread in threads:
        thread.join(seconds + 120)
    return logs


def run_bare(store: Store, clients: int, facts: list[str], seconds: float, *, fresh: bool) -> list[ClientLog]:
    """The peer: the same workload through Store.decide in-process."""
    positions = {}
    versions = {}
    for fact_id in facts:
        fact = store.fact(fact_id)
        assert fact is not None
        positions[fact_id], versions[fact_id] = fact.position, fact.version
    logs = [ClientLog(f"bare-{i:02d}") for i in range(clients)]
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(log: ClientLog, seed: int) -> None:
        rng = random.Random(1000 + seed)
        known = dict(versions)
        start.wait()
        number = 0
        while time.monotonic() < deadline[0]:
            fact = rng.choice(facts)
            number += 1
            comment = f"{log.name}:{number}"
            if fresh:
                current = store.fact(fact)
                assert current is not None
                known[fact] = current.version
            decision = Decision(
                action=rng.choice(ACTIONS), reviewer=log.name, index=positions[fact], comment=comment
            )
            began = time.perf_counter()
            try:
                after, record = store.decide(fact, expected_version=known[fact], decision=decision)
            except StaleVersionError as exc:
                log.latencies.append(time.perf_counter() - began)
                log.conflicts += 1
                known[fact] = exc.current.version  # type: ignore[attr-defined]
                continue
            except Exception as exc:
                log.errors[type(exc).__name__] += 1
                continue
            log.latencies.append(time.perf_counter() - began)
            log.acknowledged[comment] = record.id
            known[fact] = after.version

    threads = [threading.Thread(target=client, args=(log, seed)) for seed, log in enumerate(logs)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    start.wait()
    for thread in threads:
        thread.join(seconds + 120)
    return logs


# -- the checks ---------------------------------------------------------------------------------
def check(store: Store, facts: list[str], logs: list[ClientLog], result: Result) -> None:
    """Lost and duplicated decisions, against the decisions and the audit log of the store."""
    names = {log.name for log in logs}
    told = {comment: decision for log in logs for comment, decision in log.acknowledged.items()}
    stored = [d for fact in facts for d in store.decisions(fact=fact) if d.reviewer in names]
    by_comment = Counter(d.comment for d in stored)
    stored_ids = {d.id for d in stored}
    lost = sum(
        1 for comment, decision in told.items() if decision not in stored_ids or comment not in by_comment
    )
    duplicated = sum(n - 1 for n in by_comment.values() if n > 1) + sum(
        1 for c in by_comment if c not in told
    )
    audit = [row for row in store.audit() if row.actor in names]
    logged = Counter(row.comment for row in audit if row.action.startswith("decision:"))
    lost += sum(1 for comment in told if logged[comment] == 0)
    duplicated += sum(n - 1 for n in logged.values() if n > 1)
    refused = sum(1 for row in audit if row.action == "decision_refused")
    conflicts = sum(log.conflicts for log in logs)
    versions_ok = all(
        (fact := store.fact(fact_id)) is not None and fact.version == 1 + len(store.decisions(fact=fact_id))
        for fact_id in facts
    )
    result.lost, result.duplicated = lost, duplicated
    result.refusals_logged = f"{refused}/{conflicts}"
    result.versions_ok = "yes" if versions_ok else "NO"
    result.chain_ok = "yes" if store.verify_audit() is None else "NO"


def summarise(backend: str, runner: str, logs: list[ClientLog], seconds: float) -> Result:
    return Result(
        backend=backend,
        runner=runner,
        clients=len(logs),
        seconds=seconds,
        decisions=sum(len(log.acknowledged) for log in logs),
        conflicts=sum(log.conflicts for log in logs),
        errors=sum(sum(log.errors.values()) for log in logs),
        latencies=[latency for log in logs for latency in log.latencies],
    )


def run_backend(backend: str, args: argparse.Namespace) -> list[Result]:
    folder = Path(tempfile.mkdtemp(prefix=f"clinex-load-{backend}-"))
    try:
        with database(backend, folder) as url:
            with open_store(url) as store:
                admin = store.create_key(name="load-admin", role="admin")
                keys = {
                    f"load-{i:02d}": store.create_key(name=f"load-{i:02d}", role="reviewer")
                    for i in range(args.clients)
                }
            with serve(url, folder) as base:
                documents = submit_notes(base, admin, args.notes)
                with open_store(url) as store:
                    every = [f.id for doc in documents for f in store.document(doc).facts]  # type: ignore[union-attr]
                facts = every[: args.facts]
                print(
                    f"{backend}: {len(documents)} notes, {len(every)} facts, load on {len(facts)}",
                    file=sys.stderr,
                )
                logs = run_clients(base, keys, facts, args.seconds, fresh=not args.blind)
            service = summarise(backend, "clinex serve (HTTP)", logs, args.seconds)
            with open_store(url) as store:
                check(store, facts, logs, service)
                results = [service]
                if args.peer_seconds > 0:
                    bare_logs = run_bare(store, args.clients, facts, args.peer_seconds, fresh=not args.blind)
                    bare = summarise(backend, "Store.decide (in-process)", bare_logs, args.peer_seconds)
                    check(store, facts, bare_logs, bare)
                    results.append(bare)
            return results
    finally:
        shutil.rmtree(folder, ignore_errors=True)


COLUMNS = (
    "backend", "runner", "clients", "s", "decisions", "409s", "errors", "p50 ms", "p95 ms",
    "decisions/s", "lost", "duplicated", "refusals logged", "versions", "chain",
)  # fmt: skip


def row(r: Result) -> tuple[str, ...]:
    return (
        r.backend, r.runner, str(r.clients), f"{r.seconds:g}", str(r.decisions), str(r.conflicts),
        str(r.errors), f"{r.percentile(50):.1f}", f"{r.percentile(95):.1f}", f"{r.rate:.1f}",
        str(r.lost), str(r.duplicated), r.refusals_logged, r.versions_ok, r.chain_ok,
    )  # fmt: skip


def table(results: list[Result]) -> str:
    rows = [COLUMNS, *map(row, results)]
    widths = [max(len(cells[i]) for cells in rows) for i in range(len(COLUMNS))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(rows[0]), line(tuple("-" * w for w in widths)), *map(line, rows[1:])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent reviewers (default 20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="load per backend, at most (default 60)")
    parser.add_argument(
        "--notes", type=int, default=20, help="copies of the demo letter to review (default 20)"
    )
    parser.add_argument("--facts", type=int, default=100, help="facts decided on (fewer: more collisions)")
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--blind",
        action="store_true",
        help="decide on the version last seen, without reading the fact first (far more 409s)",
    )
    parser.add_argument(
        "--peer-seconds", type=float, default=20.0, help="the in-process Store.decide peer (0: skip)"
    )
    args = parser.parse_args()
    args.seconds = min(args.seconds, 60.0)  # bounded, as the issue asks

    results = [result for backend in args.backends for result in run_backend(backend, args)]
    print(format_machine(describe_packages()))
    how = (
        "If-Match the last version this client saw"
        if args.blind
        else "each fact read (GET, its ETag), then decided (POST, the timed request)"
    )
    print(
        f"inputs: {args.notes} copies of examples/discharge_letter.txt, {args.clients} clients, "
        f"decisions on {args.facts} facts, accept/reject at random, {how}\n"
    )
    print(table(results))
    print()
    rate = {(r.backend, r.runner.split()[0]): r.rate for r in results}
    for backend in args.backends:
        if rate.get((backend, "Store.decide")):
            ratio = rate[(backend, "clinex")] / rate[(backend, "Store.decide")]
            print(f"{backend}: the service makes {ratio:.2f}× the decisions/s of bare Store.decide")
    if ("sqlite", "clinex") in rate and ("postgresql", "clinex") in rate and rate[("sqlite", "clinex")]:
        ratio = rate[("postgresql", "clinex")] / rate[("sqlite", "clinex")]
        print(f"service on PostgreSQL / on SQLite: {ratio:.2f}× the decisions/s")


def describe_packages() -> dict[str, str]:
    from _machine import describe

    return describe(("clinex", "fastapi", "uvicorn", "sqlalchemy", "psycopg"))


if __name__ == "__main__":
    main()
