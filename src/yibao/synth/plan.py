"""What `yibao synth` reads from a region's policy before generating anything.

The policy decides the schemes persons are insured under, the window of the year in which
claims may fall (the year cut to the policy's validity), which chronic conditions the region
settles as chronic/special-disease outpatient care (med_type 14) and under which disease code,
the opt-in products and person flags its benefits use, and the catalogue items are drawn from.
Bad options fail here with a one-line `InputError`, before anything is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from yibao.catalog.load import load_packaged
from yibao.catalog.model import CatalogEntry
from yibao.errors import InputError
from yibao.policy.loader import PolicyError, load_region
from yibao.policy.schema import PolicyVersion, RegionPolicy, SchemePolicy
from yibao.synth import care

# 行政区划代码 of each packaged region, and of the city where its transfers out are treated
ADMIN_CODES = {
    "tongliao": ("150500", "150100"),
    "qingdao": ("370200", "370100"),
    "fuxin": ("210900", "210100"),
    "erenhot": ("152501", "150100"),
    "liaoyang": ("211000", "210100"),
}
ID_PREFIXES = {"tongliao": "TL", "qingdao": "QD", "fuxin": "FX", "erenhot": "EH", "liaoyang": "LY"}
MAX_PERSONS = 999_999_999  # person ids have 9 digits
YEARS = (1900, 2100)


@dataclass(frozen=True)
class Plan:
    region: str
    year: int
    start: dt.date  # first and last day claims may fall on
    end: dt.date
    persons: int
    schemes: tuple[str, ...]
    catalog: dict[str, CatalogEntry]
    # (scheme, chronic key) → the `disease` code a 14 claim carries; absent: not covered
    chronic_codes: dict[tuple[str, str], str]
    # opt-in products (commercial layer) and person flags (benefit conditions) → their schemes
    products: dict[str, tuple[str, ...]]
    flags: dict[str, tuple[str, ...]]
    admin_code: str
    away_code: str
    institutions: dict[str, int] = field(default_factory=dict)  # pool size per kind

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def exposure(self) -> float:
        """Share of a year inside the window (claim counts scale with it)."""
        year_days = (dt.date(self.year + 1, 1, 1) - dt.date(self.year, 1, 1)).days
        return self.days / year_days

    @property
    def id_prefix(self) -> str:
        return ID_PREFIXES.get(self.region, self.region[:2].upper())


def make_plan(region: str, year: int, persons: int) -> Plan:
    """The generation plan, or an `InputError` naming the bad option."""
    try:
        policy = load_region(region)
    except PolicyError as exc:
        raise InputError(f"region: {exc.reason}") from None
    if not YEARS[0] <= year <= YEARS[1]:
        raise InputError(f"year: must be between {YEARS[0]} and {YEARS[1]}, got {year}")
    if not 1 <= persons <= MAX_PERSONS:
        raise InputError(f"persons: must be between 1 and {MAX_PERSONS:,}, got {persons}")
    start, end = _window(policy, year)
    versions = _versions_between(policy, start, end)
    schemes = set(versions[0].schemes)
    for version in versions[1:]:
        schemes &= set(version.schemes)
    if not schemes:
        raise InputError(
            f"year: {region} changes its schemes during {year}; no scheme runs all year"
        )
    first = versions[0]
    catalog = dict(load_packaged(tuple(first.catalog.files)).entries)
    ordered = tuple(sorted(schemes))
    chronic = {
        (scheme, c.key): code
        for scheme in ordered
        for c in care.CHRONIC
        if (code := _chronic_code(first.schemes[scheme], c.icd)) is not None
    }
    admin, away = ADMIN_CODES.get(region, ("000000", "000001"))
    return Plan(
        region=region,
        year=year,
        start=start,
        end=end,
        persons=persons,
        schemes=ordered,
        catalog=catalog,
        chronic_codes=chronic,
        products=_products(first, ordered),
        flags=_flags(first, ordered),
        admin_code=admin,
        away_code=away,
        institutions={
            "3": max(2, persons // 250_000),
            "2": max(3, persons // 60_000),
            "1": max(10, persons // 3_000),
            "pharmacy": max(10, persons // 2_500),
            "away": 20,
        },
    )


def _window(policy: RegionPolicy, year: int) -> tuple[dt.date, dt.date]:
    first_day, last_day = dt.date(year, 1, 1), dt.date(year, 12, 31)
    begins = policy.versions[0].valid_from
    ends = policy.versions[-1].valid_to
    start = max(first_day, begins)
    end = last_day if ends is None else min(last_day, ends)
    if start > end:
        span = f"from {begins}" + (f" to {ends}" if ends else "")
        raise InputError(f"year: {policy.region} has no policy in force in {year} ({span})")
    return start, end


def _versions_between(policy: RegionPolicy, start: dt.date, end: dt.date) -> list[PolicyVersion]:
    return [
        v
        for v in policy.versions
        if v.valid_from <= end and (v.valid_to is None or v.valid_to >= start)
    ]


def _chronic_code(scheme: SchemePolicy, icd: str) -> str | None:
    """The disease code of the first chronic-outpatient benefit whose list holds `icd`."""
    for benefit in scheme.pooling.benefits:
        if "14" not in benefit.med_types or benefit.match is None:
            continue
        match = benefit.match
        if match.diseases is None or match.levels or match.requires_person_flag:
            continue
        for disease in match.diseases.items:
            if disease.icd and icd.startswith(tuple(disease.icd)):
                return disease.code
    return None


def _products(version: PolicyVersion, schemes: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    names: dict[str, list[str]] = {}
    for scheme in schemes:
        commercial = version.schemes[scheme].commercial
        if commercial is not None and commercial.opt_in.value:
            names.setdefault(commercial.product, []).append(scheme)
    return {name: tuple(found) for name, found in sorted(names.items())}


def _flags(version: PolicyVersion, schemes: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    names: dict[str, list[str]] = {}
    for scheme in schemes:
        for benefit in version.schemes[scheme].pooling.benefits:
            flag = benefit.match.requires_person_flag if benefit.match else None
            if flag and scheme not in names.get(flag, []):
                names.setdefault(flag, []).append(scheme)
    return {name: tuple(found) for name, found in sorted(names.items())}
