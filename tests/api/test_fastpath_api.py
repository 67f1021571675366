"""A settlement's answer is rendered once: the HTTP body carries exactly the stored replay text,
and a retry gets the same bytes back."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from yibao.api.rendering import MoneyJSONResponse
from yibao.service.output import Answer, rendered, thaw
from yibao.store.models import Idempotency

CLAIM = {
    "id": "C1",
    "date": "2023-03-01",
    "med_type": "11",
    "hospital_level": 3,
    "items": [{"code": "A1", "name": "甲类", "category": "A", "price": "1500"}],
}


def test_the_body_is_the_stored_answer_and_a_retry_the_same_bytes(api):
    first = api.call("2207", {"psn_no": "P1", "claim": CLAIM}, msgid="once-1")
    again = api.call("2207", {"psn_no": "P1", "claim": CLAIM}, msgid="once-1")
    with api.world.db.sessions() as s:
        stored = s.scalars(select(Idempotency).where(Idempotency.msgid == "once-1")).one().response
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert first.content.decode() == '{"infcode":0,"err_msg":null,"output":' + stored + "}"
    assert '"hifp_pay":300.00' in stored  # EH-12: 60% × (1500 − 1000 deductible)


def test_a_prerendered_answer_renders_as_the_plain_dict_would():
    answer = {"setlinfo": {"psn_name": "参保人", "hifp_pay": Decimal("300.00")}, "warnings": []}
    envelope = {"infcode": 0, "err_msg": None, "output": answer}
    plain = MoneyJSONResponse(envelope).body
    assert MoneyJSONResponse({**envelope, "output": rendered(answer)}).body == plain
    replayed = thaw(rendered(answer).json)
    assert isinstance(replayed, Answer) and replayed == answer
    assert MoneyJSONResponse({**envelope, "output": replayed}).body == plain
