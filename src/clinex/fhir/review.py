"""A reviewed document as FHIR R4: the extraction Bundle with each fact's resources updated by
its review, a Provenance per decision, and an AuditEvent per audit row.

- **Resources**: the Bundle is :func:`clinex.fhir.bundle.document_to_bundle` of the document's
  facts in position order, every fact included (a rejected one too), so a fact's resource ids
  (``entity-<index>`` in that order) stay the same whatever is decided. Each of a fact's
  resources gets an identifier (``https://clinex.dev/fhir/NamingSystem/fact-id``: the fact id)
  and a ``meta.tag`` with its review status (``https://clinex.dev/fhir/CodeSystem/review-status``:
  pending, accepted, corrected, added, auto_accepted, rejected). A kept fact (accepted,
  corrected, added, auto_accepted) has ``Condition.verificationStatus`` confirmed, unless it is
  negated (refuted) or uncertain or hypothetical (provisional): a reviewer confirms what the
  note says, and the note says it is ruled out, or not yet known. Other resource types keep the
  status their flags give. A rejected fact: ``Condition.verificationStatus`` entered-in-error
  (and no clinicalStatus, FHIR invariant con-5); MedicationStatement, Observation, Procedure and
  FamilyMemberHistory ``status`` entered-in-error. A pending fact stays as extracted.
- **Provenance** per decision: ``target`` the fact's resources, ``recorded`` the decision's time,
  ``agent.who`` the reviewer (identifier ``https://clinex.dev/reviewer``), agent type
  ``verifier`` for an accept and ``author`` otherwise; ``activity`` (v3-DataOperation) CREATE for
  an add, UPDATE for an accept or a correction, and NULLIFY for a reject — the resource is kept,
  marked entered-in-error, which is what NULLIFY means ("treat it as though it never existed"),
  not DELETE; ``entity`` the note's DocumentReference with role ``revision`` (correct),
  ``removal`` (reject) or ``source`` (accept, add); the ``review-decision`` extension holds the
  decision id, fact id, action, the fact version it left and the comment.
- **AuditEvent** per audit row (:func:`audit_event`), for the accesses of a document.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from clinex.core.errors import InputError
from clinex.core.serialize import entity_from_dict
from clinex.core.types import Assertion, Document
from clinex.fhir import bundle as bundle_module
from clinex.fhir import codes, status
from clinex.fhir.extensions import NOTE_ID_SYSTEM
from clinex.fhir.provenance import DATA_OPERATION, PARTICIPANT_TYPE
from clinex.review.model import SYSTEM_REVIEWER, DecisionRecord, Fact


class AuditRow(Protocol):
    """What :func:`audit_event` reads of an audit row (clinex.store.audit.AuditRecord): the
    store is not imported, so FHIR mapping needs no database driver."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def document(self) -> str: ...
    @property
    def hash(self) -> str: ...


#: Identifier system of reviewers (the API key's name) on Provenance agents.
REVIEWER_SYSTEM = "https://clinex.dev/reviewer"
#: Identifier system of fact ids on a fact's resources.
FACT_ID_SYSTEM = "https://clinex.dev/fhir/NamingSystem/fact-id"
#: meta.tag system of a fact resource's review status.
REVIEW_STATUS_SYSTEM = "https://clinex.dev/fhir/CodeSystem/review-status"
#: Complex extension on a decision's Provenance: decision, fact, action, version, comment.
REVIEW_DECISION = "https://clinex.dev/fhir/StructureDefinition/review-decision"
#: Identifier system of the API-key names on AuditEvent agents.
ACTOR_SYSTEM = "https://clinex.dev/api-key"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
AUDIT_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"

