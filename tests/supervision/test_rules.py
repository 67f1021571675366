"""Golden tests: for each rule a case that must fire and a near miss that must not."""

from __future__ import annotations

import pytest

from tests.supervision.cases import claim_file, flags, item, stay, visit

# ---------------------------------------------------------------- split hospitalization


@pytest.mark.parametrize(("readmit", "fires"), [("2023-03-25", True), ("2023-03-26", False)])
def test_split_hospitalization_window_is_15_days(readmit: str, fires: bool) -> None:
    # discharged 10 March: re-admission on day 15 (25 March) fires, day 16 does not
    first = stay("C1", "2023-03-01", "2023-03-10", "J18.9")
    second = stay("C2", readmit, "2023-04-02", "J18.1")
    found = flags(claim_file([first, second]), rule="split_hospitalization")
    assert bool(found) is fires
    if fires:
        (f,) = found
        assert f["claim_ids"] == ["C1", "C2"]
        assert f["evidence"]["value"] == 15 and f["evidence"]["threshold"] == 15
        assert f["evidence"]["shared_icd"] == ["J18"]
        assert f["amount_at_risk_fen"] == sum(x["amount_fen"] for x in f["lines"][-9:])
        assert f["severity"] == "high"
        assert "QD-27" in f["basis"] and "window_days=15" in f["basis"]


def test_split_hospitalization_needs_related_diagnosis_and_same_institution() -> None:
    first = stay("C1", "2023-03-01", "2023-03-10", "J18.9")
    other_dx = stay("C2", "2023-03-15", "2023-03-20", "K35.8")
    other_place = stay("C3", "2023-04-01", "2023-04-05", "K35.8", inst="H9")
    assert not flags(claim_file([first, other_dx, other_place]), rule="split_hospitalization")


def test_split_hospitalization_ignores_chemotherapy_z_code() -> None:
    first = stay("C1", "2023-03-01", "2023-03-05", "Z51.1")
    second = stay("C2", "2023-03-10", "2023-03-14", "Z51.1")
    assert not flags(claim_file([first, second]), rule="split_hospitalization")


# ---------------------------------------------------------------- bed hanging


def _bed_only(days: int) -> dict:
    import datetime as dt

    a = dt.date(2023, 5, 1)
    items = []
    for i in range(days):
        d = str(a + dt.timedelta(days=i))
        items += [item("S002", "60", d), item("S004", "25", d)]
    return stay("C1", "2023-05-01", str(a + dt.timedelta(days=days)), items=items)


def test_bed_hanging_stay_with_only_bed_and_nursing_fires() -> None:
    (f,) = flags(claim_file([_bed_only(3)]), rule="bed_hanging")
    assert f["evidence"]["value"] == 3 and f["evidence"]["threshold"] == 3
    assert f["amount_at_risk_fen"] == 3 * (6000 + 2500)
    assert len(f["lines"]) == 6


def test_bed_hanging_near_misses() -> None:
    # a 2-day stay is below the 3-day minimum
    assert not flags(claim_file([_bed_only(2)]), rule="bed_hanging")
    # treatment on the middle day breaks the run (1 + 1 idle days)
    s = _bed_only(3)
    s["items"].append(item("S011", "22", "2023-05-02"))
    assert not flags(claim_file([s]), rule="bed_hanging")


def test_bed_hanging_settlement_inside_stay() -> None:
    s = stay("C1", "2023-05-01", "2023-05-10")
    inside = visit("C2", "2023-05-05", [item("XN02BEA001", "6", qty=2)], med_type="41")
    on_discharge_day = visit("C3", "2023-05-10", [item("S001", "25")])
    found = flags(claim_file([s, inside, on_discharge_day]), rule="bed_hanging")
    assert [f["claim_ids"] for f in found] == [["C1", "C2"]]
    assert found[0]["evidence"]["measure"] == "days_inside_stay"
    assert found[0]["amount_at_risk_fen"] == 1200


