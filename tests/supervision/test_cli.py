"""`run_supervise` behind a typer command shaped like the one `cli/main.py` registers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from typer.testing import CliRunner

from tests.supervision.cases import claim_file, item, stay, visit
from yibao.cli.main import Format, OneLineErrors
from yibao.cli.supervise_cmd import run_supervise

app = typer.Typer()


@app.command(cls=OneLineErrors)
def supervise(
    files: Annotated[list[str], typer.Argument()],
    fmt: Annotated[Format, typer.Option("--format")] = Format.json,
) -> None:
    run_supervise(files, fmt.value)


runner = CliRunner()


def _write(tmp_path: Path, name: str, *files: dict) -> str:
    path = tmp_path / name
    if name.endswith(".jsonl"):
        path.write_text("\n".join(json.dumps(f) for f in files) + "\n", "utf-8")
    else:
        path.write_text(json.dumps(files[0]), "utf-8")
    return str(path)


def _fraud() -> dict:
    return claim_file(
        [
            stay("C1", "2023-03-01", "2023-03-10"),
            stay("C2", "2023-03-20", "2023-03-25"),
            visit("C3", "2023-05-01", [item("G001", "45")], med_type="41"),
        ]
    )


def test_json_output(tmp_path: Path) -> None:
    result = runner.invoke(app, [_write(tmp_path, "a.json", _fraud())])
    assert result.exit_code == 0, result.output
    flags = json.loads(result.stdout)["flags"]
    assert [f["rule"] for f in flags] == ["pharmacy_non_medical", "split_hospitalization"]
    for f in flags:
        assert {"rule", "person_id", "claim_ids", "evidence", "basis", "severity"} <= set(f)
        assert {"measure", "value", "threshold"} <= set(f["evidence"])
        assert isinstance(f["amount_at_risk_fen"], int) and f["lines"]


def test_text_output_and_several_files(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.json", _fraud())
    other = claim_file([visit("C1", "2023-05-01", [item("S001", "25")])], pid="P2")
    b = _write(tmp_path, "b.jsonl", other, _fraud() | {"person": _fraud()["person"] | {"id": "P3"}})
    result = runner.invoke(app, [a, b, "--format", "text"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("4 flag(s)")
    assert "split_hospitalization 分解住院" in result.stdout
    assert "days_from_discharge_to_readmission = 10 <= 15" in result.stdout


def test_no_flags(tmp_path: Path) -> None:
    clean = claim_file([visit("C1", "2023-05-01", [item("S001", "25")])])
    result = runner.invoke(app, [_write(tmp_path, "a.json", clean)])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"flags": [], "institution_flags": []}


def test_bad_input_one_line_exit_2(tmp_path: Path) -> None:
    bad = _fraud()
    bad["claims"][1]["items"][0]["price"] = "-1"
    result = runner.invoke(app, [_write(tmp_path, "a.json", bad)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == "error: claims[1].items[0].price: must be >= 0"


def test_bad_line_of_second_file_names_file_and_line(tmp_path: Path) -> None:
    good = _write(tmp_path, "a.json", _fraud())
    bad = _fraud() | {"region": "atlantis"}
    b = _write(tmp_path, "b.jsonl", _fraud(), bad)
    result = runner.invoke(app, [good, b])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: {b}: line 2: region: unknown region 'atlantis'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, [str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and result.stdout == ""
    assert "cannot read" in result.stderr


def test_out_writes_person_and_institution_tables(tmp_path: Path) -> None:
    import polars as pl

    from yibao.supervision.common import FLAG_SCHEMA

    out = tmp_path / "flags.parquet"
    run_supervise([_write(tmp_path, "a.json", _fraud())], out=str(out))
    assert pl.read_parquet(out)["rule"].to_list() == [
        "pharmacy_non_medical",
        "split_hospitalization",
    ]
    institutions = pl.read_parquet(tmp_path / "flags.institutions.parquet")
    assert institutions.height == 0 and dict(institutions.schema) == FLAG_SCHEMA


def test_text_of_an_institution_flag() -> None:
    from yibao.cli.supervise_cmd import render_text

    flag = {
        "rule": "institution_outlier", "name_zh": "机构指标异常", "name_en": "institution",
        "severity": "medium", "person_id": None, "institution": "H37020010005",
        "claim_ids": [], "lines": [], "basis": "assumed (G-ALL-6)", "amount_at_risk_fen": 100,
        "evidence": {"measure": "robust_z_score_sum", "value": 9.5, "threshold": 6,
                     "comparison": ">="},
    }  # fmt: skip
    text = render_text([flag])
    assert "institution-level flag  institution H37020010005  claims -" in text
    assert "robust_z_score_sum = 9.5 >= 6" in text and "lines: -" in text
