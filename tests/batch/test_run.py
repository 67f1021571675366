"""`yibao batch`: partitions, Parquet output, --verify, overlays and the command's exits; the
output never replaces an input table nor is left half-written; what was not settled."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
import typer

from tests.batch.population import claim_files, population
from yibao.batch.output import RESULT_SCHEMA
from yibao.batch.run import Tables, run_batch, verify_sample
from yibao.batch.settle import Settler
from yibao.cli.batch_cmd import run_batch_cmd

REFORM = """
region: tongliao
name: deductible 800 at city level
changes:
  schemes:
    resident:
      pooling:
        benefits:
          - id: inpatient
            deductible:
              amount:
                by_level: {3: 800}
"""


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tables")
    persons, lines = population(["tongliao", "qingdao", "liaoyang"], 60, seed=5)
    persons.write_parquet(folder / "persons.parquet")
    lines.write_parquet(folder / "claim_lines.parquet")
    return folder


def test_partitions_write_one_row_per_claim_and_verify(tables, tmp_path):
    out = tmp_path / "out.parquet"
    summary = run_batch(tables, out, verify=40, partitions=3, progress=None)
    result = pl.read_parquet(out)
    assert result.schema == pl.Schema(RESULT_SCHEMA)
    lines = pl.read_parquet(tables / "claim_lines.parquet")
    assert result.height == lines.select("person_id", "claim_id").n_unique() == summary.claims
    assert summary.verified == 40 and summary.differences == []
    assert summary.columnar_claims == summary.claims
    single = tmp_path / "single.parquet"
    run_batch(tables, single, partitions=1, progress=None)
    key = ["person_id", "setl_date", "claim_id"]
    assert pl.read_parquet(single).sort(key).equals(result.sort(key))


def test_verify_finds_a_single_fen(tables, tmp_path):
    out = tmp_path / "out.parquet"
    run_batch(tables, out, progress=None)
    result = pl.read_parquet(out)
    first = result.row(0, named=True)
    tampered = result.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.col("hifp_pay_fen") + 1)
        .otherwise(pl.col("hifp_pay_fen"))
        .alias("hifp_pay_fen")
    )
    tampered.write_parquet(out)
    persons = pl.read_parquet(tables / "persons.parquet").height
    verified, differences, _ = verify_sample(Tables(tables), out, persons, 0, ())
    assert verified == persons
    assert [(d.person_id, d.claim_id, d.field) for d in differences] == [
        (first["person_id"], first["claim_id"], "hifp_pay_fen")
    ]
    assert differences[0].batch == differences[0].engine + 1


def test_the_command_exits_1_on_a_difference(tables, tmp_path, monkeypatch, capsys):
    settle = Settler.settle

    def off_by_one_fen(self, persons, lines):
        result = settle(self, persons, lines)
        result.rows = result.rows.with_columns(pl.col("balc_fen") + 1)
        return result

    monkeypatch.setattr(Settler, "settle", off_by_one_fen)
    code, err = _exit_of(capsys, str(tables), str(tmp_path / "out.parquet"), verify=3)
    assert code == 1
    assert "balc_fen: batch" in err


def test_the_command_reports_the_plan(tables, tmp_path, capsys):
    run_batch_cmd(str(tables), str(tmp_path / "out.parquet"), verify=5, explain_plan=True)
    err = capsys.readouterr().err
    assert "tongliao/2017-01-01 resident: columnar — buckets, basic_pooling" in err
    assert "equal to the fen" in err and "claims/s" in err


def test_overlay_settles_like_settle_with_the_overlay(tables, tmp_path):
    overlay = tmp_path / "reform.yaml"
    overlay.write_text(REFORM, "utf-8")
    base, reformed = tmp_path / "base.parquet", tmp_path / "reformed.parquet"
    run_batch(tables, base, progress=None)
    summary = run_batch(tables, reformed, (overlay,), verify=60, progress=None)
    assert summary.differences == []
    changed = (
        pl.read_parquet(base)["act_pay_dedc_fen"] != pl.read_parquet(reformed)["act_pay_dedc_fen"]
    )
    assert changed.any()


def _jsonl_folder(tmp_path: Path, persons: int, seed: int) -> tuple[Path, list]:
    """A folder holding `claims.jsonl` of Fuxin claim files, and the claim files."""
    folder = tmp_path / "jsonl"
    folder.mkdir()
    files = claim_files("fuxin", persons, seed=seed)
    text = "\n".join(json.dumps(f.model_dump(mode="json", exclude_none=True)) for f in files)
    (folder / "claims.jsonl").write_text(text, "utf-8")
    return folder, files


def test_claims_jsonl_directory(tmp_path):
    folder, files = _jsonl_folder(tmp_path, 10, seed=2)
    summary = run_batch(folder, tmp_path / "out.parquet", verify=10, progress=None)
    assert summary.differences == [] and summary.claims == sum(len(f.claims) for f in files)


def test_bad_engine_and_missing_tables_exit_2(tmp_path, capsys):
    code, _ = _exit_of(capsys, str(tmp_path), str(tmp_path / "o.parquet"), engine="spark")
    assert code == 2
    code, err = _exit_of(capsys, str(tmp_path), str(tmp_path / "o.parquet"))
    assert code == 2
    assert "needs persons.parquet" in err


def test_a_bad_overlay_exits_2(tables, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(REFORM.replace("by_level: {3: 800}", "by_level: {3: -1}"), "utf-8")
    code, err = _exit_of(capsys, str(tables), str(tmp_path / "o.parquet"), overlays=(bad,))
    assert code == 2
    assert "must be >= 0" in err


def _exit_of(capsys, *args, **kwargs) -> tuple[int, str]:
    """The exit code of the command (`run_batch_cmd` with these arguments) and its stderr."""
    with pytest.raises(typer.Exit) as exit_info:
        run_batch_cmd(*args, **kwargs)
    return exit_info.value.exit_code, capsys.readouterr().err


def _partials(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".partial-" in p.name]


@pytest.mark.parametrize("name", ["persons.parquet", "claim_lines.parquet"])
def test_an_out_that_is_an_input_table_exits_2_and_leaves_it(tables, name, capsys):
    before = (tables / name).read_bytes()
    for spelling in (tables / name, tables / ".." / tables.name / name):
        code, err = _exit_of(capsys, str(tables), str(spelling))
        assert code == 2
        assert err.count("\n") == 1 and err.startswith("error: --out")
        assert f"is the input table {tables / name}" in err
    assert (tables / name).read_bytes() == before


def test_an_out_that_is_a_link_to_an_input_table_exits_2(tables, tmp_path, capsys):
    link = tmp_path / "link.parquet"
    link.symlink_to(tables / "claim_lines.parquet")
    code, err = _exit_of(capsys, str(tables), str(link))
    assert code == 2
    assert "is the input table" in err


@pytest.mark.parametrize("stop", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_a_stopped_run_leaves_no_partial_file_and_keeps_the_previous(
    tables, tmp_path, monkeypatch, stop
):
    out = tmp_path / "out.parquet"
    out.write_bytes(b"the previous complete result")
    settle, calls = Settler.settle, []

    def stopped_at_the_second(self, persons, lines):
        calls.append(1)
        if len(calls) == 2:
            raise stop
        return settle(self, persons, lines)

    monkeypatch.setattr(Settler, "settle", stopped_at_the_second)
    with pytest.raises(type(stop)):
        run_batch(tables, out, partitions=3, progress=None)
    assert out.read_bytes() == b"the previous complete result"
    assert _partials(tmp_path) == []


def test_a_completed_run_replaces_the_previous_and_leaves_no_partial(tables, tmp_path):
    out = tmp_path / "out.parquet"
    out.write_bytes(b"the previous result")
    summary = run_batch(tables, out, verify=5, partitions=2, progress=None)
    assert pl.read_parquet(out).height == summary.claims and summary.differences == []
    assert _partials(tmp_path) == [] and summary.all_settled


def _without_one_person(tables: Path, folder: Path) -> tuple[str, int, int]:
    """The tables with the first person's persons row gone, a persons row without an id, and
    two lines without a person_id (one claim): the gone person's id, its claim count, and the
    claims of the persons that remain."""
    persons = pl.read_parquet(tables / "persons.parquet")
    lines = pl.read_parquet(tables / "claim_lines.parquet")
    gone = lines.item(0, "person_id")
    claims = lines.filter(pl.col("person_id") == gone).get_column("claim_id").n_unique()
    no_id = pl.col("person_id").is_null()
    nameless = persons.head(1).with_columns(pl.lit(None, pl.String).alias("person_id"))
    pl.concat([persons.filter(pl.col("person_id") != gone), nameless]).write_parquet(
        folder / "persons.parquet"
    )
    orphan = lines.tail(2).with_columns(pl.lit(None, pl.String).alias("person_id"))
    pl.concat([lines, orphan]).write_parquet(folder / "claim_lines.parquet")
    kept = lines.filter(pl.col("person_id") != gone).select("person_id", "claim_id").n_unique()
    assert not lines.select(no_id.any()).item()
    return gone, claims, kept


@pytest.mark.parametrize("partitions", [1, 3])
def test_lines_of_unknown_persons_and_persons_without_id_are_reported(tables, tmp_path, partitions):
    folder = tmp_path / "tables"
    folder.mkdir()
    gone, claims, kept = _without_one_person(tables, folder)
    out = tmp_path / "out.parquet"
    summary = run_batch(folder, out, partitions=partitions, progress=None)
    assert summary.unknown_persons == {gone: claims, None: 1}
    assert summary.persons_without_id == 1 and not summary.all_settled
    assert pl.read_parquet(out).height == summary.claims == kept
    report = "\n".join(summary.report())
    assert f"not settled: {claims + 1} claims of 2 person_id(s) not in persons.parquet" in report
    assert f"  {gone}: {claims} claims" in report and "  (null person_id): 1 claims" in report
    assert "not settled: 1 persons row(s) with a null person_id" in report


def test_the_command_exits_1_when_a_claim_is_not_settled(tables, tmp_path, capsys):
    folder = tmp_path / "tables"
    folder.mkdir()
    gone, _, kept = _without_one_person(tables, folder)
    out = tmp_path / "out.parquet"
    code, err = _exit_of(capsys, str(folder), str(out))
    assert code == 1
    assert f"  {gone}: " in err
    assert pl.read_parquet(out).height == kept  # every claim that was settled


def test_the_command_exits_1_when_a_person_is_refused(tables, tmp_path, capsys):
    folder = tmp_path / "tables"
    folder.mkdir()
    persons = pl.read_parquet(tables / "persons.parquet")
    refused = persons.item(0, "person_id")
    nowhere = pl.when(pl.col("person_id") == refused).then(pl.lit("atlantis"))
    persons.with_columns(nowhere.otherwise(pl.col("region")).alias("region")).write_parquet(
        folder / "persons.parquet"
    )
    (folder / "claim_lines.parquet").write_bytes((tables / "claim_lines.parquet").read_bytes())
    persons_total = persons.height
    code, err = _exit_of(capsys, str(folder), str(tmp_path / "out.parquet"), verify=persons_total)
    assert code == 1
    assert "not settled: 1 persons (input refused)" in err and f"  {refused}: " in err
    # every person sampled: the refused one is equal in both engines, but nothing was checked
    assert "equal to the fen; 1 of them settled by neither (named above)" in err


def test_a_residents_own_account_balance_is_refused(tables, tmp_path, capsys):
    # only an employee has an own account; a resident's was shown as balc and never drawn
    folder = tmp_path / "tables"
    folder.mkdir()
    persons = pl.read_parquet(tables / "persons.parquet")
    resident = persons.filter(pl.col("scheme") == "resident").item(0, "person_id")
    given = pl.when(pl.col("person_id") == resident).then(10_000).otherwise("account_balance_fen")
    persons.with_columns(given.alias("account_balance_fen")).write_parquet(
        folder / "persons.parquet"
    )
    (folder / "claim_lines.parquet").write_bytes((tables / "claim_lines.parquet").read_bytes())
    code, err = _exit_of(capsys, str(folder), str(tmp_path / "out.parquet"))
    assert code == 1
    assert f"  {resident}: person.account_balance: a resident has no personal account" in err


def test_the_command_exits_0_when_every_claim_is_settled(tables, tmp_path, capsys):
    run_batch_cmd(str(tables), str(tmp_path / "out.parquet"))  # no typer.Exit: exit 0
    assert "not settled" not in capsys.readouterr().err


def test_an_overlay_for_a_region_not_in_the_data_exits_2(tables, tmp_path, capsys):
    overlay = tmp_path / "fuxin.yaml"
    overlay.write_text(REFORM.replace("region: tongliao", "region: fuxin"), "utf-8")
    code, err = _exit_of(capsys, str(tables), str(tmp_path / "o.parquet"), overlays=(overlay,))
    assert code == 2
    assert err.count("\n") == 1 and str(overlay) in err
    assert "'fuxin'" in err and "(regions: liaoyang, qingdao, tongliao)" in err
    assert not (tmp_path / "o.parquet").exists()


def test_partitions_are_capped_at_the_persons_with_lines(tmp_path):
    folder, files = _jsonl_folder(tmp_path, 6, seed=3)
    persons = len({f.person.id for f in files})
    summary = run_batch(folder, tmp_path / "out.parquet", partitions=500, progress=None)
    assert summary.partitions == persons
    assert summary.claims == sum(len(f.claims) for f in files)
    assert f"--partitions 500: {persons} used" in "\n".join(summary.report())


def test_progress_only_when_asked_or_on_a_terminal(tables, tmp_path, capsys):
    run_batch_cmd(str(tables), str(tmp_path / "a.parquet"))  # stderr is not a terminal
    assert "batch [" not in capsys.readouterr().err
    run_batch_cmd(str(tables), str(tmp_path / "b.parquet"), progress=True)
    assert "batch [" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda f: f["person"].update(ytd={"year": 2020, "amounts": {"pool": "5"}}), "person.ytd"),
        (lambda f: f["claims"][0].update(acct_used=False), "claims[0].acct_used"),
        (lambda f: f["claims"][0]["items"][0].update(quantity="2.5"), ".quantity"),
    ],
)
def test_claim_files_holding_what_the_tables_cannot_are_refused(tmp_path, capsys, edit, path):
    # dropped, they settled other numbers than `yibao settle`, and --verify agreed
    folder, files = _jsonl_folder(tmp_path, 3, seed=2)
    raw = [f.model_dump(mode="json", exclude_none=True) for f in files]
    edit(raw[1])
    (folder / "claims.jsonl").write_text("\n".join(json.dumps(f) for f in raw), "utf-8")
    code, err = _exit_of(capsys, str(folder), str(tmp_path / "o.parquet"))
    assert code == 2 and "line 2: " in err and path in err and "yibao settle" in err
    assert not (tmp_path / "o.parquet").exists()


def test_fraud_label_is_optional_and_float_money_is_refused(tables, tmp_path, capsys):
    lines = pl.read_parquet(tables / "claim_lines.parquet")
    for name, changed in (
        ("plain", lines.drop("fraud_label")),
        ("floats", lines.with_columns(pl.col("price_fen") / 100)),  # yuan exported as floats
    ):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(tables / "persons.parquet", folder)
        changed.write_parquet(folder / "claim_lines.parquet")
    summary = run_batch(tmp_path / "plain", tmp_path / "plain.parquet", verify=5, progress=None)
    assert summary.claims and summary.differences == []
    code, err = _exit_of(capsys, str(tmp_path / "floats"), str(tmp_path / "f.parquet"))
    assert code == 2 and "price_fen: must be an integer column (Int64), not Float64" in err


def test_verify_samples_only_persons_that_exist_when_some_lines_have_none(tables, tmp_path):
    lines = pl.read_parquet(tables / "claim_lines.parquet")
    folder = tmp_path / "nulls"
    folder.mkdir()
    shutil.copy(tables / "persons.parquet", folder)
    first = pl.int_range(pl.len()) < 3
    pid = pl.when(first).then(None).otherwise("person_id").alias("person_id")
    nulled = lines.with_columns(pid)
    nulled.write_parquet(folder / "claim_lines.parquet")
    # more than there are: every person with a line is sampled, the null id is not (it crashed)
    summary = run_batch(folder, tmp_path / "o.parquet", verify=10_000, progress=None)
    assert summary.verified == nulled.get_column("person_id").drop_nulls().n_unique()
    assert None in summary.unknown_persons  # the lines without a person are reported
    assert any("lines without a person_id are left out" in line for line in summary.report())