# ---------------------------------------------------------------- overlapping stays


def test_overlapping_stays() -> None:
    a = stay("C1", "2023-06-01", "2023-06-10", inst="H1")
    b = stay("C2", "2023-06-09", "2023-06-15", "K35.8", inst="H7")
    (f,) = flags(claim_file([a, b]), rule="overlapping_stays")
    assert f["claim_ids"] == ["C1", "C2"] and f["evidence"]["value"] == 1


def test_transfer_on_discharge_day_is_not_an_overlap() -> None:
    a = stay("C1", "2023-06-01", "2023-06-10", inst="H1")
    b = stay("C2", "2023-06-10", "2023-06-15", "K35.8", inst="H7")
    assert not flags(claim_file([a, b]), rule="overlapping_stays")


# ---------------------------------------------------------------- over price limit


def test_over_price_limit_bed_day() -> None:
    s = stay("C1", "2023-05-01", "2023-05-03")
    s["items"][0]["price"] = "90"  # S002: catalogue limit 60.00
    (f,) = flags(claim_file([s]), rule="over_price_limit")
    assert f["evidence"]["value"] == 9000 and f["evidence"]["threshold"] == 6000
    assert f["amount_at_risk_fen"] == 3000


def test_at_the_limit_and_premium_lens_do_not_fire() -> None:
    s = stay("C1", "2023-05-01", "2023-05-03", "H25.9")
    s["items"][0]["price"] = "60.00"  # exactly the limit
    s["items"].append(item("M002", "3200", "2023-05-01"))  # lens: payment standard 1500
    assert not flags(claim_file([s]), rule="over_price_limit")


def test_item_price_limit_of_unknown_code_is_a_ceiling() -> None:
    v = visit("C1", "2023-05-01", [item("X04", "500", price_limit="300")])
    (f,) = flags(claim_file([v]), rule="over_price_limit")
    assert f["amount_at_risk_fen"] == 20000


# ---------------------------------------------------------------- charge outside stay


def test_charge_outside_stay() -> None:
    s = stay("C1", "2023-05-01", "2023-05-05")
    s["items"].append(item("S011", "22", "2023-04-29"))
    (f,) = flags(claim_file([s]), rule="charge_outside_stay")
    assert f["evidence"]["value"] == 2 and f["amount_at_risk_fen"] == 2200
    assert f["lines"][0]["code"] == "S011"


def test_charges_on_admission_and_discharge_day_are_inside() -> None:
    s = stay("C1", "2023-05-01", "2023-05-05")
    s["items"] += [item("S011", "22", "2023-05-01"), item("S011", "22", "2023-05-05")]
    assert not flags(claim_file([s]), rule="charge_outside_stay")


# ---------------------------------------------------------------- pharmacy non-medical goods


def test_pharmacy_daily_goods() -> None:
    v = visit("C1", "2023-05-01", [item("XN02BEA001", "6"), item("G002", "188")], med_type="41")
    (f,) = flags(claim_file([v]), rule="pharmacy_non_medical")
    assert f["evidence"]["codes"] == ["G002"] and f["amount_at_risk_fen"] == 18800
    assert "LY-25" not in f["basis"]  # Qingdao cites its own seed (QD-27)


def test_pharmacy_medicines_only_do_not_fire() -> None:
    v = visit("C1", "2023-05-01", [item("XN02BEA001", "6"), item("ZA01AAA0001", "26")], "41")
    assert not flags(claim_file([v]), rule="pharmacy_non_medical")


def test_pharmacy_goods_named_as_health_product() -> None:
    v = visit("C1", "2023-05-01", [{"code": "Z9", "name": "鱼油(保健品)", "price": "99"}], "41")
    assert flags(claim_file([v]), rule="pharmacy_non_medical")


# ---------------------------------------------------------------- sex / age mismatch


