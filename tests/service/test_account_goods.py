"""Online settlement leaves daily goods to cash, as the engine does (EH-06, EH-08): the
service takes the account's part from the engine and debits only that."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.service.world import build_world
from yibao.service import institutions, settlement
from yibao.store.models import Account


@pytest.fixture
def world(db):
    return build_world(db)


def test_pharmacy_goods_are_not_debited_from_the_account(world):
    db = world.db
    key = institutions.add_institution(db, "P001", "二连浩特大药房", 1, "pharmacy", "erenhot")
    pharmacy = institutions.authenticate(db, key)
    # P1: in service, account 1000.00. 硝苯地平 100 (甲类, all to the 1000 deductible, EH-10)
    # + G002 蛋白粉 198 + G001 洗发水 39.90 (daily_goods): person 337.90, the account pays
    # the drug's 100.00 only, cash 237.90; the balance falls to 900.00.
    claim = {
        "id": "S1",
        "date": "2023-03-01",
        "med_type": "41",
        "items": [
            {"code": "XC08CAA001", "price": "100.00"},
            {"code": "G002", "price": "198.00"},
            {"code": "G001", "price": "39.90"},
        ],
    }
    info = settlement.settle(db, pharmacy, "P1", claim, "P001", "goods-1", "2207")["setlinfo"]
    assert (info["psn_part_amt"], info["acct_pay"], info["psn_cash_pay"]) == (
        Decimal("337.90"),
        Decimal("100.00"),
        Decimal("237.90"),
    )
    with db.sessions() as s:
        balance = s.scalars(select(Account.balance).where(Account.person_id == "P1")).one()
    assert balance == 90_000
