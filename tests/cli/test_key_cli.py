"""Key and institution operations at the command line (revoke, rotate, suspend, resume),
names unique across roles and not the command line's, a bad --database-url, the SQLite
file's permissions, and `serve`'s distrust of X-Forwarded-For."""

from __future__ import annotations

import stat

import pytest
from sqlalchemy import select

from tests.cli.conftest import run
from yibao.cli.service_cmd import uvicorn_options
from yibao.service.institutions import authenticate
from yibao.store.db import Database
from yibao.store.models import AuditEntry, Institution


def _add(url: str, code: str = "H001") -> str:
    done = run(
        "institution", "add", code, "--name", "某医院", "--level", "2",
        "--kind", "hospital", "--region", "erenhot", "--database-url", url,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    return done.stdout.splitlines()[-1]


def _look(url: str, query):
    db = Database(url)
    try:
        with db.sessions() as session:
            return query(session)
    finally:
        db.dispose()


def _works(url: str, key: str) -> bool:
    db = Database(url)
    try:
        return authenticate(db, key) is not None
    finally:
        db.dispose()


def _audited(url: str) -> list[tuple[str, str, str]]:
    rows = _look(url, lambda s: s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all())
    return [(row.actor, row.action, row.target) for row in rows]


def test_revoke_then_rotate_a_key(url):
    old = _add(url)
    revoked = run("key", "revoke", "H001", "--database-url", url)
    assert revoked.exit_code == 0, revoked.output
    assert not _works(url, old)
    again = run("key", "revoke", "H001", "--database-url", url)
    assert (again.exit_code, again.stderr) == (
        2,
        "error: the key named H001 is already revoked\n",
    )
    rotated = run("key", "rotate", "H001", "--database-url", url)
    assert rotated.exit_code == 0, rotated.output
    new = rotated.stdout.splitlines()[-1]
    assert new.startswith("yb_") and " " not in new and new != old
    assert _works(url, new) and not _works(url, old)
    assert _audited(url)[-2:] == [("cli", "key.revoke", "H001"), ("cli", "key.rotate", "H001")]


def test_suspend_and_resume_an_institution(url):
    key = _add(url)
    suspended = run("institution", "suspend", "H001", "--database-url", url)
    assert suspended.exit_code == 0, suspended.output
    assert _look(url, lambda s: s.get(Institution, "H001").status) == "suspended"
    assert not _works(url, key)
    twice = run("institution", "suspend", "H001", "--database-url", url)
    assert twice.stderr == "error: institution H001 is already suspended\n"
    assert run("institution", "resume", "H001", "--database-url", url).exit_code == 0
    assert _works(url, key)
    assert _audited(url)[-2:] == [
        ("cli", "institution.suspend", "H001"),
        ("cli", "institution.resume", "H001"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("key", "revoke", "nobody"), "no key named nobody (an institution code or a user name)"),
        (("key", "rotate", "nobody"), "no key named nobody (an institution code or a user name)"),
        (("institution", "suspend", "H404"), "institution H404 is not registered"),
        (("institution", "resume", "H404"), "institution H404 is not registered"),
    ],
)
def test_unknown_names_are_one_line_errors(url, args, message):
    done = run(*args, "--database-url", url)
    assert (done.exit_code, done.stdout, done.stderr) == (2, "", f"error: {message}\n")


@pytest.mark.parametrize("command", ["key", "institution"])
def test_the_new_commands_have_help(command):
    done = run(command, "--help")
    assert done.exit_code == 0
    for word in ("revoke", "rotate") if command == "key" else ("suspend", "resume"):
        assert word in done.stdout


def test_an_institution_code_may_not_be_a_users_key_name(url):
    assert run("user", "add", "aud1", "--role", "auditor", "--database-url", url).exit_code == 0
    done = run(
        "institution", "add", "aud1", "--name", "某诊所", "--level", "1",
        "--kind", "hospital", "--region", "erenhot", "--database-url", url,
    )  # fmt: skip
    assert (done.exit_code, done.stderr) == (
        2,
        "error: a key named aud1 already exists (role auditor)\n",
    )


@pytest.mark.parametrize(
    "args",
    [
        ("user", "add", "system", "--role", "bureau"),
        ("user", "add", "cli", "--role", "auditor"),
        ("user", "add", "CLI", "--role", "bureau"),
        ("institution", "add", "system", "--name", "某诊所", "--level", "1",
         "--kind", "hospital", "--region", "erenhot"),
        ("institution", "add", "Cli", "--name", "某诊所", "--level", "1",
         "--kind", "hospital", "--region", "erenhot"),
    ],
)  # fmt: skip
def test_a_key_may_not_take_a_name_the_command_line_audits_as(url, args):
    done = run(*args, "--database-url", url)
    name = args[2]
    assert (done.exit_code, done.stdout, done.stderr) == (
        2,
        "",
        f"error: {name} is reserved: the audit log names the command line so\n",
    )
    assert _look(url, lambda s: s.scalars(select(AuditEntry)).all()) == []


def test_every_name_the_command_line_audits_as_is_reserved():
    from yibao.cli import service_cmd
    from yibao.crossregion import cli_run as crossregion_cli
    from yibao.ltc import cli_run as ltc_cli
    from yibao.service.institutions import RESERVED_NAMES
    from yibao.service.principal import SYSTEM

    used = {SYSTEM.name, service_cmd.CLI.name, crossregion_cli.CLI.name, ltc_cli.CLI.name}
    assert used <= RESERVED_NAMES


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            "/tmp/x.db",
            "'/tmp/x.db' is not a URL; a SQLite file is sqlite:////tmp/x.db",
        ),
        (
            "postgresql://u:secret@127.0.0.1:54x2/db",
            "cannot be parsed as a URL like postgresql://user:password@host:5432/name"
            " (is the port a number?)",
        ),
        ("postgresql://u:secret@127.0.0.1:99999/db", "port 99999 is not a TCP port (1–65535)"),
    ],
)
def test_a_bad_database_url_is_one_line_and_exit_2(bad, message):
    for args in (("db", "upgrade", "--database-url", bad), ("db", "upgrade")):
        done = run(*args, env={"YIBAO_DATABASE_URL": bad})
        assert done.exit_code == 2 and done.stdout == ""
        assert done.stderr == f"error: --database-url (or YIBAO_DATABASE_URL): {message}\n"
        assert "secret" not in done.stderr


def test_a_new_sqlite_file_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "private.db"
    assert run("db", "upgrade", "--database-url", f"sqlite:///{path}").exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_serve_does_not_trust_x_forwarded_for():
    assert uvicorn_options("127.0.0.1", 8000, True)["proxy_headers"] is False