def test_progesterone_and_obstetric_diagnosis_for_a_man() -> None:
    v = visit("C1", "2023-05-01", [item("S001", "25"), item("XG03AC0001", "16", qty=5)])
    v["diagnoses"] = ["O20.0"]
    (f,) = flags(claim_file([v], sex="M"), rule="sex_age_mismatch")
    assert f["amount_at_risk_fen"] == 8000
    assert [x["code"] for x in f["lines"]] == ["XG03AC0001"]
    assert "diagnosis O20.0 for sex M" in f["evidence"]["violations"]
    assert not flags(claim_file([v], sex="F"), rule="sex_age_mismatch")


def test_obstetric_diagnosis_alone_for_a_man_fires() -> None:
    v = visit("C1", "2023-05-01", [item("S001", "25")])
    v["diagnoses"] = ["O80"]
    (f,) = flags(claim_file([v], sex="M"), rule="sex_age_mismatch")
    assert f["amount_at_risk_fen"] == 2500


@pytest.mark.parametrize(("born", "fires"), [("2008-05-01", True), ("2008-05-02", False)])
def test_childrens_medicine_up_to_age_14(born: str, fires: bool) -> None:
    # on 2023-05-01 the first person turns 15, the second is still 14
    v = visit("C1", "2023-05-01", [item("ZB02BBA0002", "32")])
    assert bool(flags(claim_file([v], born=born), rule="sex_age_mismatch")) is fires


# ---------------------------------------------------------------- duplicate charge


def test_duplicate_charge() -> None:
    v = visit("C1", "2023-05-01", [item("S011", "22"), item("S011", "22"), item("S001", "25")])
    (f,) = flags(claim_file([v]), rule="duplicate_charge")
    assert f["evidence"]["value"] == 2 and f["amount_at_risk_fen"] == 2200
    assert [x["line_no"] for x in f["lines"]] == [1, 2]


def test_same_item_on_other_days_or_claims_is_not_a_duplicate() -> None:
    s = stay("C1", "2023-05-01", "2023-05-04")  # S002 once a day
    v = visit("C2", "2023-06-01", [item("S011", "22")])
    w = visit("C3", "2023-06-01", [item("S011", "22")], institution="H3")
    assert not flags(claim_file([s, v, w]), rule="duplicate_charge")


# ---------------------------------------------------------------- over-frequency


@pytest.mark.parametrize(("visits", "fires"), [(13, True), (12, False)])
def test_over_frequency(visits: int, fires: bool) -> None:
    claims = [visit(f"C{i}", f"2023-07-{i + 1:02d}", [item("S001", "25")]) for i in range(visits)]
    found = flags(claim_file(claims), rule="over_frequency")
    assert bool(found) is fires
    if fires:
        assert found[0]["amount_at_risk_fen"] == 2500


@pytest.mark.parametrize(("places", "fires"), [(3, True), (2, False)])
def test_two_places_one_day(places: int, fires: bool) -> None:
    # G-ALL-6 default: more than 2 institutions for outpatient care on one day (人证不符, EH-37).
    claims = [
        visit(f"C{i}", "2023-07-03", [item("S001", "25")], institution=f"H{i}")
        for i in range(places)
    ]
    found = flags(claim_file(claims), rule="two_places_one_day")
    assert bool(found) is fires
    if fires:
        evidence = found[0]["evidence"]
        assert (evidence["value"], evidence["threshold"]) == (3, 2)
        assert evidence["institutions"] == ["H0", "H1", "H2"]
        assert found[0]["amount_at_risk_fen"] == 7500


def test_clean_file_has_no_flags() -> None:
    claims = [
        stay("C1", "2023-03-01", "2023-03-10"),
        stay("C2", "2023-03-26", "2023-04-02"),
        visit("C3", "2023-05-01", [item("S001", "25"), item("XN02BEA001", "6", qty=2)]),
    ]
    assert flags(claim_file(claims)) == []
