"""A settlement over HTTP, as a hospital's system would make it (`make run`).

Creates a temporary SQLite database, loads the demo data (institutions, keys, persons),
starts `yibao serve` on a free loopback port, and as the 二连浩特 city hospital sends
1101 (person information), 2207 (outpatient settlement), the same 2207 again (an idempotent
replay: the first answer comes back) and 2208 (reversal), printing each answer. The server
is always stopped at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from yibao.cli.serve_process import ServerFailed, running_server
from yibao.service.demo import load_demo
from yibao.store.db import Database
from yibao.store.migrate import upgrade

# Catalogue codes (the sample catalogue gives each line its 甲/乙/丙 class and 乙类 ratio).
CLAIM = {
    "id": "MZ20230301001",
    "date": "2023-03-01",
    "med_type": "11",
    "hospital_level": 3,
    "diagnoses": ["I10"],
    "items": [
        {"code": "S001", "name": "普通门诊诊查费", "price": "20.00"},
        {"code": "XC08CAA001", "name": "硝苯地平缓释片", "price": "12.50", "quantity": 10},
        {"code": "XC10AAA005", "name": "阿托伐他汀钙片", "price": "45.60", "quantity": 2},
        {"code": "S006", "name": "计算机断层扫描(CT)", "price": "411.00"},
        {"code": "S007", "name": "磁共振成像(MRI)", "price": "680.00"},
        {"code": "C002", "name": "保健按摩", "price": "80.00"},
    ],
}


class Hospital:
    """One institution's connection: every message is an envelope with its own msgid."""

    def __init__(self, client: httpx.Client, code: str) -> None:
        self.client, self.code, self.sent = client, code, 0

    def envelope(self, infno: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.sent += 1
        now = dt.datetime.now()
        return {
            "infno": infno,
            "msgid": f"{self.code}{now:%Y%m%d%H%M%S}{self.sent:04d}",
            "fixmedins_code": self.code,
            "inf_time": f"{now:%Y-%m-%d %H:%M:%S}",
            "input": payload,
        }

    def post(self, envelope: dict[str, Any], quiet: bool = False) -> dict[str, Any]:
        if not quiet:
            print(
                f"\n→ POST /api/transactions  infno {envelope['infno']}  msgid {envelope['msgid']}"
            )
        response = self.client.post("/api/transactions", json=envelope)
        body = json.loads(response.text, parse_float=Decimal)  # amounts exact, as sent
        if response.status_code != 200 or body.get("infcode") != 0:
            raise SystemExit(f"error: HTTP {response.status_code}: {body}")
        if not quiet:
            show(body["output"])
        return body["output"]


def show(value: Any, indent: str = "  ") -> None:
    """Answers as aligned `field  value` lines; lists of records one record per line."""
    if isinstance(value, dict):
        width = max((len(k) for k in value), default=0)
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                print(f"{indent}{key}:")
                show(item, indent + "  ")
            elif item not in (None, "", [], {}):
                print(f"{indent}{key:<{width}}  {item}")
    elif isinstance(value, list):
        for record in value:
            if isinstance(record, dict):
                print(indent + "  ".join(f"{k}={v}" for k, v in record.items() if v is not None))
            else:
                print(f"{indent}{record}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="yibao-demo-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        upgrade(url)
        db = Database(url)
        loaded = load_demo(db, persons=300, seed=1)
        db.dispose()
        keys = dict(loaded.keys)
        hospital = next(i for i in loaded.institutions if i.region == "erenhot" and i.level == 3)
        person = next(
            p
            for p in loaded.persons
            if p.region == "erenhot" and p.employment == "in_service" and p.balance_fen > 0
        )
        print(
            f"demo database: {len(loaded.persons)} persons, {len(loaded.institutions)} "
            f"institutions; calling as {hospital.code} {hospital.name}, "
            f"patient {person.id} ({person.name})"
        )
        with (
            running_server(url) as base,
            httpx.Client(
                base_url=base, headers={"X-API-Key": keys[hospital.code]}, timeout=30
            ) as client,
        ):
            print(f"yibao serve is answering at {base}")
            clerk = Hospital(client, hospital.code)
            clerk.post(clerk.envelope("1101", {"psn_no": person.id}))
            settle = clerk.envelope("2207", {"psn_no": person.id, "claim": CLAIM})
            settled = clerk.post(settle)
            replayed = clerk.post(settle, quiet=True)
            print(
                f"\n→ the same 2207 sent again (msgid {settle['msgid']}): "
                + ("the first answer, unchanged" if replayed == settled else "A DIFFERENT ANSWER")
            )
            setl_id = settled["setlinfo"]["setl_id"]
            clerk.post(clerk.envelope("2208", {"psn_no": person.id, "setl_id": setl_id}))
            if replayed != settled:
                raise SystemExit("error: an idempotent replay changed its answer")
        print("\nserver stopped")


if __name__ == "__main__":
    try:
        main()
    except ServerFailed as exc:
        sys.exit(f"error: {exc}")
