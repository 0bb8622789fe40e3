"""The custody chain verifies intact, and any tampering with stored rows is pinpointed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from storage_samples import make_alert

from sentineliq.alerts.model import CustodyAction, CustodyEntry
from sentineliq.storage import (
    AlertRepository,
    Database,
    NotFoundError,
    WorkspaceRecord,
    custodylog,
    verify_custody_chain,
)
from sentineliq.storage.custodylog import CustodyRepository
from sentineliq.storage.tables import CustodyEntryRow, EvidenceRow


@pytest.fixture
def evidence_ids(alerts: AlertRepository, workspace: WorkspaceRecord) -> tuple[str, ...]:
    [outcome] = alerts.ingest(workspace.id, [make_alert()], actor="t")
    return alerts.get(outcome.alert_id).evidence_ids


def test_intact_chains_verify(alerts: AlertRepository, evidence_ids: tuple[str, ...]) -> None:
    with_custody, without_custody = evidence_ids
    result = alerts.verify_custody(with_custody)
    assert (result.ok, result.broken_at, result.reason, result.length) == (True, None, "intact", 3)
    empty = alerts.verify_custody(without_custody)
    assert (empty.ok, empty.length) == (True, 0)


def test_chain_links_entries_in_order(database: Database, evidence_ids: tuple[str, ...]) -> None:
    with database.session() as session:
        entries = session.scalars(
            select(CustodyEntryRow)
            .where(CustodyEntryRow.evidence_id == evidence_ids[0])
            .order_by(CustodyEntryRow.position)
        ).all()
        evidence = session.get_one(EvidenceRow, evidence_ids[0])
    assert [e.action for e in entries] == ["collected", "transferred", "analyzed"]
    assert entries[1].prev_hash == entries[0].entry_hash
    assert entries[2].prev_hash == entries[1].entry_hash
    assert evidence.custody_head == entries[2].entry_hash
    assert len({e.entry_hash for e in entries}) == 3


def _entry(position: int) -> Callable[[Session, str], None]:
    def change(session: Session, evidence_id: str) -> None:
        session.execute(
            update(CustodyEntryRow)
            .where(CustodyEntryRow.evidence_id == evidence_id, CustodyEntryRow.position == position)
            .values(actor="mallory")
        )

    return change


def _shift_time(session: Session, evidence_id: str) -> None:
    row = session.scalars(
        select(CustodyEntryRow).where(
            CustodyEntryRow.evidence_id == evidence_id, CustodyEntryRow.position == 1
        )
    ).one()
    row.at = row.at + timedelta(seconds=1)


def _delete_middle(session: Session, evidence_id: str) -> None:
    session.execute(
        delete(CustodyEntryRow).where(
            CustodyEntryRow.evidence_id == evidence_id, CustodyEntryRow.position == 1
        )
    )


def _delete_last(session: Session, evidence_id: str) -> None:
    session.execute(
        delete(CustodyEntryRow).where(
            CustodyEntryRow.evidence_id == evidence_id, CustodyEntryRow.position == 2
        )
    )


def _swap_evidence_hash(session: Session, evidence_id: str) -> None:
    session.execute(
        update(EvidenceRow).where(EvidenceRow.id == evidence_id).values(sha256="d" * 64)
    )


def _rehash_one_entry(session: Session, evidence_id: str) -> None:
    # A forger edits entry 1 and recomputes its own hash; entry 2 still points at the old one.
    from sentineliq.storage.custody import entry_hash

    row = session.scalars(
        select(CustodyEntryRow).where(
            CustodyEntryRow.evidence_id == evidence_id, CustodyEntryRow.position == 1
        )
    ).one()
    row.notes = "nothing to see"
    row.entry_hash = entry_hash(
        evidence_id=evidence_id,
        position=1,
        action=row.action,
        actor=row.actor,
        at=row.at,
        location=row.location,
        notes=row.notes,
        prev_hash=row.prev_hash,
    )


@pytest.mark.parametrize(
    ("tamper", "broken_at", "reason"),
    [
        (_entry(0), 0, "entry #1 (collected by mallory) was altered"),
        (_entry(2), 2, "entry #3 (analyzed by mallory) was altered"),
        (_shift_time, 1, "entry #2 (transferred by ir-bot) was altered"),
        (_delete_middle, 1, "entry #2 is missing"),
        (_delete_last, 2, "2 entries but 3 were recorded: entry #3 onwards is missing"),
        (_swap_evidence_hash, 0, "name or hashes"),
        (_rehash_one_entry, 2, "entry #3 does not link to entry #2"),
    ],
    ids=["actor-0", "actor-2", "time", "delete-middle", "delete-last", "evidence", "rehash"],
)
def test_tampering_is_detected(
    database: Database,
    evidence_ids: tuple[str, ...],
    tamper: Callable[[Session, str], None],
    broken_at: int,
    reason: str,
) -> None:
    with database.session() as session:
        tamper(session, evidence_ids[0])
    with database.session() as session:
        result = verify_custody_chain(session, evidence_ids[0])
    assert not result.ok
    assert result.broken_at == broken_at
    assert reason in result.reason


def test_renamed_evidence_without_custody_is_detected(
    database: Database, alerts: AlertRepository, evidence_ids: tuple[str, ...]
) -> None:
    with database.session() as session:
        session.execute(
            update(EvidenceRow).where(EvidenceRow.id == evidence_ids[1]).values(name="other.pcap")
        )
    result = alerts.verify_custody(evidence_ids[1])
    assert not result.ok
    assert "name or hashes" in result.reason


def test_unknown_evidence(alerts: AlertRepository) -> None:
    with pytest.raises(NotFoundError):
        alerts.verify_custody("00000000-0000-0000-0000-000000000000")


def test_concurrent_appends_each_take_the_next_place_in_the_chain(
    database: Database,
    workspace: WorkspaceRecord,
    evidence_ids: tuple[str, ...],
) -> None:
    # The evidence row is locked for each append: no two writers chain after the same head.
    custody = CustodyRepository(database)
    start = threading.Barrier(4)

    def append(number: int) -> None:
        start.wait()
        entry = CustodyEntry(
            action=CustodyAction.ACCESSED, actor=f"analyst {number}", at=datetime.now(UTC)
        )
        custody.append(workspace.id, evidence_ids[0], entry, actor="t")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(append, range(4)))
    (check,) = [c for c in custody.checks(workspace.id) if c.evidence_id == evidence_ids[0]]
    assert (check.ok, check.problem, len(check.lines)) == (True, "intact", 7)
    assert sorted(line.actor for line in check.lines[3:]) == [f"analyst {n}" for n in range(4)]


def test_an_append_after_a_removed_entry_keeps_the_gap_visible(
    database: Database, workspace: WorkspaceRecord, evidence_ids: tuple[str, ...]
) -> None:
    with database.session() as session:
        _delete_last(session, evidence_ids[0])
    entry = CustodyEntry(action=CustodyAction.STORED, actor="vault", at=datetime.now(UTC))
    check = CustodyRepository(database).append(workspace.id, evidence_ids[0], entry, actor="t")
    assert not check.ok
    assert check.broken_entry == 3
    assert check.problem == "custody entry #3 is missing or out of order"


def test_evidence_removed_with_its_chain_is_reported(
    database: Database, workspace: WorkspaceRecord, evidence_ids: tuple[str, ...]
) -> None:
    with database.session() as session:  # outside SentinelIQ, which never removes a record
        session.execute(
            delete(CustodyEntryRow).where(CustodyEntryRow.evidence_id == evidence_ids[0])
        )
        session.execute(delete(EvidenceRow).where(EvidenceRow.id == evidence_ids[0]))
    checks = CustodyRepository(database).checks(workspace.id)
    assert [(c.name, c.ok, c.evidence_id) for c in checks] == [
        ("netflow.pcap", True, evidence_ids[1]),
        ("stage2.ps1", False, ""),
    ]
    assert checks[1].problem == "evidence #1 of the alert and its custody chain were removed"
    assert checks[1].headline == "Evidence record and chain of custody missing"
    alert_id = checks[0].alert_id
    assert [c.ok for c in CustodyRepository(database).checks_for_alert(alert_id)] == [True, False]


def test_chains_read_in_chunks_verify_the_same(
    database: Database,
    workspace: WorkspaceRecord,
    alerts: AlertRepository,
    evidence_ids: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alerts.ingest(workspace.id, [make_alert(external_id="EDR-2")], actor="t")
    with database.session() as session:
        _entry(1)(session, evidence_ids[0])
    whole = CustodyRepository(database).checks(workspace.id)
    monkeypatch.setattr(custodylog, "CHUNK", 1)
    one_by_one = CustodyRepository(database).checks(workspace.id)
    assert [replace(c, checked_at=whole[0].checked_at) for c in one_by_one] == whole
    assert [(c.ok, len(c.lines)) for c in whole] == [(False, 3), (True, 0), (True, 3), (True, 0)]
