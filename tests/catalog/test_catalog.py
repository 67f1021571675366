"""Catalogue resolution: the item's own fields, then the catalogue, then the region default."""

from __future__ import annotations

import pytest

from tests.helpers import claim, fen, person, settle
from yibao.catalog.load import CatalogError, load_packaged, parse_catalog

HEADER = (
    "code,name,category,kind,price_limit,selfpay_ratio,sex,min_age,max_age,levels,"
    "indication_icd,selfpay_waivable\n"
)


def _line(s):
    return s[0].lines[0]


def test_sample_catalogue_is_marked_as_a_sample():
    catalog = load_packaged(("sample_common.csv",))
    assert catalog.is_sample and len(catalog.entries) >= 30
    assert catalog.get("XC08CAA001").category == "A"


def test_catalogue_class_and_default_b_ratio_apply_when_the_item_is_silent():
    # XJ01DCA011 头孢呋辛酯片 is 乙类 in the sample: 10% first self-pay (G-ALL-5).
    s, _ = settle(
        "tongliao",
        person(),
        [claim("C1", "2017-03-01", level=1, items=[{"code": "XJ01DCA011", "price": "50.00"}])],
    )
    assert (_line(s).category, _line(s).preselfpay_amt, _line(s).inscp_scp_amt) == (
        "B",
        fen("5.00"),
        fen("45.00"),
    )


def test_item_fields_override_the_catalogue():
    s, _ = settle(
        "tongliao",
        person(),
        [
            claim(
                "C1",
                "2017-03-01",
                level=1,
                items=[{"code": "XJ01DCA011", "price": "50.00", "category": "A"}],
            )
        ],
    )
    assert (_line(s).category, _line(s).preselfpay_amt) == ("A", 0)


def test_catalogue_price_limit_and_ratio():
    # M002 人工晶体: limit 1500, 乙类 20%: 2000 → over 500; 1500 × 20% = 300 first self-pay.
    s, _ = settle(
        "tongliao",
        person(),
        [claim("C1", "2017-03-01", items=[{"code": "M002", "price": "2000.00"}])],
    )
    line = _line(s)
    assert (line.overlmt_selfpay, line.preselfpay_amt, line.inscp_scp_amt) == (
        fen("500"),
        fen("300"),
        fen("1200"),
    )


def test_unknown_code_without_category_is_outside_the_catalogue():
    s, _ = settle(
        "tongliao",
        person(),
        [claim("C1", "2017-03-01", items=[{"code": "NOPE", "price": "10.00"}])],
    )
    assert _line(s).fulamt_ownpay_amt == fen("10") and "目录外" in _line(s).note


@pytest.mark.parametrize(
    ("who", "code", "diagnoses", "level", "paid"),
    [
        ({"sex": "M"}, "XG03AC0001", ["O20.0"], 3, False),  # 黄体酮: women only
        ({"sex": "F"}, "XG03AC0001", ["O20.0"], 3, True),
        ({"birth_date": "1980-01-01"}, "ZB02BBA0002", [], 3, False),  # children ≤ 14 only
        ({"birth_date": "2010-01-01"}, "ZB02BBA0002", [], 3, True),
        ({}, "S005", ["N18.5"], 1, False),  # 透析 only at levels 2–3
        ({}, "XB01ACA056", ["K35"], 3, False),  # 氯吡格雷 outside its indication
        ({}, "XB01ACA056", ["I25.1"], 3, True),
    ],
)
def test_restrictions_make_an_item_self_paid(who, code, diagnoses, level, paid):
    s, _ = settle(
        "tongliao",
        person(**who),
        [
            claim(
                "C1",
                "2017-03-01",
                level=level,
                diagnoses=diagnoses,
                items=[{"code": code, "price": "100.00"}],
            )
        ],
    )
    assert (_line(s).fulamt_ownpay_amt == 0) is paid


def test_liaoyang_switch_waives_listed_b_selfpay():
    # LY-15: 取消部分乙類藥品的先行自負比例 — XC10AAA005 is flagged waivable in the sample:
    # Liaoyang 0 first self-pay; Erenhot (no switch) 10%.
    item = {"code": "XC10AAA005", "price": "100.00"}
    ly, _ = settle(
        "liaoyang",
        person("employee", employment="in_service"),
        [claim("C1", "2010-03-01", items=[item])],
    )
    eh, _ = settle(
        "erenhot",
        person("employee", employment="in_service"),
        [claim("C1", "2023-03-01", "11", items=[item])],
    )
    assert _line(ly).preselfpay_amt == 0
    assert _line(eh).preselfpay_amt == fen("10.00")


def test_bad_catalogue_rows_name_the_row():
    with pytest.raises(CatalogError, match=r"row 2 \(X\): category must be A, B or C"):
        parse_catalog(HEADER + "X,x,D,drug,,,,,,,,\n", "bad.csv")
    with pytest.raises(CatalogError, match="missing columns"):
        parse_catalog("code,name\nX,x\n", "bad.csv")
    with pytest.raises(CatalogError, match="selfpay_ratio must be between 0 and 1"):
        parse_catalog(HEADER + "X,x,B,drug,,1.5,,,,,,\n", "bad.csv")
