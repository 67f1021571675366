"""Every write is in the audit log, with ID numbers masked; the log cannot be rewritten."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from tests.service.world import build_world, outpatient
from yibao.service import settlement
from yibao.store.models import AuditEntry


def test_writes_are_audited_with_masked_ids(db):
    world = build_world(db)
    settlement.settle(
        db, world.hospital, "P1", outpatient("C1", "2023-03-01", "100"), "H001", "m1", "2207"
    )
    with db.sessions() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    actions = [e.action for e in entries]
    assert actions.count("institution.add") == 2 and actions.count("user.add") == 2
    assert "person.enroll" in actions and "account.credit" in actions
    settle = next(e for e in entries if e.action == "settlement.settle")
    assert (settle.actor, settle.role, settle.detail["msgid"]) == ("H001", "institution", "m1")
    # the money that moved (QA: an account debit was audited as fund_pay_sumamt 0 alone)
    paid = settle.detail["fund_pay_sumamt"] + settle.detail["acct_pay"]
    assert paid + settle.detail["psn_cash_pay"] == 10_000 and settle.detail["acct_pay"] > 0
    enrolled = next(e for e in entries if e.action == "person.enroll")
    assert "*" in enrolled.detail["certno"] and len(enrolled.detail["certno"]) == 18


@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_audit_log_is_append_only(db, change):
    build_world(db)
    statement = (
        update(AuditEntry).values(actor="someone else")
        if change == "update"
        else delete(AuditEntry)
    )
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
        s.execute(statement)
