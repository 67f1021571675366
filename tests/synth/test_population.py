"""Rates come out as configured: schemes, employment, categories, products, utilisation."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tests.synth.conftest import population
from yibao.synth import population as rates
from yibao.synth.plan import ID_PREFIXES


def _share(frame: pl.DataFrame, condition: pl.Expr) -> float:
    return frame.select(condition.mean()).item()


def _age(persons: pl.DataFrame, year: int = 2023) -> pl.Expr:
    return year - pl.col("birth_date").dt.year() - 1  # age on 1 January


def test_schemes_and_employment(qingdao_large):
    persons, _ = qingdao_large
    employees = persons.filter(pl.col("scheme") == "employee")
    residents = persons.filter(pl.col("scheme") == "resident")
    assert 0.35 < employees.height / persons.height < 0.5
    assert residents["employment"].null_count() == residents.height
    retired = _share(employees, pl.col("employment") == "retired")
    flexible = _share(employees, pl.col("employment") == "flexible")
    assert 0.2 < retired < 0.32  # national 2021: 26% of employees are retirees
    assert 0.05 < flexible < 0.15
    assert employees.select(_age(employees).min()).item() >= 18
    assert 0.49 < _share(persons, pl.col("sex") == "M") < 0.53


def test_age_pyramid(qingdao_large):
    persons, _ = qingdao_large
    age = _age(persons)
    assert 0.15 < _share(persons, age < 15) < 0.21  # census 2020: 17.95%
    assert 0.16 < _share(persons, age >= 60) < 0.22  # census 2020: 18.70%
    assert persons.select(age.max()).item() <= 99


def test_categories(qingdao_large):
    persons, _ = qingdao_large
    has = lambda c: pl.col("categories").list.contains(c)  # noqa: E731
    residents = persons.filter(pl.col("scheme") == "resident")
    employees = persons.filter(pl.col("scheme") == "employee")
    assert abs(_share(residents, has("dibao")) - rates.DIBAO) < 0.01
    assert abs(_share(residents, has("low_income_marginal")) - rates.LOW_INCOME_MARGINAL) < 0.006
    assert 0.002 < _share(residents, has("tekun")) < 0.01
    assert _share(residents, has("dibao") & has("tekun")) == 0
    for category in ("dibao", "tekun", "low_income_marginal", "poverty_registered"):
        assert _share(employees, has(category)) == 0, category
    civil = employees.filter(has("civil_servant"))
    assert set(civil["employment"]) <= {"in_service", "retired"}
    assert abs(civil.height / employees.height - rates.CIVIL_SERVANT_SHARE) < 0.01
    assert _share(residents, has("civil_servant")) == 0
    children = persons.filter(_age(persons) < 18)
    assert persons.filter(has("disabled_child") & (_age(persons) >= 18)).height == 0
    assert 0.004 < _share(children, has("disabled_child")) < 0.02
    assert 0.01 < _share(persons, has("severely_disabled")) < 0.03


def test_accounts_products_and_flags(qingdao_large):
    persons, _ = qingdao_large
    residents = persons.filter(pl.col("scheme") == "resident")
    employees = persons.filter(pl.col("scheme") == "employee")
    assert (residents["account_balance_fen"] == 0).all()
    mean_yuan = employees["account_balance_fen"].mean() / 100
    assert 2000 < mean_yuan < 6000  # national 2021: about 3,300 yuan per employee
    ebao = _share(persons, pl.col("products").list.contains("qindao_ebao"))
    assert abs(ebao - rates.PRODUCT_SHARE["qindao_ebao"]) < 0.02
    contract = pl.col("flags").list.contains("community_contract")
    assert _share(employees, contract) == 0
    assert 0.015 < _share(residents, contract) < 0.04


def test_utilisation(qingdao_large):
    persons, lines = qingdao_large
    claims = lines.group_by("person_id", "claim_id").agg(
        pl.col("med_type", "hospital_level", "out_of_region", "referral", "institution").first(),
        total=(pl.col("price_fen") * pl.col("quantity")).sum(),
    )
    n = persons.height
    per_person = dict(claims.group_by("med_type").len().iter_rows())
    assert 0.15 < per_person["21"] / n < 0.25  # 2021: 17.5 admissions per 100 persons
    assert 1.5 < per_person["11"] / n < 4
    assert 1 < per_person["41"] / n < 3
    assert 0.2 < per_person["14"] / n < 0.8
    assert 0.8 < lines["person_id"].n_unique() / n < 0.97
    stays = claims.filter(pl.col("med_type") == "21")
    assert 0.02 < stays["out_of_region"].mean() < 0.07
    assert (stays["out_of_region"] | ~stays["referral"]).all()
    # heavy tail: the 99th percentile stay costs many times the median one
    assert stays["total"].quantile(0.99) > 8 * stays["total"].median()
    assert stays["total"].max() > 30 * stays["total"].median()
    pharmacy = claims.filter(pl.col("med_type") == "41")
    assert pharmacy["hospital_level"].null_count() == pharmacy.height
    assert pharmacy["institution"].str.starts_with("P3702").mean() > 0.99
    level3 = stays.filter(pl.col("hospital_level") == 3)["total"].mean()
    level1 = stays.filter(pl.col("hospital_level") == 1)["total"].mean()
    assert level3 > 4 * level1


def test_claim_lines_use_catalogue_classes(qingdao_large):
    _, lines = qingdao_large
    value = lines.group_by("category").agg((pl.col("price_fen") * pl.col("quantity")).sum())
    total = value["price_fen"].sum()
    share = {row[0]: row[1] / total for row in value.iter_rows()}
    assert share["A"] > 0.3 and share["B"] > 0.3 and 0.005 < share["C"] < 0.1
    limited = lines.filter(pl.col("code").is_in(["S002", "S003", "M001", "M002"]))
    assert limited["price_limit_fen"].null_count() == 0


@pytest.mark.parametrize(
    ("region", "year", "schemes"),
    [
        ("tongliao", 2023, {"resident"}),
        ("erenhot", 2023, {"employee"}),
        ("fuxin", 2020, {"resident"}),
    ],
)
def test_one_scheme_regions(region, year, schemes):
    persons, _ = population(region, year, 2000, 6)
    assert set(persons["scheme"]) == schemes
    assert persons["products"].list.len().sum() == 0
    assert persons["flags"].list.len().sum() == 0
    assert persons["person_id"].str.starts_with(ID_PREFIXES[region]).all()


def test_short_policy_window_has_fewer_claims():
    """Erenhot's 2022 policy starts on 1 October: claims fall in the last quarter only."""
    _, quarter = population("erenhot", 2022, 2000, 6)
    _, year = population("erenhot", 2023, 2000, 6)
    assert quarter["date"].min() >= dt.date(2022, 10, 1)
    count = pl.struct("person_id", "claim_id").n_unique()
    ratio = quarter.select(count).item() / year.select(count).item()
    assert 0.18 < ratio < 0.35  # 92 days of 365
