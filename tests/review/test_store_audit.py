from __future__ import annotations

from dataclasses import replace

from clinex.store import AuditRecord, chain, first_broken_link


def _rows() -> list[AuditRecord]:
    return chain(
        [
            AuditRecord(
                seq=0,
                at="2026-12-03T10:00:00Z",
                actor="clinex",
                action="extract",
                document="n1",
                model={"checksum": "sha256:ab"},
            ),
            AuditRecord(
                seq=0,
                at="2026-12-03T10:05:00Z",
                actor="dr-a",
                action="reject",
                document="n1",
                before={"text": "asthma"},
            ),
            AuditRecord(seq=0, at="2026-12-03T10:06:00Z", actor="dr-b", action="accept", document="n1"),
        ]
    )


def test_a_chain_verifies_and_continues_after_its_last_row() -> None:
    rows = _rows()
    assert [r.seq for r in rows] == [1, 2, 3] and first_broken_link(rows) is None
    more = chain(
        [AuditRecord(seq=0, at="2026-12-03T11:00:00Z", actor="dr-a", action="accept", document="n2")],
        after=rows[-1],
    )
    assert more[0].seq == 4 and more[0].previous == rows[-1].hash and first_broken_link(rows + more) is None


def test_an_edited_deleted_or_reordered_row_is_the_first_broken_link() -> None:
    rows = _rows()
    edited = [rows[0], replace(rows[1], actor="dr-z"), rows[2]]
    assert first_broken_link(edited) == 2
    assert first_broken_link([rows[0], rows[2]]) == 2  # row 2 deleted: the old row 3 no longer links
    assert first_broken_link([rows[1], rows[0], rows[2]]) == 1
    rehashed = replace(rows[1], actor="dr-z")
    rehashed = replace(rehashed, hash=rehashed.content_hash())
    assert first_broken_link([rows[0], rehashed, rows[2]]) == 3, "re-sealing a row breaks the next link"