KEPT = ("accepted", "corrected", "added", "auto_accepted")
ENTERED_IN_ERROR = "entered-in-error"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://clinex.dev/fhir")
#: decision action → (agent type, v3-DataOperation activity, entity role).
_DECISION_FHIR: dict[str, tuple[str, str, str]] = {
    "accept": ("verifier", "UPDATE", "source"),
    "auto_accept": ("verifier", "UPDATE", "source"),
    "correct": ("author", "UPDATE", "revision"),
    "reject": ("author", "NULLIFY", "removal"),
    "add": ("author", "CREATE", "source"),
}
_STATUS_RESOURCES = ("MedicationStatement", "Observation", "Procedure", "FamilyMemberHistory")


def reviewed_bundle(
    *,
    document_id: str,
    text: str,
    patient: Mapping[str, Any] | None,
    meta: Mapping[str, Any],
    facts: Sequence[Fact],
    decisions: Sequence[DecisionRecord],
    bundle_type: str = "collection",
) -> dict[str, Any]:
    """The FHIR R4 Bundle of a reviewed document (the rules are in the module docstring).

    ``facts`` are the document's stored facts (any order: they are sorted by position),
    ``decisions`` its decisions; a decision on a fact not in ``facts`` raises InputError.
    """
    ordered = sorted(facts, key=lambda f: f.position)
    doc = Document(
        text=text,
        id=document_id,
        entities=[entity_from_dict(dict(fact.entity)) for fact in ordered],
        patient=dict(patient) if patient is not None else None,
        meta=dict(meta),
    )
    bundle = bundle_module.document_to_bundle(doc, bundle_type=bundle_type)
    by_url = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    note_url = next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"
    )
    urls_of: dict[str, list[str]] = {}
    for fact, urls in zip(ordered, bundle_module.entity_urls(doc), strict=True):
        urls_of[fact.id] = urls
        for url in urls:
            _review_resource(by_url[url], fact)
    for record in sorted(decisions, key=lambda r: r.id):
        if record.fact not in urls_of:
            raise InputError(
                f"decision {record.id} is on fact {record.fact!r}, which is not a fact of document {document_id!r}",
                hint="pass the document's facts and its own decisions",
            )
        resource = decision_provenance(record, targets=urls_of[record.fact], note_url=note_url)
        full_url = f"urn:uuid:{resource['id']}"
        entry: dict[str, Any] = {"fullUrl": full_url, "resource": resource}
        if bundle_type == "transaction":
            entry["request"] = {"method": "PUT", "url": f"Provenance/{resource['id']}"}
        bundle["entry"].append(entry)
    return bundle


def decision_provenance(record: DecisionRecord, *, targets: Sequence[str], note_url: str) -> dict[str, Any]:
    """The Provenance of one decision on the resources at ``targets`` (the rules are in the
    module docstring); its id is a UUIDv5 of the document and decision ids."""
    agent_type, activity, role = _DECISION_FHIR.get(record.action, ("author", "UPDATE", "source"))
    parts: list[dict[str, Any]] = [
        {"url": "decision", "valueString": str(record.id)},
        {"url": "fact", "valueString": record.fact},
        {"url": "action", "valueCode": record.action},
        {"url": "version", "valueInteger": record.version},
    ]
    if record.comment:
        parts.append({"url": "comment", "valueString": record.comment})
    return {
        "resourceType": "Provenance",
        "id": str(uuid.uuid5(_NAMESPACE, f"{record.document}/decision-{record.id}")),
        "extension": [{"url": REVIEW_DECISION, "extension": parts}],
        "target": [{"reference": url} for url in targets],
        "recorded": instant(record.at, what=f"decision {record.id}"),
        "activity": {"coding": [{"system": DATA_OPERATION, "code": activity, "display": activity.lower()}]},
        "agent": [
            {
                "type": {
                    "coding": [
                        {"system": PARTICIPANT_TYPE, "code": agent_type, "display": agent_type.capitalize()}
                    ]
                },
                "who": {
                    "identifier": {"system": REVIEWER_SYSTEM, "value": record.reviewer},
                    "display": record.reviewer,
                },
            }
        ],
        "entity": [{"role": role, "what": {"reference": note_url}}],
    }


