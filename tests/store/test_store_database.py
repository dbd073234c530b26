"""The review store on real SQLite and PostgreSQL: jobs, extraction, decisions with optimistic
concurrency, the review queue, the audit chain and API keys."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from clinex.core.errors import (
    ConfigError,
    ConflictError,
    InputError,
    NotFoundError,
    StaleVersionError,
)
from clinex.core.serialize import entity_to_dict
from clinex.core.types import Entity
from clinex.review.model import SYSTEM_REVIEWER, Decision, Fact
from clinex.review.policy import FactReview
from clinex.store import DuplicateDocumentError, NewNote, Store, open_store
from clinex.store.keys import hash_token

NOTE = "Patient has asthma. Denies chest pain. Takes metformin daily. Sister had breast cancer."


def entity(phrase: str, type: str = "condition", confidence: float = 0.9, note: str = NOTE) -> dict[str, Any]:
    start = note.index(phrase)
    return entity_to_dict(
        Entity(type=type, text=phrase, start=start, end=start + len(phrase), confidence=confidence)  # type: ignore[arg-type]
    )


ENTITIES = [
    entity("asthma", confidence=0.41),
    entity("chest pain", confidence=0.8),
    entity("metformin", type="medication", confidence=0.97),
]


def extracted(
    store: Store,
    doc_id: str = "n1",
    *,
    note: str = NOTE,
    entities: list[dict[str, Any]] | None = None,
    review: list[FactReview] | None = None,
) -> list[Fact]:
    """Submit one note, claim its job and store its extraction."""
    entities = ENTITIES if entities is None else entities
    store.submit([NewNote(id=doc_id, text=note)], options={}, actor="dr-a")
    assert store.claim_job() is not None
    return store.save_extraction(
        doc_id,
        entities=entities,
        meta={"extractor": "rules.v1"},
        review=review if review is not None else [FactReview() for _ in entities],
    )


def decision(action: str, reviewer: str = "dr-a", **changes: Any) -> Decision:
    return Decision(action=action, reviewer=reviewer, index=0, changes=changes)  # type: ignore[arg-type]


def raw_engine(url: str) -> Any:
    if url.startswith("postgresql://"):
        return create_engine("postgresql+psycopg://" + url.removeprefix("postgresql://"))
    return create_engine(f"sqlite:///{url}")


# --- jobs -----------------------------------------------------------------------------------


def test_a_submitted_job_and_its_documents_are_queued(store: Store) -> None:
    notes = [
        NewNote(id="a", text="Has asthma.", patient={"resourceType": "Patient"}),
        NewNote(id="b", text="No pain."),
    ]
    job_id = store.submit(notes, options={"extractor": "rules"}, actor="dr-a")
    job = store.job(job_id)
    assert job is not None and job.status == "queued" and job.documents == ["a", "b"]
    assert job.options == {"extractor": "rules"} and (job.done, job.failed) == (0, 0)
    doc = store.document("a")
    assert doc is not None and doc.status == "queued" and doc.patient == {"resourceType": "Patient"}
    assert store.pending_documents(job_id) == [
        ("a", "Has asthma.", {"resourceType": "Patient"}),
        ("b", "No pain.", None),
    ]
    assert [(r.action, r.document, r.actor) for r in store.audit()] == [
        ("submit", "a", "dr-a"),
        ("submit", "b", "dr-a"),
    ]
    assert store.job("nope") is None and store.document("nope") is None


def test_a_duplicate_id_is_refused_and_nothing_of_its_job_is_stored(store: Store) -> None:
    store.submit([NewNote(id="n1", text="first")], options={}, actor="dr-a")
    with pytest.raises(DuplicateDocumentError, match="'n1'") as caught:
        store.submit(
            [NewNote(id="n2", text="second"), NewNote(id="n1", text="again")], options={}, actor="dr-a"
        )
    assert isinstance(caught.value, ConflictError) and "again" not in str(caught.value)
    with pytest.raises(DuplicateDocumentError, match="'n3'"):
        store.submit([NewNote(id="n3", text="x"), NewNote(id="n3", text="y")], options={}, actor="dr-a")
    assert store.document("n2") is None and store.document("n3") is None
    assert [s.id for s in store.documents()] == ["n1"]
    assert len(store.audit()) == 1
    first = store.document("n1")
    assert first is not None and first.text == "first"
    claimed = store.claim_job()
    assert claimed is not None and claimed.documents == ["n1"] and store.claim_job() is None


def test_two_workers_never_claim_the_same_job(store: Store) -> None:
    submitted = {store.submit([NewNote(id=f"n{i}", text="x")], options={}, actor="a") for i in range(8)}
    claimed: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def work(mine: list[str]) -> None:
        start.wait()
        while (job := store.claim_job()) is not None:
            assert job.status == "running" and job.started_at is not None
            mine.append(job.id)

    threads = [threading.Thread(target=work, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = claimed[0] + claimed[1]
    assert sorted(everything) == sorted(submitted) and len(set(everything)) == 8


def test_interrupted_jobs_go_back_to_the_queue_with_what_they_did_kept(store: Store) -> None:
    first = store.submit([NewNote(id="a", text=NOTE), NewNote(id="b", text=NOTE)], options={}, actor="x")
    second = store.submit([NewNote(id="c", text=NOTE)], options={}, actor="x")
    job = store.claim_job()
    assert job is not None and job.id == first
    store.save_extraction("a", entities=ENTITIES[:1], meta={}, review=[FactReview()])
    assert store.requeue_interrupted() == 1 and store.requeue_interrupted() == 0
    again = store.job(first)
    assert again is not None and again.status == "queued" and again.done == 1
    resumed = store.claim_job()
    assert resumed is not None and resumed.id == first
    assert [doc[0] for doc in store.pending_documents(first)] == ["b"]
    later = store.job(second)
    assert later is not None and later.status == "queued"


def test_a_finished_job_counts_documents_done_and_failed(store: Store) -> None:
    job_id = store.submit([NewNote(id="a", text=NOTE), NewNote(id="b", text="")], options={}, actor="x")
    store.claim_job()
    store.save_extraction("a", entities=[], meta={}, review=[])
    store.fail_document("b", code="E101", message="document 'b' holds no text")
    job = store.finish_job(job_id)
    assert job.status == "done" and job.finished_at is not None and (job.done, job.failed) == (1, 1)
    assert job.errors == [{"id": "b", "code": "E101", "message": "document 'b' holds no text"}]
    failed_doc = store.document("b")
    assert (
        failed_doc is not None
        and failed_doc.status == "failed"
        and failed_doc.error
        == {
            "code": "E101",
            "message": "document 'b' holds no text",
        }
    )
    only_failures = store.submit([NewNote(id="c", text="")], options={}, actor="x")
    store.claim_job()
    store.fail_document("c", code="E101", message="empty")
    assert store.finish_job(only_failures).status == "failed"
    with pytest.raises(NotFoundError):
        store.finish_job("nope")
    with pytest.raises(NotFoundError):
        store.fail_document("nope", code="E1", message="x")


# --- extraction -----------------------------------------------------------------------------


def test_an_extraction_stores_facts_with_the_policys_verdicts_and_auto_accepts(store: Store) -> None:
    review = [
        FactReview(required=True, reason="confidence 0.41 < 0.6"),
        FactReview(),
        FactReview(auto_accept=True),
    ]
    stored = extracted(store, review=review)
    assert [(f.position, f.version, f.review_status, f.origin) for f in stored] == [
        (0, 1, "pending", "extracted"),
        (1, 1, "pending", "extracted"),
        (2, 1, "auto_accepted", "extracted"),
    ]
    assert stored[0].required and stored[0].reason == "confidence 0.41 < 0.6"
    doc = store.document("n1")
    assert doc is not None and doc.status == "extracted" and doc.meta == {"extractor": "rules.v1"}
    assert doc.facts == stored and store.fact(stored[1].id) == stored[1]
    assert [dict(f.entity) for f in doc.facts] == ENTITIES
    (auto,) = store.decisions(document="n1")
    assert (auto.fact, auto.reviewer, auto.action, auto.version) == (
        stored[2].id,
        SYSTEM_REVIEWER,
        "accept",
        1,
    )
    assert [(r.action, r.actor) for r in store.audit(document="n1")] == [
        ("submit", "dr-a"),
        ("extract", "system"),
        ("auto_accept", SYSTEM_REVIEWER),
    ]
    assert store.audit(document="n1")[1].model == {"extractor": "rules.v1"}
    with pytest.raises(ConflictError, match="extracted already"):
        store.save_extraction("n1", entities=ENTITIES, meta={}, review=[FactReview()] * 3)
    with pytest.raises(NotFoundError):
        store.save_extraction("nope", entities=[], meta={}, review=[])
    assert len(store.document("n1").facts) == 3  # type: ignore[union-attr]
    assert store.verify_audit() is None


# --- decisions ------------------------------------------------------------------------------


def test_accept_reject_and_correct_move_the_fact_on_one_version_each(store: Store) -> None:
    asthma, pain, metformin = extracted(store)
    accepted, record = store.decide(asthma.id, expected_version=1, decision=decision("accept"))
    assert (accepted.version, accepted.review_status, dict(accepted.entity)) == (2, "accepted", ENTITIES[0])
    assert (record.action, record.version, record.reviewer, record.after) == (
        "accept",
        2,
        "dr-a",
        ENTITIES[0],
    )

    rejected, record = store.decide(pain.id, expected_version=1, decision=decision("reject", "dr-b"))
    assert (rejected.version, rejected.review_status) == (2, "rejected")
    assert dict(rejected.entity) == ENTITIES[1] and record.after is None and record.before == ENTITIES[1]

    corrected, record = store.decide(
        metformin.id, expected_version=1, decision=decision("correct", attributes={"frequency": "daily"})
    )
    assert corrected.review_status == "corrected" and corrected.version == 2
    assert corrected.entity["attributes"] == {"frequency": "daily"} and corrected.entity["confidence"] == 1.0
    assert record.before == ENTITIES[2] and record.after == dict(corrected.entity)
    assert store.fact(metformin.id) == corrected and store.fact(pain.id) == rejected

    again, _ = store.decide(pain.id, expected_version=2, decision=decision("accept", "dr-b"))
    assert (again.version, again.review_status) == (3, "accepted")
    assert [d.action for d in store.decisions(fact=pain.id)] == ["reject", "accept"]
    trail = [(r.action, r.actor) for r in store.audit(document="n1")][2:]
    assert trail == [
        ("decision:accept", "dr-a"),
        ("decision:reject", "dr-b"),
        ("decision:correct", "dr-a"),
        ("decision:accept", "dr-b"),
    ]
    assert store.audit()[-1].before == ENTITIES[1]
    assert store.verify_audit() is None


def test_a_decision_on_a_stale_version_is_refused_and_both_attempts_are_audited(store: Store) -> None:
    asthma, *_ = extracted(store)
    store.decide(asthma.id, expected_version=1, decision=decision("accept", "dr-a"))
    with pytest.raises(StaleVersionError) as caught:
        store.decide(
            asthma.id, expected_version=1, decision=decision("correct", "dr-b", text="asthma", start=12)
        )
    current = caught.value.current
    assert isinstance(current, Fact) and current.version == 2 and current.review_status == "accepted"
    assert store.fact(asthma.id) == current
    assert [(d.reviewer, d.action) for d in store.decisions(fact=asthma.id)] == [("dr-a", "accept")]
    winner, refused = store.audit(document="n1")[-2:]
    assert (winner.action, winner.actor) == ("decision:accept", "dr-a")
    assert (refused.action, refused.actor) == ("decision_refused", "dr-b")
    assert refused.before == ENTITIES[0] and refused.after == {"text": "asthma", "start": 12}
    assert refused.model == {"attempted": "correct", "expected_version": 1, "current_version": 2}
    assert store.verify_audit() is None
    with pytest.raises(NotFoundError):
        store.decide("no-such-fact", expected_version=1, decision=decision("accept"))


def test_a_correction_whose_span_does_not_hold_its_text_is_refused_with_nothing_stored(store: Store) -> None:
    asthma, *_ = extracted(store)
    before = store.audit()
    with pytest.raises(InputError, match="does not hold") as caught:
        store.decide(
            asthma.id, expected_version=1, decision=decision("correct", start=0, end=6, text="asthma")
        )
    assert NOTE[:6] not in str(caught.value)
    assert store.fact(asthma.id) == asthma and store.decisions(fact=asthma.id) == []
    assert store.audit() == before


def test_five_reviewers_on_one_fact_one_wins_the_others_are_refused(store: Store) -> None:
    asthma, *_ = extracted(store)
    start = threading.Barrier(5)
    outcomes: list[str] = []

    def review(reviewer: str) -> None:
        start.wait()
        try:
            store.decide(asthma.id, expected_version=1, decision=decision("accept", reviewer))
            outcomes.append("won")
        except StaleVersionError:
            outcomes.append("stale")

    threads = [threading.Thread(target=review, args=(f"dr-{i}",)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["stale"] * 4 + ["won"]
    fact = store.fact(asthma.id)
    assert fact is not None and fact.version == 2 and len(store.decisions(fact=asthma.id)) == 1
    actions = [r.action for r in store.audit()]
    assert actions.count("decision:accept") == 1 and actions.count("decision_refused") == 4
    assert store.verify_audit() is None


def test_ten_reviewers_deciding_at_once_lose_no_decision_and_keep_the_chain(store: Store) -> None:
    words = [f"finding{i}" for i in range(10)]
    note = " ".join(words)
    facts = extracted(store, note=note, entities=[entity(w, note=note) for w in words])
    start = threading.Barrier(10)
    errors: list[BaseException] = []

    def review(fact: Fact) -> None:
        start.wait()
        try:
            reviewer = f"dr-{fact.position}"
            store.decide(fact.id, expected_version=1, decision=decision("accept", reviewer))
            store.decide(
                fact.id, expected_version=2, decision=decision("correct", reviewer, type="procedure")
            )
            store.decide(fact.id, expected_version=3, decision=decision("reject", reviewer))
            store.record_access("n1", actor=reviewer, what="view")
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=review, args=(fact,)) for fact in facts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.decisions(document="n1")) == 30
    for fact in facts:
        now = store.fact(fact.id)
        assert now is not None and now.version == 4 and now.review_status == "rejected"
        assert now.entity["type"] == "procedure"
    rows = store.audit()
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1)) and len(rows) == 2 + 30 + 10
    assert store.verify_audit() is None


def test_a_reviewer_adds_a_missed_fact_after_the_others(store: Store) -> None:
    extracted(store)
    added, record = store.add_fact(
        "n1",
        entity={
            "type": "condition",
            "text": "breast cancer",
            "start": 73,
            "end": 86,
            "assertion": {"family": True},
        },
        reviewer="dr-a",
        comment="family history",
    )
    assert NOTE[73:86] == "breast cancer"
    assert (added.position, added.version, added.origin, added.review_status) == (3, 1, "reviewer", "added")
    assert added.entity["assertion"]["family"] is True and not added.required
    assert (record.action, record.before, record.after, record.comment) == (
        "add",
        None,
        dict(added.entity),
        "family history",
    )
    doc = store.document("n1")
    assert doc is not None and [f.position for f in doc.facts] == [0, 1, 2, 3]
    assert store.audit()[-1].action == "decision:add" and store.audit()[-1].comment == "family history"
    with pytest.raises(InputError, match="does not hold"):
        store.add_fact(
            "n1",
            entity={"type": "condition", "text": "cancer", "start": 0, "end": 6},
            reviewer="dr-a",
            comment=None,
        )
    with pytest.raises(InputError, match="confidence"):
        store.add_fact("n1", entity={**ENTITIES[0], "confidence": 1.0}, reviewer="dr-a", comment=None)
    with pytest.raises(NotFoundError):
        store.add_fact(
            "nope",
            entity={"type": "condition", "text": "asthma", "start": 12, "end": 18},
            reviewer="dr-a",
            comment=None,
        )
    store.submit([NewNote(id="queued", text=NOTE)], options={}, actor="x")
    with pytest.raises(ConflictError, match="queued"):
        store.add_fact(
            "queued",
            entity={"type": "condition", "text": "asthma", "start": 12, "end": 18},
            reviewer="a",
            comment=None,
        )
    assert len(store.document("n1").facts) == 4  # type: ignore[union-attr]


# --- the review queue -----------------------------------------------------------------------


def test_the_review_queue_puts_the_least_confident_first_and_filters(store: Store) -> None:
    extracted(store, "high", entities=[entity("asthma", confidence=0.95)])
    extracted(
        store,
        "low",
        entities=[entity("asthma", confidence=0.3), entity("metformin", type="medication", confidence=0.9)],
        review=[FactReview(required=True, reason="low"), FactReview()],
    )
    extracted(
        store, "mid", entities=[entity("chest pain", confidence=0.6)], review=[FactReview(required=True)]
    )
    store.submit([NewNote(id="waiting", text=NOTE)], options={}, actor="x")

    def ids(**filters: Any) -> list[str]:
        return [summary.id for summary in store.documents(**filters)]

    assert ids() == ["low", "mid", "high", "waiting"]
    low = store.documents()[0]
    assert (low.facts, low.pending, low.required_open, low.min_confidence, low.status) == (
        2,
        2,
        1,
        0.3,
        "extracted",
    )
    assert ids(status="queued") == ["waiting"]
    assert ids(type="medication") == ["low"]
    assert ids(min_confidence=0.5) == ["low", "mid", "high"]  # low has a fact at 0.9
    assert ids(max_confidence=0.5) == ["low"]
    assert ids(type="condition", min_confidence=0.5, max_confidence=0.7) == ["mid"]
    assert ids(needs_review=True) == ["low", "mid"]
    assert ids(needs_review=False) == ["high", "waiting"]
    assert ids(limit=2, offset=1) == ["mid", "high"]

    (mid_fact,) = store.document("mid").facts  # type: ignore[union-attr]
    store.decide(mid_fact.id, expected_version=1, decision=decision("accept", "dr-b"))
    assert (
        ids(needs_review=True) == ["low"] and ids(reviewer="dr-b") == ["mid"] and ids(reviewer="dr-a") == []
    )
    assert store.documents(reviewer="dr-b")[0].reviewers == ["dr-b"]
    extracted(
        store, "auto", entities=[entity("asthma", confidence=0.99)], review=[FactReview(auto_accept=True)]
    )
    auto = next(s for s in store.documents() if s.id == "auto")
    assert auto.reviewers == [] and auto.pending == 0
    with pytest.raises(InputError):
        store.documents(limit=-1)


# --- audit ----------------------------------------------------------------------------------


def test_an_edited_audit_row_is_named_by_verify(store: Store, store_url: str) -> None:
    asthma, *_ = extracted(store)
    store.decide(asthma.id, expected_version=1, decision=decision("accept"))
    store.record_access("n1", actor="dr-a", what="view")
    assert store.audit()[-1].action == "access:view"
    assert store.verify_audit() is None and len(store.audit()) == 4
    engine = raw_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit SET actor = 'mallory' WHERE seq = 3"))
        assert store.verify_audit() == 3
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit SET actor = 'dr-a' WHERE seq = 3"))
        assert store.verify_audit() is None
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit WHERE seq = 4"))
        assert store.verify_audit() == 4  # cut off at the end: the head still says 4
    finally:
        engine.dispose()


# --- API keys -------------------------------------------------------------------------------


def test_keys_are_stored_as_hashes_and_revoked_keys_stop_working(store: Store, store_url: str) -> None:
    token = store.create_key(name="alice", role="reviewer")
    admin = store.create_key(name="root", role="admin")
    assert token.startswith("clx_") and len(token) >= 4 + 43 and token != admin
    key = store.key_for(token)
    assert key is not None and (key.name, key.role) == ("alice", "reviewer")
    assert store.key_for(admin).role == "admin"  # type: ignore[union-attr]
    assert store.key_for(token + "x") is None and store.key_for("not-a-key") is None
    engine = raw_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = [tuple(map(str, row)) for row in conn.execute(text("SELECT * FROM api_keys"))]
    finally:
        engine.dispose()
    assert not any(token in value or admin in value for row in rows for value in row)
    assert any(hash_token(token) in row for row in rows)
    with pytest.raises(ConflictError, match="alice"):
        store.create_key(name="alice", role="admin")
    with pytest.raises(ConfigError, match="role"):
        store.create_key(name="bob", role="owner")
    live = store.keys()
    assert [k.name for k in live] == ["alice", "root"]
    assert store.revoke_key("alice") is True and store.revoke_key("alice") is False
    live = store.keys()
    assert store.key_for(token) is None and [k.name for k in live] == ["root"]
    renewed = store.create_key(name="alice", role="admin")
    assert store.key_for(renewed).role == "admin" and store.key_for(token) is None  # type: ignore[union-attr]


# --- opening ----------------------------------------------------------------------------------


def test_a_fresh_store_reaches_the_newest_revision_and_opens_again(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from clinex.store import migrate
    from clinex.store.schema import metadata

    first = open_store(store_url)
    first.create_key(name="a", role="admin")
    second = open_store(store_url)
    try:
        live = second.keys()
        assert [k.name for k in live] == ["a"]
    finally:
        first.close()
        second.close()
    engine = raw_engine(store_url)
    try:
        assert migrate.current(engine) == migrate.head() == "0001"
        with engine.connect() as conn:
            # The migration creates exactly the tables and indices schema.py declares.
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def test_a_store_url_it_cannot_open_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mysql"):
        open_store("mysql://db/review")
    with pytest.raises(ConfigError, match="does not exist"):
        open_store(str(tmp_path / "missing" / "review.db"))
    with pytest.raises(ConfigError):
        open_store("sqlite:///:memory:")
    store = open_store(f"sqlite:///{tmp_path / 'review.db'}")
    store.close()
    assert (tmp_path / "review.db").is_file()


def test_the_public_api_resolves() -> None:
    import clinex.store

    assert all(getattr(clinex.store, name) is not None for name in clinex.store.__all__)
    with pytest.raises(AttributeError):
        _ = clinex.store.nothing_here  # type: ignore[attr-defined]
