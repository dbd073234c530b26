"""The adjudication page (/ui/agreement) in a real browser (Debian's Chromium, Playwright) against
the real service on 127.0.0.1: two reviewers decide the demo letter's first facts differently
through the API; an admin, signed in once on the review page, sees the figures GET /agreement
answers and exactly its disagreements side by side, the differing field highlighted."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ui_browser import LETTER, ROOT, Server, chromium, chromium_path, new_page, review_server, sign_in

pytestmark = pytest.mark.slow  # a worker process, a server and a browser

TEXT = LETTER.read_text(encoding="utf-8")
DOC = "letter-agreement"
FLAGS = ("negated", "uncertain", "historical", "hypothetical", "family")
#: The README's screenshot of the page; rewritten only when asked (CLINEX_UPDATE_SCREENSHOTS=1),
#: as test_review_ui does, so a test run leaves the tree as it was.
SHOT = ROOT / "docs" / "review" / "agreement.png"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    chromium_path()  # skip before starting anything where there is no browser
    tmp = tmp_path_factory.mktemp("agreement-ui")
    keys = {"dr-a": "reviewer", "dr-b": "reviewer", "boss": "admin"}
    with review_server(tmp, keys, calibration="none") as running:
        running.submit([{"id": DOC, "text": TEXT}], "dr-a")
        _review_twice(running)
        yield running


def _review_twice(server: Server) -> None:
    """dr-a accepts facts 0, 1, 2 and rejects 3; dr-b accepts 0, rejects 1, flips 2's negation
    and accepts 3 (each on the version the other left)."""
    f0, f1, f2, f3 = _first_facts(server)
    for fact in (f0, f1, f2):
        _decide(server, "dr-a", fact["id"], "accept")
    _decide(server, "dr-a", f3["id"], "reject")
    _decide(server, "dr-b", f0["id"], "accept")
    _decide(server, "dr-b", f1["id"], "reject")
    flipped = not f2["assertion"]["negated"]
    corrected = _decide(
        server, "dr-b", f2["id"], "correct", changes={"assertion": {**f2["assertion"], "negated": flipped}}
    )
    assert corrected["assertion"]["negated"] is flipped
    _decide(server, "dr-b", f3["id"], "accept")


def _first_facts(server: Server) -> list[dict[str, Any]]:
    """The letter's first four facts as stored now (decisions keep a fact's id and position)."""
    facts: list[dict[str, Any]] = server.get(f"/documents/{DOC}", "dr-a").json()["facts"]
    assert len(facts) >= 4, "the letter gives fewer than four facts"
    return facts[:4]


def _decide(server: Server, who: str, fact_id: str, action: str, **body: Any) -> dict[str, Any]:
    """A decision on the fact's current version (GET /facts/{id}'s ETag)."""
    current = httpx.get(f"{server.url}/facts/{fact_id}", headers=server.auth(who), timeout=60)
    assert current.status_code == 200, current.text
    answer = httpx.post(
        f"{server.url}/facts/{fact_id}/decisions",
        json={"action": action, **body},
        headers={**server.auth(who), "If-Match": current.headers["ETag"]},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    fact: dict[str, Any] = answer.json()["fact"]
    return fact


def _shown(text: str) -> float | None:
    """A figure as the page shows it: the number, or None for "–" / "undefined"."""
    return None if text.strip() in ("–", "undefined") else float(text)


def test_the_adjudication_page_shows_the_agreement_and_each_disagreement(
    server: Server, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    _, f1, f2, f3 = _first_facts(server)
    flipped = f2["assertion"]["negated"]  # the stored fact as dr-b's correction left it

    # What the API says: the three disagreements the decisions made.
    expected = server.get("/agreement", "boss", a="dr-a", b="dr-b").json()
    assert expected["reviewers"] == ["dr-a", "dr-b"]
    listed = {(d["a_fact"], d["b_fact"]): d for d in expected["disagreements"]}
    assert set(listed) == {(f1["id"], None), (f2["id"], f2["id"]), (None, f3["id"])}
    assert listed[f2["id"], f2["id"]]["differs"] == ["assertion"]
    overall = expected["overall"]
    assert overall["f1"]["exact"] == overall["f1"]["overlap"] == round(2 * 2 / 6, 4)  # 0 and 2 kept by both

    with chromium() as browser:
        page = new_page(browser)
        # One sign-in on the review page: the agreement page shares its key (sessionStorage).
        sign_in(page, server, "boss")
        page.goto(f"{server.url}/ui/agreement?a=dr-a&b=dr-b")
        expect(page.get_by_test_id("login")).to_be_hidden()
        expect(page.locator("body")).to_have_attribute("data-loaded", "true")
        expect(page.get_by_test_id("input-a")).to_have_value("dr-a")
        expect(page.get_by_test_id("reviewer-a")).to_have_text("dr-a")
        expect(page.get_by_test_id("reviewer-b")).to_have_text("dr-b")

        # The overall figures are the API's.
        for path in ("f1-exact", "f1-overlap"):
            value = overall["f1"][path.removeprefix("f1-")]
            assert _shown(page.get_by_test_id(f"overall-{path}").inner_text()) == value
        for name, key in (
            ("a", "a"),
            ("b", "b"),
            ("exact", "exact"),
            ("overlap", "overlap"),
            ("compared", "compared_facts"),
        ):
            assert page.get_by_test_id(f"overall-count-{name}").inner_text() == str(overall["counts"][key])
        defined = 0
        for flag in FLAGS:
            row = page.locator(f'[data-testid="kappa-row"][data-flag="{flag}"]')
            kappa = overall["kappa"][flag]
            assert _shown(row.get_by_test_id("kappa-value").inner_text()) == kappa["kappa"], flag
            assert row.get_by_test_id("kappa-n").inner_text() == str(kappa["n"])
            if kappa["kappa"] is None:
                assert row.get_by_test_id("kappa-why").inner_text() == kappa["undefined"]
            else:
                defined += 1
        assert defined == 1, "only the flipped flag varies between the reviewers"
        doc_row = page.locator(f'[data-testid="document-row"][data-id="{DOC}"]')
        assert _shown(doc_row.get_by_test_id("document-f1-exact").inner_text()) == overall["f1"]["exact"]
        assert doc_row.get_by_test_id("document-disagreements").inner_text() == "3"

        # Exactly the API's disagreements, each linked to the review page of its document.
        cards = page.get_by_test_id("disagreement")
        expect(cards).to_have_count(len(listed))
        shown = {}
        for i in range(cards.count()):
            card = cards.nth(i)
            key = (card.get_attribute("data-a-fact") or None, card.get_attribute("data-b-fact") or None)
            shown[key] = card
            assert card.get_attribute("data-document") == DOC
            assert card.get_by_test_id("review-link").get_attribute("href") == f"/ui#/documents/{DOC}"
        assert set(shown) == set(listed)

        # Fact 2: both kept it; only its assertion differs, highlighted on both sides, in the note.
        both = shown[f2["id"], f2["id"]]
        for side in ("side-a", "side-b"):
            fields = both.get_by_test_id(side).locator("dd[data-field]")
            highlighted = {
                fields.nth(i).get_attribute("data-field")
                for i in range(fields.count())
                if fields.nth(i).get_attribute("data-differs") == "true"
            }
            assert highlighted == {"assertion"}, (side, highlighted)
            expect(both.get_by_test_id(side).locator("dd.differs")).to_have_count(1)
        flag = both.get_by_test_id("side-b").locator('[data-flag="negated"]')
        expect(flag).to_have_attribute("data-differs", "true")
        expect(flag).to_have_attribute("data-on", str(flipped).lower())
        expect(both.get_by_test_id("side-a").get_by_test_id("action")).to_contain_text("accept")
        expect(both.get_by_test_id("side-b").get_by_test_id("action")).to_contain_text("correct")
        span = both.get_by_test_id("context").get_by_test_id("context-span")
        expect(span).to_have_text(f2["text"])
        assert span.get_attribute("class") == "in-a in-b"
        context = both.get_by_test_id("context").inner_text()
        assert TEXT[f2["start"] : f2["end"]] in context and len(context) < len(TEXT) // 4

        # Facts 1 and 3: one side kept the fact, the other rejected it.
        a_only, b_only = shown[f1["id"], None], shown[None, f3["id"]]
        expect(a_only.get_by_test_id("side-b")).to_have_attribute("data-differs", "true")
        expect(a_only.get_by_test_id("side-b").get_by_test_id("absent")).to_contain_text("dr-b rejected")
        expect(a_only.get_by_test_id("side-a").locator('dd[data-field="text"]')).to_have_text(f1["text"])
        expect(b_only.get_by_test_id("side-a").get_by_test_id("absent")).to_contain_text("dr-a rejected")
        expect(b_only.get_by_test_id("context").get_by_test_id("context-span")).to_have_text(f3["text"])

        page.screenshot(path=tmp_path / "agreement.png", full_page=True)

        # The link opens the review page on that document.
        both.get_by_test_id("review-link").click()
        expect(page.get_by_test_id("document")).to_be_visible()
        expect(page.locator(f'[data-testid="fact-item"][data-fact-id="{f2["id"]}"]')).to_be_visible()
        assert page.script_errors == []

    if os.environ.get("CLINEX_UPDATE_SCREENSHOTS") == "1":
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / "agreement.png", SHOT)


def test_a_reviewer_key_is_sent_back_to_sign_in(server: Server) -> None:
    """The page needs an admin key: a reviewer's is refused (403) and the sign-in form shown."""
    from playwright.sync_api import expect

    with chromium() as browser:
        page = new_page(browser)
        page.goto(f"{server.url}/ui/agreement")
        expect(page.get_by_test_id("login")).to_be_visible()
        page.get_by_test_id("login-key").fill(server.keys["dr-a"])
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("status")).to_contain_text("admin key")
        expect(page.get_by_test_id("login")).to_be_visible()
        page.get_by_test_id("login-key").fill(server.keys["boss"])
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("agreement")).to_be_visible()
        expect(page.get_by_test_id("login")).to_be_hidden()
        assert page.script_errors == []


def test_left_empty_the_reviewers_are_the_two_who_decided_most(server: Server) -> None:
    """Both fields empty: the API picks the two who decided most, and the page says whom."""
    from playwright.sync_api import expect

    assert server.get("/agreement", "boss").json()["reviewers"] == ["dr-a", "dr-b"]
    with chromium() as browser:
        page = new_page(browser)
        sign_in(page, server, "boss")
        page.goto(f"{server.url}/ui/agreement")
        expect(page.locator("body")).to_have_attribute("data-loaded", "true")
        expect(page.get_by_test_id("reviewer-b")).to_have_text("dr-b")
        expect(page.get_by_test_id("input-b")).to_have_attribute("placeholder", "dr-b")
        expect(page.get_by_test_id("disagreement")).to_have_count(3)
