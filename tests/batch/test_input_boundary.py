"""What `yibao batch` reads equals what `yibao settle` reads (QA batcheq): same-day claims,
Decimal columns, non-finite ratios, quantities the tables cannot hold, control characters in
codes, and a person on two lines of `claims.jsonl`. `--verify` re-settles the batch's own
tables, so each of these is checked here against the user's input."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import typer

from tests.batch.equality import assert_same, frames
from tests.helpers import claim, item, person
from yibao.batch.run import run_batch
from yibao.batch.tables import UNNUMBERED
from yibao.claimfile import parse_claim_files
from yibao.cli.batch_cmd import run_batch_cmd
from yibao.settling import settle_file

RESIDENT = {**person(birth_date="1960-05-01", sex="F"), "id": "TL-1"}
# the amounts the equality is checked on
AMOUNTS = ["hifp_pay_fen", "fund_pay_sumamt_fen", "psn_part_amt_fen", "psn_cash_pay_fen"]


def _visit(claim_id: str, price: str, day: str = "2021-03-10", **extra) -> dict:
    """A Tongliao general outpatient visit at level 1 (门诊统筹: 0.50, 300 a year, G-TL-8)."""
    return claim(claim_id, day, "11", level=1, items=[item(price)], diagnoses=["J06.9"], **extra)


def _file(claims: list[dict], who: dict = RESIDENT) -> dict:
    return {"region": "tongliao", "person": who, "claims": claims}


def _jsonl(folder: Path, files: list[dict]) -> Path:
    folder.mkdir()
    path = folder / "claims.jsonl"
    path.write_text("\n".join(json.dumps(f, ensure_ascii=False) for f in files) + "\n", "utf-8")
    return path


def _exit_of(capsys, *args) -> tuple[int, str]:
    with pytest.raises(typer.Exit) as exit_info:
        run_batch_cmd(*(str(a) for a in args))
    return exit_info.value.exit_code, capsys.readouterr().err


def test_same_day_claims_of_a_jsonl_settle_alike_in_settle_and_batch(tmp_path):
    # O9 then O10 in the file: `yibao settle` took file order (O9 250.00, O10 50.00), the
    # batch claim-id order (O10 100.00, O9 200.00), and --verify said equal
    path = _jsonl(tmp_path / "sameday", [_file([_visit("O9", "500"), _visit("O10", "200")])])
    (claim_file,) = parse_claim_files(str(path))
    settlements, _ = settle_file(claim_file)
    by_settle = {s.claim_id: s.setlinfo for s in settlements}
    out = tmp_path / "out.parquet"
    summary = run_batch(path.parent, out, verify=1, progress=None)
    assert summary.differences == [] and summary.claims == 2
    rows = {r["claim_id"]: r for r in pl.read_parquet(out).iter_rows(named=True)}
    for cid, info in by_settle.items():
        engine = [getattr(info, name.removesuffix("_fen")) for name in AMOUNTS]
        assert [rows[cid][name] for name in AMOUNTS] == engine, cid
    assert rows["O10"]["hifp_pay_fen"] == 10000 and rows["O9"]["hifp_pay_fen"] == 20000


def _tables(folder: Path, column: str, values: list, dtype: pl.DataType) -> Path:
    """One Tongliao admission of two lines as Parquet tables, `column` replaced."""
    stay = claim(
        "C1",
        "2021-03-01",
        "21",
        level=2,
        discharge_date="2021-03-10",
        diagnoses=["I63.9"],
        items=[item("5000", code="S008"), item("20", code="S011", quantity=10)],
    )
    persons, lines = frames([_file([stay])])
    folder.mkdir()
    persons.write_parquet(folder / "persons.parquet")
    lines.with_columns(pl.Series(column, values, dtype)).write_parquet(
        folder / "claim_lines.parquet"
    )
    return folder


@pytest.mark.parametrize(
    ("column", "values", "dtype"),
    [
        ("quantity", [Decimal("1.9"), Decimal("10.5")], pl.Decimal(10, 1)),
        ("price_fen", [Decimal("500000.99"), Decimal("2000.50")], pl.Decimal(20, 2)),
    ],
)
def test_a_fractional_decimal_column_is_refused_not_truncated(
    tmp_path, capsys, column, values, dtype
):
    # the cast cut 1.9 to 1 and 500000.99 fen to 500000, and the batch paid 3,840.00 on a
    # claim of 9,710.00 without a word
    folder = _tables(tmp_path / "decimal", column, values, dtype)
    code, err = _exit_of(capsys, folder, tmp_path / "o.parquet")
    assert code == 2 and "claim_lines.parquet: " in err
    assert f"{column}: must be an integer column" in err and f"not {dtype}" in err
    assert not (tmp_path / "o.parquet").exists()


def test_a_whole_decimal_column_is_read_as_integers(tmp_path):
    folder = _tables(tmp_path / "whole", "quantity", [Decimal(1), Decimal(10)], pl.Decimal(10, 0))
    out = tmp_path / "o.parquet"
    summary = run_batch(folder, out, verify=1, progress=None)
    assert summary.all_settled and summary.differences == []
    # 5000 × 1 + 20 × 10: nothing lost
    assert pl.read_parquet(out).get_column("medfee_sumamt_fen").to_list() == [520000]


def test_a_nan_ratio_in_a_table_is_refused_with_a_readable_reason():
    files = [_file([_visit("O1", "20")])]
    persons, lines = frames(files)
    lines = lines.with_columns(category=pl.lit("B"), selfpay_ratio=pl.lit("NaN"))
    result = assert_same(persons, lines)
    reason = "claim O1 line_no 1: selfpay_ratio: must be a finite number"
    assert result.errors == [("TL-1", reason)]


def test_a_nan_in_a_jsonl_is_a_one_line_refusal(tmp_path, capsys):
    line = item("20", "B", selfpay_ratio="NaN")
    path = _jsonl(tmp_path / "nan", [_file([claim("O1", "2021-03-10", "11", items=[line])])])
    code, err = _exit_of(capsys, path.parent, tmp_path / "o.parquet")
    assert code == 2
    reason = "claims[0].items[0].selfpay_ratio: must be a finite number"
    assert err.strip() == f"error: {path}: line 1: {reason}"


def test_a_quantity_beyond_the_tables_int32_is_refused_by_line(tmp_path, capsys):
    # `yibao settle` settles it (0.01 × 3,000,000,000); the batch refused the whole file with
    # a polars message about its builder
    first = _file([_visit("O1", "10")])
    big = _file(
        [claim("O1", "2021-03-10", "11", items=[item("0.01", quantity=3_000_000_000)])],
        {**RESIDENT, "id": "TL-BIGQ"},
    )
    path = _jsonl(tmp_path / "bigq", [first, big])
    code, err = _exit_of(capsys, path.parent, tmp_path / "o.parquet")
    assert code == 2
    assert "line 2: claims[0].items[0].quantity: the batch tables have no column for it" in err
    assert "yibao settle" in err


@pytest.mark.parametrize("column", ["diagnoses", "disease"])
def test_a_control_character_in_a_code_goes_to_the_engine_which_refuses_it(column):
    # "X\x1fE11.9" matched diabetes in the batch (its codes are joined with \x1f) and paid
    # the chronic benefit; no code starts with E11 in the engine
    chronic = claim("M1", "2021-03-10", "14", level=1, items=[item("1000")], diagnoses=["E11.9"])
    persons, lines = frames([_file([chronic])])
    bad = {
        "diagnoses": pl.lit(["X\x1fE11.9"], dtype=pl.List(pl.String)),
        "disease": pl.lit("X\x1fE11"),
    }
    lines = lines.with_columns(bad[column].alias(column))
    result = assert_same(persons, lines)
    where = "diagnoses[0]" if column == "diagnoses" else "disease"
    assert result.errors == [("TL-1", f"claim M1: {where}: holds a control character")]


def test_a_person_on_two_lines_of_a_jsonl_is_refused_naming_the_lines(tmp_path, capsys):
    # each line was a history of its own in `yibao settle` (350.00 against a 300 cap); the
    # batch named a persons table the user never wrote
    twice = [_file([_visit("O1", "500")]), _file([_visit("O2", "200", "2021-03-11")])]
    path = _jsonl(tmp_path / "twice", twice)
    code, err = _exit_of(capsys, path.parent, tmp_path / "o.parquet")
    assert code == 2
    assert err.strip() == (
        f"error: {path}: person TL-1 is on lines 1 and 2: one line per person, their claims "
        "settle as one history"
    )


def test_a_disease_code_is_matched_by_equality_not_as_an_icd_prefix():
    # "child_cerebral_palsy" upper-cased begins with C, the 恶性肿瘤 prefix: both engines paid
    # a claim whose named disease the person no longer fits as cancer (QA, by hand: 0.00)
    adult = {**person("employee", employment="in_service", birth_date="2004-11-20"), "id": "E1"}
    visit = claim("M1", "2022-11-20", "14", level=2, items=[item("3000")], diagnoses=["G80.0"])
    files = [
        {
            "region": "erenhot",
            "person": adult,
            "claims": [visit | {"disease": "child_cerebral_palsy"}],
        }
    ]
    persons, lines = frames(files)
    result = assert_same(persons, lines)
    assert result.rows.get_column("hifp_pay_fen").to_list() == [0]


def _two_persons(claims: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """TL-1 with `claims`, and TL-2 with one visit (who settles whatever TL-1's rows hold)."""
    other = {**RESIDENT, "id": "TL-2"}
    return frames([_file(claims), _file([_visit("O1", "80")], other)])


def _ordered(lines: pl.DataFrame, order: str) -> pl.DataFrame:
    """The lines sorted by person, claim and line_no (the batch numbers the runs), or not."""
    if order == "sorted":
        return lines.sort("person_id", "claim_id", "line_no", nulls_last=True)
    return lines.reverse()


def _stay(claim_id: str = "C1", day: str = "2021-03-10") -> dict:
    items = [item("300", code="S008"), item("20", code="S011", quantity=10), item("45")]
    return claim(
        claim_id,
        day,
        "21",
        level=2,
        admit_date="2021-03-01",
        discharge_date=day,
        diagnoses=["I63.9"],
        items=items,
    )


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
@pytest.mark.parametrize("unnumbered", [[0, 1, 2], [1]])
def test_a_null_line_no_refuses_the_person_naming_the_claim(order, unnumbered):
    # all null: sorted, the batch failed on its own claim key ("gather indices are out of
    # bounds"); in any other order the claim vanished, "settled 1,506 claims" and exit 0.
    # One null among numbered lines went unseen
    persons, lines = _two_persons([_stay()])
    row = pl.int_range(pl.len())
    null_no = pl.when((pl.col("person_id") == "TL-1") & row.is_in(unnumbered))
    lines = _ordered(
        lines.with_columns(null_no.then(None).otherwise("line_no").alias("line_no")), order
    )
    result = assert_same(persons, lines)
    assert result.errors == [("TL-1", f"claim C1: line_no: {UNNUMBERED}")]
    assert result.rows.get_column("person_id").to_list() == ["TL-2"]


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
@pytest.mark.parametrize(
    ("second", "field"),
    [
        (
            claim("C2", "2021-06-05", "41", level=3, items=[item("120")], diagnoses=["I63.9"]),
            "date",
        ),
        (
            _visit("C2", "120", "2021-03-10") | {"hospital_level": 2, "diagnoses": ["I63.9"]},
            "med_type",
        ),
        (_stay("C2") | {"institution": "H150502"}, "institution"),
    ],
)
def test_two_claims_under_one_claim_id_are_refused_naming_the_field(order, second, field):
    # a stay and a pharmacy purchase of another date, both C1, were settled as one stay (fund
    # 0.00 instead of 18,324.54 in QA's data), --verify equal: both engines merged them
    persons, lines = _two_persons([_stay(), second])
    lines = _ordered(lines.with_columns(pl.col("claim_id").replace("C2", "C1")), order)
    result = assert_same(persons, lines)
    ((pid, why),) = result.errors
    assert pid == "TL-1" and why.startswith(f"claim C1: {field}: its lines disagree (")
    assert "two claims under one claim_id?" in why
    assert result.rows.get_column("person_id").to_list() == ["TL-2"]


def test_a_claim_whose_lines_agree_is_settled_whatever_their_diagnoses():
    # the diagnoses are not compared (a list on every line): the first line's are the claim's
    persons, lines = _two_persons([_stay()])
    other_dx = pl.when(pl.col("line_no") == 3).then(pl.lit(["J18.9"])).otherwise("diagnoses")
    lines = lines.with_columns(other_dx.alias("diagnoses"))
    result = assert_same(persons, lines)
    assert result.errors == [] and result.rows.height == 2


def test_batch_exits_1_naming_a_shared_claim_id(tmp_path, capsys):
    persons, lines = _two_persons([_stay(), _stay("C2", "2021-05-20")])
    folder = tmp_path / "shared"
    folder.mkdir()
    persons.write_parquet(folder / "persons.parquet")
    lines.with_columns(pl.col("claim_id").replace("C2", "C1")).write_parquet(
        folder / "claim_lines.parquet"
    )
    code, err = _exit_of(capsys, folder, tmp_path / "o.parquet")
    assert code == 1
    assert "TL-1: claim C1: date: its lines disagree (2021-03-10 on line_no 1, 2021-05-20" in err
