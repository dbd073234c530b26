"""The review service's API in-process (starlette's TestClient: httpx over the ASGI app) on a real
database and a real extraction worker: jobs, documents, decisions with ETags, policy, export,
audit, agreement — on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review_service import NOTE, Review, review_service

from clinex.corpora.jsonl import read_jsonl
from clinex.fhir.validate import validate_bundle, validate_resource

pytestmark = pytest.mark.slow

FACT_FIELDS = {
    "id", "document", "version", "type", "start", "end", "text", "alignment", "assertion", "code",
    "attributes", "confidence", "review_status", "review_required", "review_reason", "origin", "decisions",
}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "review.db")
    fresh_database = request.getfixturevalue("postgres_database")
    url: str = fresh_database
    return url


@pytest.fixture()
def review(db: str) -> Iterator[Review]:
    with review_service(db) as service:
        yield service


def extracted(review: Review, doc_id: str = "n1", text: str = NOTE) -> dict[str, Any]:
    job = review.submit([{"id": doc_id, "text": text}])
    assert job["status"] == "done" and job["done"] == 1, job
    return review.document(doc_id)


def test_a_job_extracts_its_notes_into_grounded_facts_of_the_contract_shape(review: Review) -> None:
    doc = extracted(review)
    assert doc["status"] == "extracted" and doc["text"] == NOTE
    assert len(doc["facts"]) >= 3
    for fact in doc["facts"]:
        assert set(fact) == FACT_FIELDS
        assert NOTE[fact["start"] : fact["end"]] == fact["text"]
        assert fact["version"] == 1 and fact["review_status"] == "pending"
    assert doc["meta"]["extractor"].startswith("rules"), "the extraction's provenance is kept"
    queue = review.client.get("/documents", headers=review.reviewer).json()["documents"]
    assert [row["id"] for row in queue] == ["n1"] and queue[0]["pending"] == len(doc["facts"])


def test_no_key_is_401_an_unknown_key_401_and_a_reviewer_may_not_export(review: Review) -> None:
    assert review.client.get("/documents").status_code == 401
    wrong = review.client.get("/documents", headers={"Authorization": "Bearer clx_nonesuch"})
    assert wrong.status_code == 401 and "clx_nonesuch" not in wrong.text
    assert review.client.get("/export", headers=review.reviewer).status_code == 403
    assert review.client.get("/export", headers=review.admin).status_code == 200
    assert review.client.get("/openapi.json").status_code == 401
    spec = review.client.get("/openapi.json", headers=review.reviewer).json()
    assert "/facts/{fact_id}/decisions" in spec["paths"]
    review.client.app.state.store.revoke_key("dr-a")  # type: ignore[attr-defined]
    assert review.client.get("/documents", headers=review.reviewer).status_code == 401


def test_a_refused_job_stores_nothing(review: Review) -> None:
    extracted(review)
    taken = review.client.post(
        "/jobs", json={"notes": [{"id": "fresh", "text": "Asthma."}, {"id": "n1", "text": "Asthma."}]},
        headers=review.reviewer,
    )  # fmt: skip
    assert taken.status_code == 409 and "'n1'" in taken.json()["error"]["message"]
    assert review.client.get("/documents/fresh", headers=review.reviewer).status_code == 404
    empty = review.client.post("/jobs", json={"notes": [{"id": "e", "text": "  "}]}, headers=review.reviewer)
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "E101"
    unknown = review.client.post("/jobs", json={"notes": [{"id": "u", "txt": NOTE}]}, headers=review.reviewer)
    assert unknown.status_code == 422 and "txt" in unknown.json()["error"]["message"]
    assert NOTE not in unknown.text
    patient = {"resourceType": "Patient", "birthDate": "Secret Person"}
    bad = review.client.post(
        "/jobs", json={"notes": [{"id": "p", "text": NOTE, "patient": patient}]}, headers=review.reviewer
    )
    assert (
        bad.status_code == 400 and "birthDate" in bad.json()["error"]["message"] and "Secret" not in bad.text
    )
    listed = review.client.get("/documents", headers=review.reviewer).json()["documents"]
    assert [row["id"] for row in listed] == ["n1"]


def test_a_fhir_document_reference_is_a_job_and_malformed_fhir_is_a_400(review: Review) -> None:
    import base64

    resource = {
        "resourceType": "DocumentReference",
        "id": "dr-1",
        "status": "current",
        "content": [
            {"attachment": {"contentType": "text/plain", "data": base64.b64encode(NOTE.encode()).decode()}}
        ],
    }
    answer = review.client.post("/jobs", json=resource, headers=review.reviewer)
    assert answer.status_code == 202
    assert review.wait(answer.json()["job_id"])["done"] == 1
    assert review.document("dr-1")["text"] == NOTE
    wrong = review.client.post("/jobs", json={"resourceType": "Observation"}, headers=review.reviewer)
    assert wrong.status_code == 400 and "DocumentReference" in wrong.json()["error"]["message"]


def test_decisions_move_the_version_and_a_stale_one_is_409_with_the_current_fact(review: Review) -> None:
    doc = extracted(review)
    fact = doc["facts"][0]
    accepted = review.decide(fact, "accept", comment="seen in the letter")
    assert accepted.status_code == 200 and accepted.headers["ETag"] == '"2"'
    body = accepted.json()
    assert body["fact"]["review_status"] == "accepted" and body["fact"]["version"] == 2
    assert body["decision"]["reviewer"] == "dr-a"
    stale = review.decide(fact, "reject", who=review.reviewer2)  # still says version 1
    assert stale.status_code == 409
    assert stale.json()["current"]["version"] == 2 and stale.json()["current"]["review_status"] == "accepted"
    now = review.client.get(f"/facts/{fact['id']}", headers=review.reviewer2)
    assert now.headers["ETag"] == '"2"' and now.json()["decisions"][0]["reviewer"] == "dr-a"
    rejected = review.decide(now.json(), "reject", who=review.reviewer2)
    assert rejected.status_code == 200 and rejected.json()["fact"]["review_status"] == "rejected"
    audit = review.client.get("/documents/n1/audit", headers=review.admin).json()["records"]
    actions = [(row["actor"], row["action"]) for row in audit if row["action"] != "access:document"]
    assert ("dr-a", "decision:accept") in actions and ("dr-b", "decision_refused") in actions
    assert ("dr-b", "decision:reject") in actions, "both reviewers' actions stay in the audit trail"
    assert review.client.app.state.store.verify_audit() is None  # type: ignore[attr-defined]


def test_refused_decisions_change_nothing(review: Review) -> None:
    doc = extracted(review)
    fact = doc["facts"][0]
    missing = review.client.post(
        f"/facts/{fact['id']}/decisions", json={"action": "accept"}, headers=review.reviewer
    )
    assert missing.status_code == 428
    nowhere = review.decide({"id": "no-such-fact", "version": 1}, "accept")
    assert nowhere.status_code == 404
    outside = review.decide(fact, "correct", changes={"start": 5, "end": len(NOTE) + 10})
    assert outside.status_code == 422 and "span" in outside.json()["error"]["message"]
    mismatch = review.decide(fact, "correct", changes={"start": 0, "end": 4, "text": "nope"})
    assert mismatch.status_code == 422 and NOTE[:4] not in mismatch.json()["error"]["message"]
    code = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10.99"}
    unknown = review.decide(fact, "correct", changes={"code": code})
    assert unknown.status_code == 422
    assert any(c["code"].startswith("I1") for c in unknown.json()["nearest"]), unknown.json()
    field = review.decide(fact, "correct", changes={"colour": "red"})
    assert field.status_code == 422 and "colour" in field.json()["error"]["message"]
    after = review.client.get(f"/facts/{fact['id']}", headers=review.reviewer).json()
    assert after["version"] == 1 and after["review_status"] == "pending" and after["decisions"] == []


def test_a_correction_and_an_added_fact_are_checked_against_the_note(review: Review) -> None:
    doc = extracted(review)
    condition = next(f for f in doc["facts"] if f["type"] == "condition")
    start = NOTE.index("hypertension")
    fixed = review.decide(
        condition,
        "correct",
        changes={"start": start, "end": start + len("hypertension"), "text": "hypertension"},
    )
    assert fixed.status_code == 200 and fixed.json()["fact"]["text"] == "hypertension"
    start = NOTE.index("pneumonia")
    added = review.client.post(
        "/documents/n1/facts",
        json={"type": "condition", "start": start, "end": start + 9, "text": "pneumonia",
              "assertion": {"negated": True}, "comment": "missed"},
        headers=review.reviewer,
    )  # fmt: skip
    assert added.status_code == 201
    fact = added.json()["fact"]
    assert fact["origin"] == "reviewer" and fact["review_status"] == "added" and fact["assertion"]["negated"]
    wrong = review.client.post(
        "/documents/n1/facts",
        json={"type": "condition", "start": 0, "end": 3, "text": "xyz"},
        headers=review.reviewer,
    )
    assert wrong.status_code == 422


def test_export_is_gold_jsonl_that_evaluate_reads_and_fhir_that_validates(
    review: Review, tmp_path: Path
) -> None:
    doc = extracted(review)
    first, second = doc["facts"][0], doc["facts"][1]
    review.decide(first, "accept")
    review.decide(second, "reject")
    gold = review.client.get("/export?format=jsonl", headers=review.admin)
    assert gold.status_code == 200
    path = tmp_path / "gold.jsonl"
    path.write_text(gold.text, encoding="utf-8")
    read = list(read_jsonl(path).documents.values())
    assert [d.id for d in read] == ["n1"]
    kept = read[0].entities
    assert [(e.start, e.end, e.type) for e in kept] == [(first["start"], first["end"], first["type"])]
    record = json.loads(gold.text.splitlines()[0])
    assert record["meta"]["review"]["facts"][0]["fact"] == first["id"]
    bundles = review.client.get("/export?format=fhir", headers=review.admin)
    assert bundles.status_code == 200
    for line in bundles.text.splitlines():
        validate_bundle(json.loads(line))
    bundle = review.client.get("/documents/n1/fhir", headers=review.reviewer).json()
    validate_bundle(bundle)
    provenances = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance"]
    assert (
        len([p for p in provenances if p.get("agent", [{}])[0].get("who", {}).get("display") == "dr-a"]) == 2
    )


def test_the_review_policy_requires_reviews_auto_accepts_and_blocks_export(db: str) -> None:
    with review_service(db, review={"review_below": 0.99, "types": ["medication"]}) as review:
        doc = extracted(review)
        required = [f for f in doc["facts"] if f["review_required"]]
        assert required and all(f["review_reason"] for f in required)
        assert any("medication" in f["review_reason"] for f in required if f["type"] == "medication")
        refused = review.client.get("/export", headers=review.admin)
        assert refused.status_code == 409 and "n1" in refused.json()["error"]["message"]
        for fact in required:
            assert review.decide(fact, "accept").status_code == 200
        assert review.client.get("/export", headers=review.admin).status_code == 200
    with review_service(db, review={"auto_accept_above": 0.0}) as review:
        doc = extracted(review, "n2")
        assert {f["review_status"] for f in doc["facts"]} == {"auto_accepted"}
        audit = review.client.get("/documents/n2/audit", headers=review.admin).json()["records"]
        assert sum(row["action"] == "auto_accept" for row in audit) == len(doc["facts"])
        assert all(d["reviewer"] == "system:review-policy" for f in doc["facts"] for d in f["decisions"])


def test_every_read_of_a_document_is_an_audit_event(review: Review) -> None:
    extracted(review)
    review.document("n1")
    review.client.get("/documents/n1/fhir", headers=review.reviewer2)
    events = review.client.get("/documents/n1/audit?format=fhir", headers=review.admin).json()
    agents = [e["resource"]["agent"][0]["who"]["display"] for e in events["entry"]]
    assert agents.count("dr-a") >= 2 and "dr-b" in agents
    for entry in events["entry"]:
        validate_resource(entry["resource"])


def test_agreement_between_two_reviewers(review: Review) -> None:
    doc = extracted(review)
    first, second = doc["facts"][0], doc["facts"][1]
    review.decide(first, "accept")
    review.decide(second, "accept")
    now = {f["id"]: f for f in review.document("n1")["facts"]}
    review.decide(now[first["id"]], "accept", who=review.reviewer2)
    review.decide(now[second["id"]], "reject", who=review.reviewer2)
    body = review.client.get("/agreement?a=dr-a&b=dr-b", headers=review.admin).json()
    assert body, body
    assert body["reviewers"] == ["dr-a", "dr-b"]
    assert [d["a_fact"] or d["b_fact"] for d in body["disagreements"]] == [second["id"]]
    assert body["overall"]["f1"]["exact"] == pytest.approx(2 / 3, abs=1e-4)
    picked = review.client.get("/agreement", headers=review.admin).json()
    assert picked["reviewers"] == ["dr-a", "dr-b"], "left out, the two who decided most are compared"
    one = review.client.get("/agreement?b=dr-a", headers=review.admin).json()
    assert one["reviewers"] == ["dr-b", "dr-a"]


def test_the_service_logs_no_note_text(review: Review, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Zebulon Quixotefield has essential hypertension."
    with caplog.at_level(logging.DEBUG):
        extracted(review, "secret", secret)
        fact = review.document("secret")["facts"][0]
        review.decide(fact, "correct", changes={"start": 0, "end": 3, "text": "bad"})
        review.client.post(
            "/jobs", json={"notes": [{"id": "secret", "text": secret}]}, headers=review.reviewer
        )
    assert caplog.records, "the service logged nothing to check"
    assert not [r for r in caplog.records if "Zebulon" in r.getMessage() or "Quixotefield" in r.getMessage()]
