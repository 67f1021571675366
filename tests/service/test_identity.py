"""ID numbers (GB 11643): only ASCII digits make one, the 15-digit first generation is known,
and a person id that is one is masked (security QA pass)."""

from __future__ import annotations

import pytest

from yibao.service.identity import certno_problem, is_first_generation, is_id_number, shown_id

VALID = "370202198001011232"
DIGITS_ONLY = "must be 17 digits and a check character"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def _arabic_indic(text: str) -> str:
    return "".join(chr(0x0660 + int(c)) for c in text)


@pytest.mark.parametrize(
    "certno",
    [
        _fullwidth(VALID[:17]) + VALID[17],  # enrolled as a second person before (QA)
        _arabic_indic(VALID[:17]) + VALID[17],
        "²" + VALID[1:],  # int() refused it: a 500 on 1101 and POST /persons (QA)
        VALID[:17] + _fullwidth(VALID[17]),
        VALID[:17] + "Ｘ",
    ],
)
def test_an_id_number_is_ascii_digits_only(certno):
    assert certno_problem(certno) == DIGITS_ONLY
    assert not is_id_number(certno)


def test_a_valid_id_number_still_passes_with_either_check_x():
    assert certno_problem(VALID) is None
    assert certno_problem("15010219800101009x") is None
    assert certno_problem("15010219800101009X") is None


@pytest.mark.parametrize(
    ("number", "first_generation"),
    [
        ("370202800101123", True),  # area 370202, born 1980-01-01, sequence 123
        ("370202800229123", True),  # 1980 was a leap year
        ("370202810229123", False),  # 1981 was not
        ("370202801301123", False),  # month 13
        ("37020280010112", False),  # 14 digits
        (_fullwidth("370202800101123"), False),
        ("3702000000000002", False),  # the demo's psn_no (16 digits)
    ],
)
def test_the_first_generation_is_15_digits_with_a_birth_date(number, first_generation):
    assert is_first_generation(number) is first_generation
    assert is_id_number(number) is first_generation


def test_a_person_id_is_shown_masked_when_it_is_an_id_number_of_either_generation():
    assert shown_id(VALID) == "3702************32"
    assert shown_id("370202800101123") == "3702*********23"
    assert shown_id("P1") == "P1"
