"""A demo database in one transaction: designated institutions, a bureau key, synthetic persons.

`yibao demo-load`, `scripts/http_demo.py` and `benchmarks/service.py` use it. The persons are
drawn from a seeded generator, so the same seed always gives the same persons (ids, ID
numbers, names, schemes, categories, account balances); only the API keys are new each time.
Rows are inserted in bulk (one INSERT per table), so a few thousand persons take a second or
two instead of one enrollment transaction each.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibao.service import audit
from yibao.service.errors import Conflict, ServiceError
from yibao.service.identity import with_check_digit
from yibao.service.persons import EPOCH
from yibao.service.principal import SYSTEM, Principal, hash_key, new_api_key
from yibao.store.db import Database
from yibao.store.models import (
    Account,
    AccountEntry,
    Credential,
    FamilyBinding,
    Institution,
    Person,
    PersonCategory,
)

BUREAU_USER = "demo-bureau"


@dataclass(frozen=True)
class Region:
    """How the demo populates a region: its schemes, districts and special populations."""

    city: str
    share: float  # of all demo persons
    employee_share: float  # 1.0 employees only, 0.0 residents only
    districts: tuple[tuple[str, str], ...]  # (administrative division code, name)
    category_rates: dict[str, float]  # per person, for the scheme the category belongs to
    products: dict[str, float] = field(default_factory=dict)


# Categories are the ones each region's policy reads; rates are small, as in a real city
# (阜新's policy is the poverty-alleviation programme, so its registered poor are many more).
REGIONS: dict[str, Region] = {
    "tongliao": Region(
        "通辽",
        0.20,
        0.0,
        (("150502", "科尔沁区"), ("150521", "科尔沁左翼中旗"), ("150525", "奈曼旗")),
        {
            "poverty_registered": 0.03,
            "dibao": 0.025,
            "tekun": 0.004,
            "severely_disabled": 0.01,
            "disabled_child": 0.02,  # of children only
        },
    ),
    "qingdao": Region(
        "青岛",
        0.35,
        0.55,
        (
            ("370202", "市南区"),
            ("370203", "市北区"),
            ("370211", "黄岛区"),
            ("370212", "崂山区"),
            ("370214", "城阳区"),
        ),
        {"poverty_registered": 0.005, "dibao": 0.01, "tekun": 0.002, "low_income_marginal": 0.01},
        {"qindao_ebao": 0.35},
    ),
    "fuxin": Region(
        "阜新",
        0.15,
        0.0,
        (("210902", "海州区"), ("210921", "阜新蒙古族自治县"), ("210922", "彰武县")),
        {"poverty_registered": 0.12, "dibao": 0.05, "tekun": 0.01},
    ),
    "erenhot": Region(
        "二连浩特",
        0.15,
        1.0,
        (("152501", "二连浩特市"),),
        {"civil_servant": 0.05},
    ),
    "liaoyang": Region(
        "辽阳",
        0.15,
        1.0,
        (("211002", "白塔区"), ("211003", "文圣区"), ("211081", "灯塔市")),
        {"civil_servant": 0.05},
    ),
}
RESIDENT_CATEGORIES = {
    "poverty_registered",
    "dibao",
    "tekun",
    "severely_disabled",
    "disabled_child",
    "low_income_marginal",
}
# QD-15: the 社区门诊 pilot runs in 崂山、城阳、西海岸新区 (黄岛) for residents who signed up.
COMMUNITY_PILOT_DISTRICTS = {"370211", "370212", "370214"}
FAMILY_MUTUAL_AID = {"erenhot", "qingdao"}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红建国志文淑珍海燕宝力格"


@dataclass(frozen=True)
class DemoInstitution:
    code: str
    name: str
    level: int
    kind: str
    region: str


@dataclass(frozen=True)
class DemoPerson:
    id: str
    region: str
    scheme: str
    employment: str | None
    birth_date: dt.date
    sex: str
    certno: str
    name: str
    categories: tuple[str, ...]
    flags: tuple[str, ...]
    products: tuple[str, ...]
    balance_fen: int
    family_holder: str | None = None
    family_relation: str | None = None


@dataclass
class DemoLoad:
    """What was loaded; `keys` are (institution code or user name, API key) pairs."""

    institutions: list[DemoInstitution]
    persons: list[DemoPerson]
    keys: list[tuple[str, str]]


def demo_institutions() -> list[DemoInstitution]:
    """Per region: a level-3 city hospital, a level-2 district hospital, a level-1 community
    health centre and a pharmacy; codes follow the national H/P + division + number form."""
    out = []
    for region, spec in REGIONS.items():
        division, district = spec.districts[0]
        city = spec.city if spec.city.endswith("市") else spec.city + "市"
        out += [
            DemoInstitution(f"H{division}00001", f"{city}中心医院", 3, "hospital", region),
            DemoInstitution(f"H{division}00002", f"{district}人民医院", 2, "hospital", region),
            DemoInstitution(
                f"H{division}00003", f"{district}社区卫生服务中心", 1, "hospital", region
            ),
            DemoInstitution(f"P{division}00001", f"{city}仁和大药房", 1, "pharmacy", region),
        ]
    return out


def demo_persons(n: int, seed: int, today: dt.date = dt.date(2023, 1, 1)) -> list[DemoPerson]:
    """N synthetic persons over the five regions; the same (n, seed) gives the same list."""
    if n < 0:
        raise ServiceError("persons: must be >= 0")
    rng = random.Random(seed)
    regions = list(REGIONS)
    weights = [REGIONS[r].share for r in regions]
    counters = dict.fromkeys(regions, 0)
    certnos: set[str] = set()
    holders: dict[str, list[DemoPerson]] = {r: [] for r in regions}
    persons = []
    for _ in range(n):
        region = rng.choices(regions, weights)[0]
        spec = REGIONS[region]
        counters[region] += 1
        division, _ = rng.choice(spec.districts)
        employee = rng.random() < spec.employee_share
        employment, age = _employment_and_age(rng, employee)
        sex = rng.choice("MF")
        birth = _birth_date(rng, today, age)
        certno = _certno(rng, division, birth, sex, certnos)
        categories = tuple(
            sorted(
                c
                for c, rate in spec.category_rates.items()
                if (c in RESIDENT_CATEGORIES) != employee
                and (c != "disabled_child" or age < 18)
                and rng.random() < rate
            )
        )
        flags = ()
        if not employee and division in COMMUNITY_PILOT_DISTRICTS and rng.random() < 0.6:
            flags = ("community_contract",)
        products = tuple(p for p, rate in sorted(spec.products.items()) if rng.random() < rate)
        balance = _balance(rng, employment) if employee else 0
        holder = relation = None
        if region in FAMILY_MUTUAL_AID and holders[region] and rng.random() < 0.08:
            holder = rng.choice(holders[region]).id
            relation = rng.choice(["spouse", "parent", "child"])
        person = DemoPerson(
            id=f"{division[:4]}{counters[region]:012d}",
            region=region,
            scheme="employee" if employee else "resident",
            employment=employment,
            birth_date=birth,
            sex=sex,
            certno=certno,
            name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice([1, 2]))),
            categories=categories,
            flags=flags,
            products=products,
            balance_fen=balance,
            family_holder=holder,
            family_relation=relation,
        )
        persons.append(person)
        if employee and balance > 0:
            holders[region].append(person)
    return persons


def _employment_and_age(rng: random.Random, employee: bool) -> tuple[str | None, int]:
    if not employee:
        return None, min(int(rng.triangular(0, 95, 45)), 94)
    kind = rng.choices(["in_service", "retired", "flexible"], [0.64, 0.29, 0.07])[0]
    if kind == "retired":
        return kind, rng.randint(55, 90)
    return kind, rng.randint(20, 59)


def _birth_date(rng: random.Random, today: dt.date, age: int) -> dt.date:
    return dt.date(today.year - age - 1, 1, 1) + dt.timedelta(days=rng.randrange(365))


def _certno(rng: random.Random, division: str, birth: dt.date, sex: str, seen: set[str]) -> str:
    """A valid 18-digit ID number: address, birth date, sequence (odd for men), check."""
    while True:
        sequence = rng.randrange(500) * 2 + (1 if sex == "M" else 0)
        certno = with_check_digit(f"{division}{birth:%Y%m%d}{sequence:03d}")
        if certno not in seen:
            seen.add(certno)
            return certno


def _balance(rng: random.Random, employment: str | None) -> int:
    """Personal-account balance in fen: most employees have some, a long tail have a lot."""
    if rng.random() < 0.15:
        return 0
    scale = {"retired": 250_000, "flexible": 40_000}.get(employment or "", 120_000)
    return min(int(rng.expovariate(1 / scale)), 3_000_000)


def load_demo(
    db: Database, persons: int = 3000, seed: int = 1, who: Principal = SYSTEM
) -> DemoLoad:
    """Insert the demo institutions (with keys), a bureau key and `persons` persons, at once."""
    people = demo_persons(persons, seed)
    insts = demo_institutions()
    keys = [(inst.code, new_api_key()) for inst in insts] + [(BUREAU_USER, new_api_key())]
    try:
        with db.transaction() as session:
            taken = session.scalars(
                select(Institution.code).where(Institution.code.in_([i.code for i in insts]))
            ).first()
            if taken is not None:
                raise Conflict(f"demo data already loaded (institution {taken} exists)")
            session.execute(insert(Institution), [_institution_row(i) for i in insts])
            session.execute(
                insert(Credential),
                [
                    {
                        "name": name,
                        "role": "institution" if name != BUREAU_USER else "bureau",
                        "institution_code": name if name != BUREAU_USER else None,
                        "key_hash": hash_key(key),
                    }
                    for name, key in keys
                ],
            )
            _insert_persons(session, people)
            audit.record(
                session, who, "demo.load", "demo", persons=len(people), seed=seed, keys=len(keys)
            )
    except IntegrityError:
        raise Conflict(
            "demo persons already present: load the demo into a fresh database"
        ) from None
    return DemoLoad(insts, people, keys)


def _institution_row(inst: DemoInstitution) -> dict:
    return {
        "code": inst.code,
        "name": inst.name,
        "level": inst.level,
        "kind": inst.kind,
        "region": inst.region,
        "status": "active",
    }


def _insert_persons(session: Session, people: list[DemoPerson]) -> None:
    if not people:
        return
    session.execute(
        insert(Person),
        [
            {
                "id": p.id,
                "region": p.region,
                "scheme": p.scheme,
                "employment": p.employment,
                "birth_date": p.birth_date,
                "sex": p.sex,
                "certno": p.certno,
                "name": p.name,
                "flags": list(p.flags),
                "products": list(p.products),
            }
            for p in people
        ],
    )
    categories = [
        {"person_id": p.id, "category": c, "valid_from": EPOCH, "valid_to": None}
        for p in people
        for c in p.categories
    ]
    if categories:
        session.execute(insert(PersonCategory), categories)
    session.execute(
        insert(Account), [{"person_id": p.id, "balance": p.balance_fen} for p in people]
    )
    credits = [
        {"person_id": p.id, "amount": p.balance_fen, "kind": "credit", "note": "demo opening"}
        for p in people
        if p.balance_fen
    ]
    if credits:
        session.execute(insert(AccountEntry), credits)
    bindings = [
        {"person_id": p.id, "holder_id": p.family_holder, "relation": p.family_relation}
        for p in people
        if p.family_holder
    ]
    if bindings:
        session.execute(insert(FamilyBinding), bindings)
