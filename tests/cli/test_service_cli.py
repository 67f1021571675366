"""Online-service commands as an operator runs them: keys, migrations, demo data, errors."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import inspect, select

from tests.cli.conftest import run
from yibao.service.demo import demo_persons
from yibao.service.institutions import authenticate
from yibao.store.db import Database
from yibao.store.models import Account, Person, PersonCategory


def key_works(url: str, key: str):
    db = Database(url)
    try:
        return authenticate(db, key)
    finally:
        db.dispose()


def test_institution_add_prints_a_working_key_alone_on_the_last_line(url):
    done = run(
        "institution", "add", "H001", "--name", "二连浩特市医院", "--level", "3",
        "--kind", "hospital", "--region", "erenhot", "--database-url", url,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    key = done.stdout.splitlines()[-1]
    assert key.startswith("yb_") and " " not in key
    who = key_works(url, key)
    assert who is not None and (who.role, who.institution_code) == ("institution", "H001")


@pytest.mark.parametrize("role", ["bureau", "auditor"])
def test_user_add_prints_a_working_key_alone_on_the_last_line(url, role):
    done = run("user", "add", "clerk-wang", "--role", role, "--database-url", url)
    assert done.exit_code == 0, done.output
    who = key_works(url, done.stdout.splitlines()[-1])
    assert who is not None and (who.name, who.role) == ("clerk-wang", role)


def test_db_upgrade_creates_the_schema_and_is_safe_to_repeat(tmp_path, monkeypatch):
    path = tmp_path / "fresh.db"
    for _ in range(2):
        done = run("db", "upgrade", env={"YIBAO_DATABASE_URL": f"sqlite:///{path}"})
        assert done.exit_code == 0, done.output
    db = Database(f"sqlite:///{path}")
    tables = set(inspect(db.engine).get_table_names())
    db.dispose()
    assert {"alembic_version", "persons", "settlements", "credentials"} <= tables
    monkeypatch.chdir(tmp_path)  # no URL anywhere: yibao.db in the working directory
    assert run("db", "upgrade").exit_code == 0 and (tmp_path / "yibao.db").exists()


def test_a_database_migrated_by_a_newer_release_is_one_line(tmp_path):
    # QA: rolled back to an older release, `db upgrade` and `serve` printed Alembic's traceback
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    assert run("db", "upgrade", "--database-url", url).exit_code == 0
    db = Database(url)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    db.dispose()
    done = run("db", "upgrade", "--database-url", url)
    assert done.exit_code == 1 and "Traceback" not in done.output
    assert done.stderr.count("\n") == 1
    assert "'9999'" in done.stderr and "migrated by another yibao release" in done.stderr


def test_demo_load_prints_code_key_lines_that_authenticate(url):
    done = run("demo-load", "--persons", "40", "--seed", "3", "--database-url", url)
    assert done.exit_code == 0, done.output
    lines = [line.split() for line in done.stdout.splitlines()]
    assert len(lines) == 21 and all(len(parts) == 2 for parts in lines)  # 5 × 4 + bureau
    codes = {code for code, _ in lines}
    assert {"H15250100001", "P37020200001", "demo-bureau"} <= codes
    roles = {code: key_works(url, key).role for code, key in lines}
    assert roles["demo-bureau"] == "bureau" and roles["H15250100001"] == "institution"
    assert "40 persons" in done.stderr


def _persons(url: str) -> list[tuple]:
    db = Database(url)
    with db.sessions() as s:
        rows = [
            (p.id, p.region, p.scheme, p.employment, p.birth_date, p.sex, p.certno, p.name)
            + (tuple(p.flags), tuple(p.products))
            for p in s.scalars(select(Person).order_by(Person.id))
        ]
        categories = s.execute(
            select(PersonCategory.person_id, PersonCategory.category).order_by(
                PersonCategory.person_id, PersonCategory.category
            )
        ).all()
        balances = s.execute(select(Account.person_id, Account.balance)).all()
    db.dispose()
    return [rows, sorted(categories), sorted(balances)]


def test_demo_load_is_deterministic_for_a_seed(tmp_path):
    urls = [f"sqlite:///{tmp_path / f'demo{i}.db'}" for i in range(2)]
    for u in urls:
        assert (
            run("demo-load", "--persons", "300", "--seed", "7", "--database-url", u).exit_code == 0
        )
    first, second = _persons(urls[0]), _persons(urls[1])
    assert first == second and len(first[0]) == 300
    assert demo_persons(300, 7) == demo_persons(300, 7) != demo_persons(300, 8)


def test_demo_persons_are_plausible():
    from yibao.service.identity import certno_problem

    people = demo_persons(2000, 1)
    assert {p.region for p in people} == {"tongliao", "qingdao", "fuxin", "erenhot", "liaoyang"}
    schemes = {(p.region, p.scheme) for p in people}
    assert schemes == {
        ("tongliao", "resident"),
        ("fuxin", "resident"),
        ("erenhot", "employee"),
        ("liaoyang", "employee"),
        ("qingdao", "employee"),
        ("qingdao", "resident"),
    }
    assert all(certno_problem(p.certno) is None for p in people)
    assert len({p.certno for p in people}) == len({p.id for p in people}) == 2000
    with_category = sum(bool(p.categories) for p in people)
    assert 0 < with_category < 0.15 * len(people)  # special populations are a minority
    assert all(p.balance_fen == 0 for p in people if p.scheme == "resident")
    assert sum(p.balance_fen > 0 for p in people) > 0.3 * sum(
        p.scheme == "employee" for p in people
    )
    assert all(p.employment is None for p in people if p.scheme == "resident")
    # asking for more persons adds persons; it does not change the first ones
    assert dataclasses.asdict(people[0]) == dataclasses.asdict(demo_persons(1, 1)[0])


def test_demo_load_refuses_a_database_that_has_it_already(url):
    assert run("demo-load", "--persons", "5", "--database-url", url).exit_code == 0
    again = run("demo-load", "--persons", "5", "--database-url", url)
    assert again.exit_code == 2 and again.stdout == ""
    assert (
        again.stderr.strip() == "error: demo data already loaded (institution H15050200001 exists)"
    )


ADD = ["institution", "add", "H9", "--name", "x"]


A_HOSPITAL = ["--name", "X", "--level", "1", "--kind", "hospital", "--region", "erenhot"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (ADD + ["--level", "4", "--kind", "hospital", "--region", "erenhot"], "'--level'"),
        (ADD + ["--level", "one", "--kind", "hospital", "--region", "erenhot"], "'--level'"),
        (ADD + ["--level", "2", "--kind", "clinic", "--region", "erenhot"], "'--kind'"),
        (ADD + ["--level", "2", "--kind", "hospital", "--region", "atlantis"], "atlantis"),
        (["institution", "add", "H9", "--level", "2", "--kind", "hospital"], "--name"),
        (["user", "add", "wang", "--role", "king"], "'--role'"),
        (["institution", "add", "", *A_HOSPITAL], "code: '' is not a 定点机构编号"),
        (["institution", "add", "H" * 31, *A_HOSPITAL], "is not a 定点机构编号"),
        (["user", "add", "", "--role", "bureau"], "name: '' must be"),
        (["demo-load", "--persons", "-5"], "'--persons'"),
        (["serve", "--port", "70000"], "'--port'"),
        (["serve", "--port", "0"], "'--port'"),
        (["serve", "--workers", "0"], "'--workers'"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(url, args, message):
    done = run(*args, "--database-url", url)
    assert done.exit_code == 2, done.output
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: ") and message in done.stderr


def test_a_code_registered_twice_is_refused(url):
    args = ["--level", "1", "--kind", "pharmacy", "--region", "qingdao", "--database-url", url]
    assert run("institution", "add", "P1", "--name", "大药房", *args).exit_code == 0
    again = run("institution", "add", "P1", "--name", "大药房", *args)
    assert again.exit_code == 2 and again.stderr.strip() == "error: institution P1 already exists"


def test_a_user_name_taken_twice_is_refused(url):
    # the audit log and msgid ownership know a caller by name: two keys of one name could
    # not be told apart
    assert run("user", "add", "wang", "--role", "bureau", "--database-url", url).exit_code == 0
    again = run("user", "add", "wang", "--role", "auditor", "--database-url", url)
    assert again.exit_code == 2
    assert again.stderr.strip() == "error: a key named wang already exists (role bureau)"


def test_an_unreachable_database_is_one_line_and_exit_1():
    done = run("db", "upgrade", "--database-url", "postgresql://nobody@127.0.0.1:9/none")
    assert done.exit_code == 1 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "127.0.0.1:9" in done.stderr


def test_serve_migrates_and_answers_http(tmp_path):
    pytest.importorskip("yibao.api.app", reason="the HTTP API is not in this tree yet")
    import urllib.request

    from yibao.cli.serve_process import running_server

    url = f"sqlite:///{tmp_path / 'served.db'}"
    with running_server(url) as base, urllib.request.urlopen(base + "/openapi.json") as answer:
        assert answer.status == 200
        assert "/api/transactions" in answer.read().decode("utf-8")
    db = Database(url)
    assert "settlements" in inspect(db.engine).get_table_names()  # serve ran the migrations
    db.dispose()


def test_several_workers_answer_small_requests_without_a_delayed_ack(tmp_path):
    """Without TCP_NODELAY on the listening sockets each answer waits ~40 ms for a delayed ACK."""
    pytest.importorskip("yibao.api.app", reason="the HTTP API is not in this tree yet")
    import http.client
    import statistics
    import time

    from yibao.cli.serve_process import running_server

    with running_server(f"sqlite:///{tmp_path / 'workers.db'}", workers=2) as base:
        conn = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=10)
        took = []
        for _ in range(21):
            start = time.perf_counter()
            conn.request("GET", "/openapi.json")
            conn.getresponse().read()
            took.append(time.perf_counter() - start)
        conn.close()
    assert statistics.median(took) < 0.030
