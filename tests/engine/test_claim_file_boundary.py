"""The claim file at the input boundary both engines share: the order same-day claims settle
in, non-finite numbers and control characters in codes (QA batcheq defects 1, 3 and 5)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.helpers import claim, item, person, settle
from yibao.engine.inputs import ClaimFile
from yibao.errors import first_error

# Tongliao 门诊统筹 (TL-07): level 1, ratio 0.50, annual cap 300 (G-TL-8, assumed)
RESIDENT = person(birth_date="1960-05-01")


def _visit(claim_id: str, price: str, day: str = "2021-03-10") -> dict:
    return claim(claim_id, day, "11", level=1, items=[item(price)], diagnoses=["J06.9"])


def _paid(claims: list[dict]) -> list[tuple[str, int]]:
    settlements, _ = settle("tongliao", RESIDENT, claims)
    return [(s.claim_id, s.setlinfo.hifp_pay) for s in settlements]


def test_same_day_claims_settle_in_claim_id_order_whatever_the_file_order():
    # O9 (500.00) then O10 (200.00) in the file: "O10" < "O9", so O10 takes 100 of the 300
    # cap first and O9 the 200 left (file order gave 250 / 50, and the batch 200 / 100)
    expected = [("O10", 10000), ("O9", 20000)]
    assert _paid([_visit("O9", "500"), _visit("O10", "200")]) == expected
    assert _paid([_visit("O10", "200"), _visit("O9", "500")]) == expected


def test_the_settlement_date_still_comes_before_the_claim_id():
    # B is a day earlier than A: it settles first, its id notwithstanding
    paid = _paid([_visit("A", "200", "2021-03-11"), _visit("B", "500", "2021-03-10")])
    assert paid == [("B", 25000), ("A", 5000)]


def _error(edit) -> str:
    raw = {
        "region": "tongliao",
        "person": RESIDENT,
        "claims": [_visit("C1", "20")],
    }
    edit(raw["claims"][0])
    with pytest.raises(ValidationError) as info:
        ClaimFile.model_validate(raw)
    return first_error(info.value)


@pytest.mark.parametrize("text", ["NaN", "sNaN", "-NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("name", ["quantity", "selfpay_ratio"])
def test_a_non_finite_quantity_or_ratio_is_a_one_line_error(name, text):
    # NaN and sNaN crashed with decimal.InvalidOperation at the range check
    def edit(c: dict) -> None:
        c["items"][0].update(category="B", **{name: text})

    assert _error(edit) == f"claims[0].items[0].{name}: must be a finite number"


@pytest.mark.parametrize("char", ["\x1f", "\x00", "\t", "\n", "\x7f"])
def test_a_control_character_in_a_diagnosis_or_disease_is_refused(char):
    # "X\x1fE11.9" matched diabetes in the batch (whose separator is \x1f), not in the engine
    def diagnosis(c: dict) -> None:
        c["diagnoses"] = ["J06.9", f"X{char}E11.9"]

    def disease(c: dict) -> None:
        c["disease"] = f"E11{char}"

    assert _error(diagnosis) == "claims[0].diagnoses[1]: holds a control character"
    assert _error(disease) == "claims[0].disease: holds a control character"


def test_ordinary_codes_are_still_normalised():
    raw = {"region": "tongliao", "person": RESIDENT, "claims": [_visit("C1", "20")]}
    raw["claims"][0].update(diagnoses=[" j06.9 "], disease="hypertension")
    read = ClaimFile.model_validate(raw).claims[0]
    assert (read.diagnoses, read.disease) == (("J06.9",), "hypertension")
