"""A reviewed document as FHIR: resource statuses by review, a Provenance per decision, the
AuditEvent of an access; everything validated with the R4B models."""

from __future__ import annotations

from typing import Any

import pytest

from clinex.core.errors import InputError
from clinex.core.systems import ICD10CM
from clinex.fhir import validate_bundle, validate_resource
from clinex.fhir.provenance import DATA_OPERATION
from clinex.fhir.review import (
    FACT_ID_SYSTEM,
    REVIEW_DECISION,
    REVIEWER_SYSTEM,
    audit_event,
    reviewed_bundle,
)
from clinex.review import SYSTEM_REVIEWER, DecisionRecord, Fact
from clinex.store.audit import AuditRecord, chain

NOTE = (
    "Known hypertension. No pneumonia. Possible asthma. Metformin 500 mg daily. "
    "HbA1c 7.2 %. Appendectomy in 2010. Breast cancer pT2 N1 M0. Mother had diabetes."
)
META: dict[str, Any] = {"extractor": "rules.v1", "clinex_version": "0.1.0"}


def entity(
    text: str, kind: str = "condition", *, code: dict[str, str] | None = None, **flags: Any
) -> dict[str, Any]:
    attributes = flags.pop("attributes", {})
    start = NOTE.index(text)
    return {
        "type": kind,
        "text": text,
        "start": start,
        "end": start + len(text),
        "assertion": flags,
        "code": code,
        "attributes": attributes,
        "confidence": 0.8,
    }


def fact(fact_id: str, position: int, status: str, data: dict[str, Any]) -> Fact:
    return Fact(id=fact_id, document="d1", position=position, version=2, entity=data, review_status=status)


FACTS = [
    fact("hypertension", 0, "accepted", entity("hypertension", code={"system": ICD10CM, "code": "I10"})),
    fact("pneumonia", 1, "accepted", entity("pneumonia", negated=True)),
    fact("asthma", 2, "corrected", entity("asthma", uncertain=True)),
    fact("metformin", 3, "rejected", entity("Metformin", "medication", attributes={"dose": "500 mg"})),
    fact("hba1c", 4, "pending", entity("HbA1c", "lab", attributes={"value": "7.2", "unit": "%"})),
    fact("appendectomy", 5, "rejected", entity("Appendectomy", "procedure")),
    fact("cancer", 6, "added", entity("Breast cancer", "tumor", attributes={"tnm": "pT2 N1 M0"})),
    fact("diabetes", 7, "rejected", entity("diabetes", family=True)),
    fact("hypertension-2", 8, "rejected", entity("hypertension")),
    fact("daily", 9, "auto_accepted", entity("daily", "medication")),
]


def decision(
    decision_id: int, fact_id: str, reviewer: str, action: str, comment: str | None = None
) -> DecisionRecord:
    return DecisionRecord(
        id=decision_id,
        fact=fact_id,
        document="d1",
        reviewer=reviewer,
        action=action,
        at=f"2024-05-01T10:00:0{decision_id % 10}+00:00",
        version=2,
        comment=comment,
    )


DECISIONS = [
    decision(1, "daily", SYSTEM_REVIEWER, "accept"),
    decision(2, "hypertension", "dr-ana", "accept"),
    decision(3, "pneumonia", "dr-ana", "accept"),
    decision(4, "asthma", "dr-ben", "correct", comment="the note says possible"),
    decision(5, "metformin", "dr-ana", "reject"),
    decision(6, "appendectomy", "dr-ana", "reject"),
    decision(7, "cancer", "dr-ben", "add"),
    decision(8, "diabetes", "dr-ana", "reject"),
    decision(9, "hypertension-2", "dr-ana", "reject"),
]


def build(**options: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "document_id": "d1",
        "text": NOTE,
        "patient": None,
        "meta": META,
        "facts": list(reversed(FACTS)),  # any order: sorted by position
        "decisions": DECISIONS,
    }
    return reviewed_bundle(**(arguments | options))


def resources_of(bundle: dict[str, Any], fact_id: str) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if {"system": FACT_ID_SYSTEM, "value": fact_id} in e["resource"].get("identifier", [])
    ]


def verification(resource: dict[str, Any]) -> str:
    return str(resource["verificationStatus"]["coding"][0]["code"])


@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
def test_the_reviewed_bundle_validates(bundle_type: str) -> None:
    bundle = build(bundle_type=bundle_type)
    validate_bundle(bundle)
    for entry in bundle["entry"]:
        validate_resource(entry["resource"])


def test_statuses_follow_the_review() -> None:
    bundle = build()
    (hypertension,) = resources_of(bundle, "hypertension")
    assert (
        verification(hypertension) == "confirmed"
        and hypertension["clinicalStatus"]["coding"][0]["code"] == "active"
    )
    assert verification(resources_of(bundle, "pneumonia")[0]) == "refuted", (
        "accepting a negation keeps it refuted"
    )
    assert verification(resources_of(bundle, "asthma")[0]) == "provisional"
    (metformin,) = resources_of(bundle, "metformin")
    assert metformin["resourceType"] == "MedicationStatement" and metformin["status"] == "entered-in-error"
    (hba1c,) = resources_of(bundle, "hba1c")
    assert hba1c["status"] == "final", "a pending fact stays as extracted"
    assert resources_of(bundle, "appendectomy")[0]["status"] == "entered-in-error"
    assert resources_of(bundle, "diabetes")[0]["resourceType"] == "FamilyMemberHistory"
    assert resources_of(bundle, "diabetes")[0]["status"] == "entered-in-error"
    (rejected,) = resources_of(bundle, "hypertension-2")
    assert verification(rejected) == "entered-in-error" and "clinicalStatus" not in rejected, "con-5"
    cancer = resources_of(bundle, "cancer")
    assert cancer[0]["resourceType"] == "Condition" and verification(cancer[0]) == "confirmed"
    assert len(cancer) > 1 and all(r["status"] == "final" for r in cancer[1:]), "its staging Observations"
    assert resources_of(bundle, "daily")[0]["status"] == "active"
    tags = {
        r["meta"]["tag"][0]["code"]
        for e in bundle["entry"]
        if "identifier" in (r := e["resource"]) and r["resourceType"] != "DocumentReference"
    }
    assert tags == {"accepted", "corrected", "rejected", "pending", "added", "auto_accepted"}


