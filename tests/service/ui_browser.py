"""The review UI's test harness: the real service on a real uvicorn server on 127.0.0.1 (SQLite
in a tmp dir, the rules extractor in a worker process, keys made through the store), Debian's
Chromium driven by Playwright's sync API, and the page steps the tests share.
(tests/ is on sys.path via conftest.)"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from local_ports import free_port

ROOT = Path(__file__).resolve().parents[2]
LETTER = ROOT / "examples" / "discharge_letter.txt"
#: Debian's package (apt-get install chromium); Playwright's own browser download cannot run here.
CHROMIUM = "/usr/bin/chromium"
#: As root in a closed network: no sandbox, and no background connections that would be refused.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Playwright's wait for a page change after a key press (ms): generous for 2 busy cores.
WAIT_MS = 20_000


def chromium_path() -> str:
    """Debian's Chromium, or a skip saying how to install it."""
    found = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if not found:
        pytest.skip(f"Chromium not found at {CHROMIUM} or on PATH: apt-get install -y chromium")
    return found


@dataclass
class Server:
    url: str
    db: str
    keys: dict[str, str] = field(default_factory=dict)  # key name -> token

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[name]}"}

    def get(self, path: str, who: str, **params: Any) -> Any:
        answer = httpx.get(f"{self.url}{path}", headers=self.auth(who), params=params, timeout=60)
        assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text[:300]}"
        return answer

    def submit(self, notes: list[dict[str, Any]], who: str, timeout_s: float = 180) -> dict[str, Any]:
        """POST /jobs and wait until the job is done."""
        answer = httpx.post(f"{self.url}/jobs", json={"notes": notes}, headers=self.auth(who), timeout=60)
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["job_id"]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job: dict[str, Any] = self.get(f"/jobs/{job_id}", who).json()
            if job["status"] in ("done", "failed"):
                assert job["status"] == "done", job
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} not finished within {timeout_s} s")


@contextmanager
def review_server(tmp: Path, keys: dict[str, str], **settings: Any) -> Iterator[Server]:
    """The service on a free port with the rules extractor and its shipped calibration (the
    confidences a user sees): ``keys`` maps key names to roles; ``settings`` go to
    ServiceSettings (the review policy, say)."""
    import uvicorn

    from clinex.service.app import create_app
    from clinex.service.settings import ServiceSettings
    from clinex.store import open_store

    db = str(tmp / "review.db")
    app = create_app(ServiceSettings(db=db, extractor="rules", **settings))
    # Keys made the way `clinex keys create` makes them: through a store of their own.
    store = open_store(db)
    try:
        tokens = {name: store.create_key(name=name, role=role) for name, role in keys.items()}
    finally:
        store.close()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="review-ui-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert thread.is_alive(), "the server stopped while starting"
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service was not ready within 180 s"
            time.sleep(0.2)
        yield Server(url=url, db=db, keys=tokens)
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright makes a new empty profile for each launch)."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any) -> Any:
    """A page in a context of its own (its own sessionStorage: one reviewer each), failing the
    test on a script error."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.script_errors = errors
    return page


def sign_in(page: Any, server: Server, who: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.url}/ui")
    page.get_by_test_id("login-key").fill(server.keys[who])
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("queue")).to_be_visible()


def open_from_queue(page: Any, doc_id: str) -> None:
    """Open ``doc_id`` from the queue with the keyboard only: ↓ to its row, Enter."""
    from playwright.sync_api import expect

    rows = page.get_by_test_id("queue-row")
    expect(rows.first).to_be_focused()
    ids = [rows.nth(i).get_attribute("data-id") for i in range(rows.count())]
    assert doc_id in ids, ids
    for _ in range(ids.index(doc_id)):
        page.keyboard.press("ArrowDown")
    expect(page.locator(f'[data-testid="queue-row"][data-id="{doc_id}"]')).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("document")).to_be_visible()
    expect(page.get_by_test_id("fact-item").first).to_be_visible()


def current_fact_id(page: Any) -> str:
    return str(page.locator('[data-testid="fact-item"][aria-selected="true"]').get_attribute("data-fact-id"))


def go_to_fact(page: Any, fact_id: str) -> None:
    """Make ``fact_id`` the current fact with → and ← only."""
    from playwright.sync_api import expect

    items = page.get_by_test_id("fact-item")
    order = [items.nth(i).get_attribute("data-fact-id") for i in range(items.count())]
    delta = order.index(fact_id) - order.index(current_fact_id(page))
    for _ in range(abs(delta)):
        page.keyboard.press("ArrowRight" if delta > 0 else "ArrowLeft")
    expect(page.locator(f'[data-testid="fact-item"][data-fact-id="{fact_id}"]')).to_have_attribute(
        "aria-selected", "true"
    )


#: Selects note[start:end] in the rendered note, the way a reviewer's mouse would: a DOM Range
#: from the text node holding ``start`` to the one holding ``end`` (the letter is ASCII, so a
#: note offset minus its piece's data-start is the offset in the piece's text node).
SELECT_JS = """([start, end]) => {
  const pieces = [...document.querySelectorAll('[data-testid="note"] [data-start]')];
  const at = (offset, isEnd) => {
    const piece = pieces.find((p) => {
      const a = Number(p.dataset.start), b = Number(p.dataset.end);
      return isEnd ? a < offset && offset <= b : a <= offset && offset < b;
    });
    return [piece.firstChild, offset - Number(piece.dataset.start)];
  };
  const range = document.createRange();
  range.setStart(...at(start, false));
  range.setEnd(...at(end, true));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return selection.toString();
}"""


def select_text(page: Any, start: int, end: int) -> str:
    return str(page.evaluate(SELECT_JS, [start, end]))
