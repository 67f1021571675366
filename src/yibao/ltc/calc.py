"""Pure long-term care calculator: a care episode → what the LTC fund pays, what the person pays.

covered units = min(units, max_units_per_day × days of the period); the covered cost is
units × the care type's rate; the fund pays `fund_share[scheme]` of it, rounded half-up once;
units over the daily cap are the person's in full. A level that is not severe disability is
refused with the reason (QD-06), never priced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from yibao.errors import InputError, first_error
from yibao.ltc.terms import CareType, LtcTerms, Scheme
from yibao.money import apply_ratio, fen_to_yuan


class Episode(BaseModel):
    """A care episode: who (scheme, level), which care, when, how many days or hours."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    scheme: Scheme
    level: int = Field(ge=0, le=99)
    care_type: CareType
    start: dt.date
    end: dt.date
    units: int | None = Field(default=None, gt=0, le=10_000)

    @model_validator(mode="after")
    def _period(self) -> Episode:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_episode(raw: Any, prefix: str = "") -> Episode:
    try:
        return Episode.model_validate(raw)
    except ValidationError as exc:
        raise InputError(first_error(exc, prefix)) from None


@dataclass
class Quote:
    eligible: bool
    refusal: str | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    billed_fen: int = 0
    fund_fen: int = 0
    person_fen: int = 0
    sources: list[str] = field(default_factory=list)


def quote(terms: LtcTerms, episode: Episode) -> Quote:
    """Price one episode (pure); an ineligible level answers a refusal with its reason."""
    level = terms.levels.get(episode.level)
    if level is None:
        raise InputError(
            f"level: {episode.level} is not an assessment level {sorted(terms.levels)}"
        )
    if not level.eligible.value:
        return Quote(
            eligible=False,
            refusal=f"level {episode.level} ({level.name}) is not severe disability (重度失能): "
            "long-term care covers only severe disability",
            sources=[level.eligible.cite()],
        )
    if episode.days > terms.max_episode_days.value:
        raise InputError(
            f"end: an episode covers at most {terms.max_episode_days.value} days, "
            f"got {episode.days}"
        )
    care = terms.care_types[episode.care_type]
    units = _units(episode, care.unit)
    allowed = care.max_units_per_day.value * episode.days
    covered = min(units, allowed)
    rate = care.rate.fen
    share = terms.fund_share[episode.scheme]
    lines = [_line(f"{care.name} {care.unit}", covered, rate, True, care.rate.cite())]
    if units > covered:
        cap = care.max_units_per_day
        lines.append(
            _line(f"over {cap.value} {care.unit}/day", units - covered, rate, False, cap.cite())
        )
    fund = apply_ratio(covered * rate, share.value)
    billed = units * rate
    return Quote(
        eligible=True,
        lines=lines,
        billed_fen=billed,
        fund_fen=fund,
        person_fen=billed - fund,
        sources=[level.eligible.cite(), care.cite(), share.cite()],
    )


def _units(episode: Episode, unit: str) -> int:
    if episode.units is not None:
        if unit == "day" and episode.units > episode.days:
            raise InputError(f"units: {episode.units} days in a {episode.days}-day period")
        return episode.units
    if unit == "hour":
        raise InputError("units: home care is priced per hour; give the hours")
    return episode.days


def _line(item: str, units: int, rate: int, covered: bool, source: str) -> dict[str, Any]:
    return {
        "item": item,
        "units": units,
        "rate_fen": rate,
        "amount_fen": units * rate,
        "covered": covered,
        "source": source,
    }


def quote_dict(terms: LtcTerms, episode: Episode, q: Quote) -> dict[str, Any]:
    """The quote as JSON-ready data: money in yuan (and fen), each line with its source."""
    out: dict[str, Any] = {
        "eligible": q.eligible,
        "refusal": q.refusal,
        "scheme": episode.scheme,
        "level": episode.level,
        "care_type": episode.care_type,
        "start": episode.start.isoformat(),
        "end": episode.end.isoformat(),
        "days": episode.days,
        "fund_share": terms.fund_share[episode.scheme].value if q.eligible else None,
        "lines": [
            {
                **line,
                "rate": fen_to_yuan(line["rate_fen"]),
                "amount": fen_to_yuan(line["amount_fen"]),
            }
            for line in q.lines
        ],
        "billed": fen_to_yuan(q.billed_fen),
        "fund_pay": fen_to_yuan(q.fund_fen),
        "person_pay": fen_to_yuan(q.person_fen),
        "billed_fen": q.billed_fen,
        "fund_pay_fen": q.fund_fen,
        "person_pay_fen": q.person_fen,
        "sources": q.sources,
    }
    return out