def test_resource_ids_do_not_depend_on_the_review() -> None:
    undecided = [Fact(id=f.id, document="d1", position=f.position, version=1, entity=f.entity) for f in FACTS]
    reviewed = build()
    pending = build(facts=undecided, decisions=[])
    for fact_id in ("hypertension", "metformin", "cancer", "daily"):
        assert [r["id"] for r in resources_of(reviewed, fact_id)] == [
            r["id"] for r in resources_of(pending, fact_id)
        ]
    assert not [
        e
        for e in pending["entry"]
        if e["resource"]["resourceType"] == "Provenance"
        and "extension" in e["resource"]
        and e["resource"]["extension"][0]["url"] == REVIEW_DECISION
    ]


def test_one_provenance_per_decision_targets_the_facts_resources() -> None:
    bundle = build()
    note_url = next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"
    )
    urls = {e["resource"]["id"]: e["fullUrl"] for e in bundle["entry"]}
    provenances = {
        part["valueString"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Provenance"
        and e["resource"].get("extension", [{}])[0].get("url") == REVIEW_DECISION
        for part in e["resource"]["extension"][0]["extension"]
        if part["url"] == "decision"
    }
    assert sorted(provenances, key=int) == [str(d.id) for d in DECISIONS]
    for record in DECISIONS:
        provenance = provenances[str(record.id)]
        assert [t["reference"] for t in provenance["target"]] == [
            urls[r["id"]] for r in resources_of(bundle, record.fact)
        ]
        assert provenance["recorded"] == f"2024-05-01T10:00:0{record.id}Z"
        (agent,) = provenance["agent"]
        assert agent["who"] == {
            "identifier": {"system": REVIEWER_SYSTEM, "value": record.reviewer},
            "display": record.reviewer,
        }
        assert provenance["entity"][0]["what"] == {"reference": note_url}
        parts = {
            p["url"]: next(v for k, v in p.items() if k.startswith("value"))
            for p in provenance["extension"][0]["extension"]
        }
        assert parts["fact"] == record.fact and parts["action"] == record.action

    def kinds(decision_id: int) -> tuple[str, str, str]:
        p = provenances[str(decision_id)]
        return (
            p["agent"][0]["type"]["coding"][0]["code"],
            p["activity"]["coding"][0]["code"],
            p["entity"][0]["role"],
        )

    assert kinds(2) == ("verifier", "UPDATE", "source")
    assert kinds(4) == ("author", "UPDATE", "revision")
    assert kinds(5) == ("author", "NULLIFY", "removal")
    assert kinds(7) == ("author", "CREATE", "source")
    assert provenances["4"]["activity"]["coding"][0]["system"] == DATA_OPERATION
    assert {"url": "comment", "valueString": "the note says possible"} in provenances["4"]["extension"][0][
        "extension"
    ]
    assert len(provenances["7"]["target"]) == len(resources_of(bundle, "cancer")) > 1


def test_a_decision_on_a_fact_of_another_document_is_refused() -> None:
    with pytest.raises(InputError) as raised:
        build(decisions=[decision(1, "elsewhere", "dr-ana", "accept")])
    assert "elsewhere" in raised.value.message


def test_a_time_without_a_zone_is_utc_and_a_bad_one_is_refused() -> None:
    bundle = build(
        decisions=[
            DecisionRecord(
                id=1,
                fact="daily",
                document="d1",
                reviewer="a",
                action="accept",
                at="2024-05-01T10:00:00",
                version=2,
            )
        ]
    )
    assert bundle["entry"][-1]["resource"]["recorded"] == "2024-05-01T10:00:00Z"
    with pytest.raises(InputError):
        build(
            decisions=[
                DecisionRecord(
                    id=1,
                    fact="daily",
                    document="d1",
                    reviewer="a",
                    action="accept",
                    at="yesterday",
                    version=2,
                )
            ]
        )


@pytest.mark.parametrize("document_url", [None, "DocumentReference/d1"])
def test_an_access_row_becomes_an_audit_event(document_url: str | None) -> None:
    (row,) = chain(
        [
            AuditRecord(
                seq=0, at="2024-05-01T10:00:00+00:00", actor="dr-ana", action="access:fhir", document="d1"
            )
        ]
    )
    event = audit_event(row, document_url=document_url)
    validate_resource(event)
    assert (
        event["action"] == "R"
        and event["type"]["code"] == "rest"
        and event["recorded"] == "2024-05-01T10:00:00Z"
    )
    (agent,) = event["agent"]
    assert agent["who"]["display"] == "dr-ana" and agent["requestor"] is True
    what = event["entity"][0]["what"]
    assert what == (
        {"reference": document_url}
        if document_url
        else {
            "identifier": {"system": "https://clinex.dev/fhir/NamingSystem/note-id", "value": "d1"},
            "display": "d1",
        }
    )
    details = {d["type"]: d["valueString"] for d in event["entity"][0]["detail"]}
    assert details["clinex-audit-seq"] == "1" and details["clinex-audit-hash"] == row.hash
