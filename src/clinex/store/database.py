"""The review store on SQLite or PostgreSQL: jobs, documents, facts, decisions, API keys and
the hash-chained audit trail, behind one :class:`Store`.

Every write is one transaction that holds the store's write lock from its first statement:
SQLite starts it with BEGIN IMMEDIATE; PostgreSQL locks the one ``audit_head`` row
(SELECT ... FOR UPDATE). So audit rows, which are appended in the transaction of what they
record, never fork the chain, a version check and the update it guards see the same row, and
two workers never claim one job. Reads take no lock (WAL on SQLite, MVCC on PostgreSQL).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    case,
    create_engine,
    event,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Row

from clinex.core.errors import (
    ConfigError,
    ConflictError,
    InputError,
    InternalError,
    NotFoundError,
    StaleVersionError,
)
from clinex.core.serialize import entity_from_dict, entity_to_dict
from clinex.core.types import Document
from clinex.review.apply import apply_decision
from clinex.review.model import STATUS_AFTER, SYSTEM_REVIEWER, Decision, DecisionRecord, Fact
from clinex.store import keys as tokens
from clinex.store import migrate
from clinex.store.audit import GENESIS, AuditRecord, chain, first_broken_link
from clinex.store.records import ApiKey, DocumentSummary, Job, NewNote, StoredDocument
from clinex.store.schema import api_keys, audit, audit_head, decisions, documents, facts, jobs

if TYPE_CHECKING:
    from clinex.review.policy import FactReview

#: SQLite waits this long (ms) for another writer's lock before giving up.
BUSY_TIMEOUT_MS = 30_000
#: Actor of the audit rows the extraction worker causes.
SYSTEM_ACTOR = "system"
# SQLite's limit on bound parameters is far above this; chunks keep IN lists modest.
_CHUNK = 500


class DuplicateDocumentError(ConflictError):
    """A submitted note's id is stored already (or given twice in one submission)."""


def open_store(url: str) -> Store:
    """The store at ``url``, its schema migrated to the newest revision.

    ``url`` is a file path or ``sqlite:///PATH`` (SQLite, created where absent) or
    ``postgresql://...`` (PostgreSQL through psycopg 3; ``postgresql+psycopg://`` also works).
    """
    engine = _engine(url)
    try:
        migrate.upgrade(engine)
    except Exception:
        engine.dispose()
        raise
    return Store(engine)