def _audit_kind(action: str) -> tuple[str, str, str]:
    """An audit row's action → (AuditEvent.action, restful-interaction subtype, outcome)."""
    if action.startswith("access:"):
        return "R", "read", "0"
    if action in ("extract", "decision:add"):
        return "C", "create", "0"
    if action == "decision_refused":
        return "U", "update", "4"  # minor failure: the request was refused, nothing changed
    return "U", "update", "0"


def audit_event(record: AuditRow, *, document_url: str | None = None) -> dict[str, Any]:
    """An R4 AuditEvent for an audit row, meant for access rows (``access:<what>``: action R,
    type rest / read); other rows map to C (extract, add) or U (decisions). The agent is the
    key name (``actor``), the entity the document: ``document_url`` (e.g.
    ``DocumentReference/<id>``) where given, else the note id as identifier. The row's seq,
    action and hash are the entity's details, so the event names its place in the audit chain."""
    action, interaction, outcome = _audit_kind(record.action)
    what: dict[str, Any] = (
        {"reference": document_url}
        if document_url
        else {"identifier": {"system": NOTE_ID_SYSTEM, "value": record.document}, "display": record.document}
    )
    details = [
        {"type": "clinex-audit-seq", "valueString": str(record.seq)},
        {"type": "clinex-audit-action", "valueString": record.action},
    ]
    if record.hash:
        details.append({"type": "clinex-audit-hash", "valueString": record.hash})
    return {
        "resourceType": "AuditEvent",
        "id": str(uuid.uuid5(_NAMESPACE, f"audit/{record.seq}/{record.hash}")),
        "type": {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": RESTFUL_INTERACTION, "code": interaction, "display": interaction}],
        "action": action,
        "recorded": instant(record.at, what=f"audit row {record.seq}"),
        "outcome": outcome,
        "agent": [
            {
                "who": {
                    "identifier": {"system": ACTOR_SYSTEM, "value": record.actor},
                    "display": record.actor,
                },
                "requestor": record.actor not in ("system", SYSTEM_REVIEWER),
            }
        ],
        "source": {"observer": {"display": "clinex serve"}},
        "entity": [
            {
                "what": what,
                "type": {"system": AUDIT_ENTITY_TYPE, "code": "2", "display": "System Object"},
                "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"},
                "detail": details,
            }
        ],
    }


def instant(at: str, *, what: str) -> str:
    """An ISO 8601 time as a FHIR instant (UTC, ``Z``); a time without a zone is taken as UTC.
    InputError naming ``what`` for a time that is not ISO 8601."""
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        raise InputError(f"{what}: time {at!r} is not ISO 8601", hint="store times as ISO 8601 UTC") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _review_resource(resource: dict[str, Any], fact: Fact) -> None:
    resource.setdefault("identifier", []).append({"system": FACT_ID_SYSTEM, "value": fact.id})
    tags = resource.setdefault("meta", {}).setdefault("tag", [])
    tags.append({"system": REVIEW_STATUS_SYSTEM, "code": fact.review_status, "display": fact.review_status})
    kind = resource["resourceType"]
    if fact.review_status == "rejected":
        if kind == "Condition":
            resource.pop("clinicalStatus", None)
            resource["verificationStatus"] = _verification(ENTERED_IN_ERROR, "Entered in Error")
        elif kind in _STATUS_RESOURCES:
            resource["status"] = ENTERED_IN_ERROR
    elif fact.review_status in KEPT and kind == "Condition":
        flags = Assertion(**{k: bool(v) for k, v in (fact.entity.get("assertion") or {}).items()})
        code = status.VERIFICATION.write(flags) or "confirmed"
        resource["verificationStatus"] = _verification(code, code.capitalize())


def _verification(code: str, display: str) -> dict[str, Any]:
    return codes.concept(status.CONDITION_VERIFICATION, code, display)