class Store:
    """The review store (see the module docstring). Thread-safe: one engine, a connection per
    call. Build it with :func:`open_store`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    # --- jobs and documents -------------------------------------------------------------

    def submit(self, notes: Sequence[NewNote], *, options: Mapping[str, Any], actor: str) -> str:
        """Store a queued job of ``notes`` (each a queued document) and one audit row
        ``submit`` per note; returns the job id. An id stored already, or given twice, is
        refused (DuplicateDocumentError naming it) and nothing is stored."""
        if not notes:
            raise InputError("a job needs at least one note", hint="send one or more notes")
        seen: set[str] = set()
        for note in notes:
            if not note.id.strip():
                raise InputError("a note has an empty id", hint="give every note a non-empty id")
            if note.id in seen:
                raise DuplicateDocumentError(
                    f"document id {note.id!r} is given twice", hint="give every note its own id"
                )
            seen.add(note.id)
        job_id = uuid.uuid4().hex
        at = now()
        with self._write() as conn:
            ids = [note.id for note in notes]
            for start in range(0, len(ids), _CHUNK):
                taken = conn.execute(
                    select(documents.c.id).where(documents.c.id.in_(ids[start : start + _CHUNK])).limit(1)
                ).scalar()
                if taken is not None:
                    raise DuplicateDocumentError(
                        f"document {taken!r} is stored already",
                        hint="give the note a new id, or review the stored document",
                    )
            conn.execute(
                insert(jobs).values(
                    id=job_id, status="queued", created_at=at, options=_json(options), actor=actor
                )
            )
            conn.execute(
                insert(documents),
                [
                    {
                        "id": note.id,
                        "job": job_id,
                        "job_index": index,
                        "text": note.text,
                        "patient": None if note.patient is None else _json(note.patient),
                        "status": "queued",
                        "meta": {},
                        "error": None,
                        "created_at": at,
                    }
                    for index, note in enumerate(notes)
                ],
            )
            self._append(
                conn,
                [
                    AuditRecord(
                        seq=0, at=at, actor=actor, action="submit", document=note.id, after={"job": job_id}
                    )
                    for note in notes
                ],
            )
        return job_id

    def job(self, job_id: str) -> Job | None:
        """The job, or None where no job has that id."""
        with self._read() as conn:
            return self._job(conn, job_id)

    def requeue_interrupted(self) -> int:
        """Put jobs left running (the server stopped during them) back in the queue; returns how
        many. Their documents extracted already stay extracted."""
        with self._write() as conn:
            return conn.execute(
                update(jobs).where(jobs.c.status == "running").values(status="queued")
            ).rowcount

    def claim_job(self) -> Job | None:
        """The oldest queued job, now running; None where none is queued. Two callers never get
        the same job (the write lock orders them)."""
        with self._write() as conn:
            job_id = conn.execute(
                select(jobs.c.id)
                .where(jobs.c.status == "queued")
                .order_by(jobs.c.created_at, jobs.c.id)
                .limit(1)
            ).scalar()
            if job_id is None:
                return None
            claimed = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == "queued")
                .values(status="running", started_at=now())
            ).rowcount
            if claimed != 1:
                raise InternalError(f"job {job_id!r} changed while the store's write lock was held")
            return self._job(conn, job_id)

    def pending_documents(self, job_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
        """``(id, text, patient)`` of the job's documents still queued, in the order given."""
        with self._read() as conn:
            rows = conn.execute(
                select(documents.c.id, documents.c.text, documents.c.patient)
                .where(documents.c.job == job_id, documents.c.status == "queued")
                .order_by(documents.c.job_index)
            ).all()
        return [(row.id, row.text, row.patient) for row in rows]

    def save_extraction(
        self,
        document: str,
        *,
        entities: Sequence[Mapping[str, Any]],
        meta: Mapping[str, Any],
        review: Sequence[FactReview],
    ) -> list[Fact]:
        """Store the extracted ``entities`` (JSONL form) of ``document`` as its facts, with the
        review policy's verdict on each (``review``, one per entity), and mark it extracted.

        Audit rows: one ``extract`` (``model`` = ``meta``), then one ``auto_accept`` per fact
        the policy accepted, each also a decision ``accept`` by SYSTEM_REVIEWER. A document
        extracted already is refused (ConflictError): extraction is stored once.
        """
        if len(review) != len(entities):
            raise InternalError(
                f"document {document!r}: {len(entities)} entities but {len(review)} review verdicts"
            )
        parsed = [entity_from_dict(dict(entity)) for entity in entities]
        at = now()
        with self._write() as conn:
            row = conn.execute(
                select(documents.c.text, documents.c.status).where(documents.c.id == document)
            ).one_or_none()
            if row is None:
                raise _no_document(document)
            if row.status == "extracted":
                raise ConflictError(
                    f"document {document!r} is extracted already",
                    hint="an extraction is stored once; review its facts instead",
                )
            for index, entity in enumerate(parsed):
                if entity.grounded and not entity.is_grounded_in(row.text):
                    raise InternalError(
                        f"document {document!r}: entity {index} is not its span of the note",
                        hint="this is a bug in the extractor; the extraction was not stored",
                    )
            stored: list[Fact] = []
            trail = [
                AuditRecord(
                    seq=0,
                    at=at,
                    actor=SYSTEM_ACTOR,
                    action="extract",
                    document=document,
                    after={"facts": len(parsed)},
                    model=_json(meta),
                )
            ]
            for position, (entity, verdict) in enumerate(zip(parsed, review, strict=True)):
                auto = verdict.auto_accept and not verdict.required
                fact = Fact(
                    id=uuid.uuid4().hex,
                    document=document,
                    position=position,
                    version=1,
                    entity=entity_to_dict(entity),
                    review_status="auto_accepted" if auto else "pending",
                    origin="extracted",
                    required=verdict.required,
                    reason=verdict.reason,
                )
                conn.execute(insert(facts).values(**_fact_row(fact)))
                stored.append(fact)
                if auto:
                    self._insert_decision(
                        conn,
                        fact=fact,
                        reviewer=SYSTEM_REVIEWER,
                        action="accept",
                        at=at,
                        before=fact.entity,
                        after=fact.entity,
                        comment=verdict.reason,
                    )
                    trail.append(
                        AuditRecord(
                            seq=0,
                            at=at,
                            actor=SYSTEM_REVIEWER,
                            action="auto_accept",
                            document=document,
                            before=fact.entity,
                            after=fact.entity,
                            comment=verdict.reason,
                        )
                    )
            conn.execute(
                update(documents)
                .where(documents.c.id == document)
                .values(status="extracted", meta=_json(meta), error=None)
            )
            self._append(conn, trail)
        return stored

    def fail_document(self, document: str, *, code: str, message: str) -> None:
        """Mark ``document`` failed with an error code and message (which must not quote the note)."""
        with self._write() as conn:
            changed = conn.execute(
                update(documents)
                .where(documents.c.id == document)
                .values(status="failed", error={"code": code, "message": message})
            ).rowcount
            if changed != 1:
                raise _no_document(document)

    def finish_job(self, job_id: str) -> Job:
        """Close the job: ``failed`` where no document was extracted and some failed, else ``done``."""
        with self._write() as conn:
            job = self._job(conn, job_id)
            if job is None:
                raise NotFoundError(f"no job {job_id!r}", hint="give the job id POST /jobs returned")
            status = "failed" if job.done == 0 and job.failed > 0 else "done"
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(status=status, finished_at=now()))
            finished = self._job(conn, job_id)
        assert finished is not None
        return finished

    # --- reading --------------------------------------------------------------------------

    def document(self, document: str) -> StoredDocument | None:
        """The stored document with its facts in position order, or None."""
        with self._read() as conn:
            row = conn.execute(select(documents).where(documents.c.id == document)).one_or_none()
            if row is None:
                return None
            fact_rows = conn.execute(
                select(facts).where(facts.c.document == document).order_by(facts.c.position)
            ).all()
        return StoredDocument(
            id=row.id,
            text=row.text,
            status=row.status,
            job=row.job,
            created_at=row.created_at,
            patient=row.patient,
            meta=row.meta or {},
            facts=[_fact(r) for r in fact_rows],
            error=row.error,
        )

    def document_ids(self, *, status: str | None = None) -> list[str]:
        """Every stored document's id, in id order (a stable listing, unlike the review queue,
        whose order moves as facts are decided), optionally only those with ``status``."""
        query = select(documents.c.id).order_by(documents.c.id)
        if status is not None:
            query = query.where(documents.c.status == status)
        with self._read() as conn:
            return [row.id for row in conn.execute(query)]

    def documents(
        self,
        *,
        status: str | None = None,
        reviewer: str | None = None,
        type: str | None = None,
        min_confidence: float | None = None,
        max_confidence: float | None = None,
        needs_review: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DocumentSummary]:
        """The review queue: documents, lowest fact confidence first (documents without facts
        last), then by id. ``reviewer``: documents that person decided on; ``type`` and the
        confidence bounds: documents with a fact of that type within the bounds (inclusive);
        ``needs_review``: whether a fact the policy requires is still undecided."""
        if limit < 0 or offset < 0:
            raise InputError("limit and offset must not be negative", hint="e.g. limit=100&offset=0")
        pending = case((facts.c.review_status == "pending", 1), else_=0)
        required_open = case((and_(facts.c.required, facts.c.review_status == "pending"), 1), else_=0)
        stats = (
            select(
                facts.c.document.label("document"),
                func.count().label("facts"),
                func.sum(pending).label("pending"),
                func.sum(required_open).label("required_open"),
                func.min(facts.c.confidence).label("min_confidence"),
            )
            .group_by(facts.c.document)
            .subquery()
        )
        open_count = func.coalesce(stats.c.required_open, 0)
        query = select(
            documents.c.id,
            documents.c.status,
            documents.c.created_at,
            func.coalesce(stats.c.facts, 0).label("facts"),
            func.coalesce(stats.c.pending, 0).label("pending"),
            open_count.label("required_open"),
            stats.c.min_confidence,
        ).select_from(documents.outerjoin(stats, stats.c.document == documents.c.id))
        if status is not None:
            query = query.where(documents.c.status == status)
        if reviewer is not None:
            query = query.where(
                exists().where(decisions.c.document == documents.c.id, decisions.c.reviewer == reviewer)
            )
        fact_filters = []
        if type is not None:
            fact_filters.append(facts.c.type == type)
        if min_confidence is not None:
            fact_filters.append(facts.c.confidence >= min_confidence)
        if max_confidence is not None:
            fact_filters.append(facts.c.confidence <= max_confidence)
        if fact_filters:
            query = query.where(exists().where(facts.c.document == documents.c.id, *fact_filters))
        if needs_review is not None:
            query = query.where(open_count > 0 if needs_review else open_count == 0)
        query = (
            query.order_by(
                case((stats.c.min_confidence.is_(None), 1), else_=0), stats.c.min_confidence, documents.c.id
            )
            .limit(limit)
            .offset(offset)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            reviewers: dict[str, list[str]] = {}
            page = [row.id for row in rows]
            for start in range(0, len(page), _CHUNK):
                pairs = conn.execute(
                    select(decisions.c.document, decisions.c.reviewer)
                    .distinct()
                    .where(
                        decisions.c.document.in_(page[start : start + _CHUNK]),
                        decisions.c.reviewer != SYSTEM_REVIEWER,
                    )
                    .order_by(decisions.c.document, decisions.c.reviewer)
                ).all()
                for pair in pairs:
                    reviewers.setdefault(pair.document, []).append(pair.reviewer)
        return [
            DocumentSummary(
                id=row.id,
                status=row.status,
                created_at=row.created_at,
                facts=int(row.facts),
                pending=int(row.pending),
                required_open=int(row.required_open),
                min_confidence=None if row.min_confidence is None else float(row.min_confidence),
                reviewers=reviewers.get(row.id, []),
            )
            for row in rows
        ]

    def fact(self, fact_id: str) -> Fact | None:
        """The fact as it stands now, or None."""
        with self._read() as conn:
            row = conn.execute(select(facts).where(facts.c.id == fact_id)).one_or_none()
        return None if row is None else _fact(row)

    def decisions(self, *, document: str | None = None, fact: str | None = None) -> list[DecisionRecord]:
        """Decisions in the order they were made, of one document or fact, or all."""
        query = select(decisions).order_by(decisions.c.id)
        if document is not None:
            query = query.where(decisions.c.document == document)
        if fact is not None:
            query = query.where(decisions.c.fact == fact)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [_decision(row) for row in rows]

    # --- decisions ------------------------------------------------------------------------

    def decide(
        self, fact_id: str, *, expected_version: int, decision: Decision
    ) -> tuple[Fact, DecisionRecord]:
        """Accept, reject or correct the fact, if it is still at ``expected_version``
        (``decision.index`` is not used: ``fact_id`` names the fact).

        A correction is checked against the note (InputError, nothing stored). A stale version
        raises StaleVersionError with the fact as it stands (``current``), after committing an
        audit row ``decision_refused`` (``before`` the current entity, ``after`` the attempted
        changes, ``model`` the attempted action and both versions). Otherwise the fact moves to
        the next version and the decision and its audit row ``decision:<action>`` are stored.
        A rejected fact keeps its entity (and its place); only its review status says rejected.
        """
        if decision.action == "add":
            raise InputError("an added fact is not a decision on a stored fact", hint="use add_fact")
        refused: Fact | None = None
        with self._write() as conn:
            current = self._fact_locked(conn, fact_id)
            if current.version != expected_version:
                refused = self._refuse(conn, current, decision, expected_version)
            else:
                text = conn.execute(
                    select(documents.c.text).where(documents.c.id == current.document)
                ).scalar_one()
                note = Document(
                    text=text, id=current.document, entities=[entity_from_dict(dict(current.entity))]
                )
                _, _, after = apply_decision(note, replace(decision, index=0))
                before_entity = dict(current.entity)
                after_entity = None if after is None else entity_to_dict(after)
                kept = (
                    after_entity
                    if decision.action == "correct" and after_entity is not None
                    else before_entity
                )
                decided = replace(
                    current,
                    version=expected_version + 1,
                    entity=kept,
                    review_status=STATUS_AFTER[decision.action],
                )
                changed = conn.execute(
                    update(facts)
                    .where(facts.c.id == fact_id, facts.c.version == expected_version)
                    .values(
                        version=decided.version,
                        entity=kept,
                        type=kept["type"],
                        confidence=float(kept["confidence"]),
                        review_status=decided.review_status,
                    )
                ).rowcount
                if changed != 1:
                    # Another writer moved the fact on between the read and the update.
                    refused = self._refuse(conn, self._fact_locked(conn, fact_id), decision, expected_version)
                else:
                    at = now()
                    record = self._insert_decision(
                        conn,
                        fact=decided,
                        reviewer=decision.reviewer,
                        action=decision.action,
                        at=at,
                        before=before_entity,
                        after=after_entity,
                        comment=decision.comment,
                    )
                    self._append(
                        conn,
                        [
                            AuditRecord(
                                seq=0,
                                at=at,
                                actor=decision.reviewer,
                                action=f"decision:{decision.action}",
                                document=current.document,
                                before=before_entity,
                                after=after_entity,
                                comment=decision.comment,
                            )
                        ],
                    )
        if refused is not None:
            raise StaleVersionError(
                f"fact {fact_id!r} is at version {refused.version}, not {expected_version}",
                current=refused,
                hint="someone decided on it meanwhile: reload the fact and decide again",
            )
        return decided, record

    def add_fact(
        self, document: str, *, entity: Mapping[str, Any], reviewer: str, comment: str | None
    ) -> tuple[Fact, DecisionRecord]:
        """Add a fact the extractor missed (``entity`` in the JSONL fields a decision may set),
        checked against the note like a correction: origin reviewer, status added, version 1,
        placed after the document's other facts; with its decision and audit row ``decision:add``."""
        try:
            decision = Decision(action="add", reviewer=reviewer, changes=dict(entity), comment=comment)
        except ValueError as exc:
            raise InputError(f"document {document!r}: {exc}", hint="send type, start, end and text") from None
        at = now()
        with self._write() as conn:
            row = conn.execute(
                select(documents.c.text, documents.c.status).where(documents.c.id == document)
            ).one_or_none()
            if row is None:
                raise _no_document(document)
            if row.status != "extracted":
                raise ConflictError(
                    f"document {document!r} is {row.status}, not extracted",
                    hint="add facts once the document is extracted",
                )
            _, _, added = apply_decision(Document(text=row.text, id=document), decision)
            assert added is not None  # an add always yields the new fact
            last = conn.execute(
                select(func.max(facts.c.position)).where(facts.c.document == document)
            ).scalar()
            fact = Fact(
                id=uuid.uuid4().hex,
                document=document,
                position=0 if last is None else int(last) + 1,
                version=1,
                entity=entity_to_dict(added),
                review_status=STATUS_AFTER["add"],
                origin="reviewer",
            )
            conn.execute(insert(facts).values(**_fact_row(fact)))
            record = self._insert_decision(
                conn,
                fact=fact,
                reviewer=reviewer,
                action="add",
                at=at,
                before=None,
                after=fact.entity,
                comment=comment,
            )
            self._append(
                conn,
                [
                    AuditRecord(
                        seq=0,
                        at=at,
                        actor=reviewer,
                        action="decision:add",
                        document=document,
                        after=fact.entity,
                        comment=comment,
                    )
                ],
            )
        return fact, record

    # --- audit ----------------------------------------------------------------------------

    def record_access(self, document: str, *, actor: str, what: str) -> None:
        """Append an audit row ``access:<what>``: ``actor`` read ``document`` (a view, an export)."""
        with self._write() as conn:
            self._append(
                conn, [AuditRecord(seq=0, at=now(), actor=actor, action=f"access:{what}", document=document)]
            )

    def audit(self, *, document: str | None = None) -> list[AuditRecord]:
        """Audit rows in seq order, of one document or all."""
        query = select(audit).order_by(audit.c.seq)
        if document is not None:
            query = query.where(audit.c.document == document)
        with self._read() as conn:
            return [_audit_record(row) for row in conn.execute(query)]

    def verify_audit(self) -> int | None:
        """The seq of the first audit row that was changed, removed or reordered, or None where
        the chain holds. Rows cut off at the end show as the first missing seq."""
        with self._read() as conn:
            rows = [_audit_record(row) for row in conn.execute(select(audit).order_by(audit.c.seq))]
            head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).one()
        broken = first_broken_link(rows)
        if broken is not None:
            return broken
        last_seq, last_hash = (rows[-1].seq, rows[-1].hash) if rows else (0, GENESIS)
        if head.seq > last_seq:
            return last_seq + 1
        if (head.seq, head.hash) != (last_seq, last_hash):
            return max(last_seq, 1)
        return None

    # --- API keys -------------------------------------------------------------------------

    def create_key(self, *, name: str, role: str) -> str:
        """A new API key for ``role`` (reviewer or admin) named ``name``; returns the token, the
        only time it is seen (the store keeps its sha256). A live key may not share the name."""
        if role not in tokens.ROLES:
            raise ConfigError(f"unknown role {role!r}", hint=f"give one of {', '.join(tokens.ROLES)}")
        if not name.strip():
            raise ConfigError("a key needs a name", hint="name it after the person or system that uses it")
        token = tokens.new_token()
        with self._write() as conn:
            live = conn.execute(
                select(api_keys.c.id).where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
            ).first()
            if live is not None:
                raise ConflictError(
                    f"a live key is named {name!r} already", hint="revoke it first, or choose another name"
                )
            conn.execute(
                insert(api_keys).values(name=name, role=role, hash=tokens.hash_token(token), created_at=now())
            )
        return token

    def revoke_key(self, name: str) -> bool:
        """Revoke the live key named ``name``; False where there is none."""
        with self._write() as conn:
            return (
                conn.execute(
                    update(api_keys)
                    .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                    .values(revoked_at=now())
                ).rowcount
                > 0
            )

    def key_for(self, token: str) -> ApiKey | None:
        """The live key ``token`` is, or None (unknown, revoked or malformed)."""
        if not token.startswith(tokens.PREFIX):
            return None
        with self._read() as conn:
            row = conn.execute(
                select(api_keys).where(
                    api_keys.c.hash == tokens.hash_token(token), api_keys.c.revoked_at.is_(None)
                )
            ).first()
        if row is None or not tokens.matches(token, row.hash):
            return None
        return ApiKey(name=row.name, role=row.role, created_at=row.created_at)

    def keys(self) -> list[ApiKey]:
        """The live keys, by name."""
        with self._read() as conn:
            rows = conn.execute(
                select(api_keys).where(api_keys.c.revoked_at.is_(None)).order_by(api_keys.c.name)
            ).all()
        return [ApiKey(name=row.name, role=row.role, created_at=row.created_at) for row in rows]

    # --- inside a transaction -------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.connect().execution_options(**{migrate.WRITE_OPTION: True}) as conn, conn.begin():
            # PostgreSQL: the write lock. SQLite renders no FOR UPDATE; BEGIN IMMEDIATE locked already.
            conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1).with_for_update()).one()
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            yield conn

    def _append(self, conn: Connection, records: Sequence[AuditRecord]) -> None:
        if not records:
            return
        head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).one()
        last = AuditRecord(seq=head.seq, at="", actor="", action="", document="", hash=head.hash)
        # JSON round trip first: the hash is taken over what reads back (tuples become lists ...).
        linked = chain(
            [
                replace(
                    record,
                    before=_json(record.before),
                    after=_json(record.after),
                    model=_json(record.model),
                )
                for record in records
            ],
            after=last,
        )
        conn.execute(
            insert(audit),
            [
                {
                    "seq": r.seq,
                    "at": r.at,
                    "actor": r.actor,
                    "action": r.action,
                    "document": r.document,
                    "before": r.before,
                    "after": r.after,
                    "model": r.model,
                    "comment": r.comment,
                    "previous": r.previous,
                    "hash": r.hash,
                }
                for r in linked
            ],
        )
        conn.execute(
            update(audit_head).where(audit_head.c.id == 1).values(seq=linked[-1].seq, hash=linked[-1].hash)
        )

    def _job(self, conn: Connection, job_id: str) -> Job | None:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).one_or_none()
        if row is None:
            return None
        docs = conn.execute(
            select(documents.c.id, documents.c.status, documents.c.error)
            .where(documents.c.job == job_id)
            .order_by(documents.c.job_index)
        ).all()
        return Job(
            id=row.id,
            status=row.status,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            options=row.options or {},
            documents=[d.id for d in docs],
            done=sum(d.status == "extracted" for d in docs),
            failed=sum(d.status == "failed" for d in docs),
            errors=[{"id": d.id, **(d.error or {})} for d in docs if d.status == "failed"],
        )

    def _fact_locked(self, conn: Connection, fact_id: str) -> Fact:
        row = conn.execute(select(facts).where(facts.c.id == fact_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no fact {fact_id!r}", hint="take fact ids from GET /documents/{id}")
        return _fact(row)

    def _refuse(self, conn: Connection, current: Fact, decision: Decision, expected: int) -> Fact:
        self._append(
            conn,
            [
                AuditRecord(
                    seq=0,
                    at=now(),
                    actor=decision.reviewer,
                    action="decision_refused",
                    document=current.document,
                    before=current.entity,
                    after=dict(decision.changes),
                    model={
                        "attempted": decision.action,
                        "expected_version": expected,
                        "current_version": current.version,
                    },
                    comment=decision.comment,
                )
            ],
        )
        return current

    def _insert_decision(
        self,
        conn: Connection,
        *,
        fact: Fact,
        reviewer: str,
        action: str,
        at: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        comment: str | None,
    ) -> DecisionRecord:
        values = {
            "fact": fact.id,
            "document": fact.document,
            "reviewer": reviewer,
            "action": action,
            "at": at,
            "version": fact.version,
            "before": _json(before),
            "after": _json(after),
            "comment": comment,
        }
        result = conn.execute(insert(decisions).values(**values))
        (decision_id,) = result.inserted_primary_key or (None,)
        if decision_id is None:
            raise InternalError("the database gave the new decision no id")
        return DecisionRecord(id=int(decision_id), **values)


def now() -> str:
    """The time now, ISO 8601 UTC with microseconds (``2026-12-03T10:00:00.000000Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _engine(url: str) -> Engine:
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return create_engine("postgresql+psycopg://" + url.split("://", 1)[1], pool_pre_ping=True)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
    elif "://" in url:
        raise ConfigError(
            f"unsupported store URL scheme {url.split('://', 1)[0]!r}",
            hint="give a file path, sqlite:///PATH or postgresql://USER@HOST/DB",
        )
    else:
        path = Path(url).expanduser()
    if not str(path) or str(path) == ":memory:":
        raise ConfigError(
            "the review store needs a database file",
            hint="give a file path, e.g. clinex.db (created if absent)",
        )
    if not path.parent.is_dir():
        raise ConfigError(f"the folder of the store {str(path)!r} does not exist", hint="create it first")
    engine = create_engine(f"sqlite+pysqlite:///{path}", connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    _sqlite_transactions(engine)
    return engine


def _sqlite_transactions(engine: Engine) -> None:
    """SQLAlchemy's recipe for SQLite transactions that begin where we say (pysqlite's own
    BEGIN comes late and is always DEFERRED), plus WAL, the busy timeout and foreign keys."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # A write takes the lock at BEGIN, so it never fails to upgrade a read lock midway.
        immediate = conn.get_execution_options().get(migrate.WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _no_document(document: str) -> NotFoundError:
    return NotFoundError(f"no document {document!r}", hint="submit it first (POST /jobs)")


def _json(value: Any) -> Any:
    return None if value is None else json.loads(json.dumps(value, ensure_ascii=False))


def _fact_row(fact: Fact) -> dict[str, Any]:
    return {
        "id": fact.id,
        "document": fact.document,
        "position": fact.position,
        "version": fact.version,
        "entity": _json(fact.entity),
        "type": fact.entity["type"],
        "confidence": float(fact.entity.get("confidence", 1.0)),
        "review_status": fact.review_status,
        "origin": fact.origin,
        "required": fact.required,
        "reason": fact.reason,
    }


def _fact(row: Row[Any]) -> Fact:
    return Fact(
        id=row.id,
        document=row.document,
        position=row.position,
        version=row.version,
        entity=row.entity,
        review_status=row.review_status,
        origin=row.origin,
        required=bool(row.required),
        reason=row.reason,
    )


def _decision(row: Row[Any]) -> DecisionRecord:
    return DecisionRecord(
        id=row.id,
        fact=row.fact,
        document=row.document,
        reviewer=row.reviewer,
        action=row.action,
        at=row.at,
        version=row.version,
        before=row.before,
        after=row.after,
        comment=row.comment,
    )


def _audit_record(row: Row[Any]) -> AuditRecord:
    return AuditRecord(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        document=row.document,
        before=row.before,
        after=row.after,
        model=row.model or {},
        comment=row.comment,
        previous=row.previous,
        hash=row.hash,
    )
