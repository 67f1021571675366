"""Cross-region filings, settlement and clearing over HTTP.

The bureau writes filings and runs clearing; an institution reads a person's filing valid for
treatment in its own region and previews settlements there; auditors read. Money is yuan
with two decimals (the `*_fen` fields carry the same amounts in integer fen).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from yibao.api.common import db_of
from yibao.api.errors import ERROR_RESPONSES
from yibao.api.models import IsoDate, Money
from yibao.api.rendering import MoneyJSONResponse, respond
from yibao.api.security import Bureau, Caller, Overseer
from yibao.crossregion import filings, jobs, preview, stats

router = APIRouter(
    prefix="/cross-region",
    tags=["cross-region"],
    responses=ERROR_RESPONSES,
    default_response_class=MoneyJSONResponse,
)

FilingId = Annotated[int, Path(ge=1, le=2**31 - 1, description="filing number")]
Month = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]
On = Annotated[IsoDate | None, Query(description="validity date for institutions (default today)")]


class FilingOut(BaseModel):
    id: int
    psn_no: str
    kind: Literal["residence", "referral", "temporary"]
    kind_name: str
    insured_region: str
    treating_region: str
    valid_from: str
    valid_to: str | None
    status: str
    note: str
    counts_as_referral: bool


class FilingChange(BaseModel):
    """New end date (null: open-ended) and optionally a new note."""

    model_config = ConfigDict(extra="forbid")
    valid_to: IsoDate | None = None
    note: str | None = Field(default=None, max_length=200)


class ClearingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")


class GrossOut(BaseModel):
    insured_region: str
    treating_region: str
    visits: int
    medfee_sumamt: Money
    gross: Money
    gross_fen: int


class NetOut(BaseModel):
    a: str
    b: str
    gross_a_to_b: Money
    gross_b_to_a: Money
    net: Money
    net_fen: int
    payer: str | None


class ClearingOut(BaseModel):
    month: str
    status: str
    gross: list[GrossOut]
    nets: list[NetOut]
    positions: dict[str, Money]
    written: int | None = None


@router.post("/filings", response_model=FilingOut, status_code=201)
def create_filing(body: filings.FilingIn, who: Bureau, request: Request) -> MoneyJSONResponse:
    """File out-of-region treatment (备案) for an enrolled person (bureau)."""
    return respond(filings.create_filing(db_of(request), who, body), FilingOut, status_code=201)


@router.get("/filings", response_model=list[FilingOut])
def list_filings(
    who: Caller,
    request: Request,
    psn_no: Annotated[str | None, Query(max_length=30)] = None,
    on: On = None,
) -> MoneyJSONResponse:
    """Filings (an institution must name the person; it sees those valid `on` in its region)."""
    rows = filings.list_filings(db_of(request), who, psn_no, on or dt.date.today())
    return respond(rows, list[FilingOut])


@router.get("/filings/{filing_id}", response_model=FilingOut)
def get_filing(filing_id: FilingId, who: Caller, request: Request, on: On = None):
    """One filing; for an institution, only while valid for treatment in its region."""
    row = filings.get_filing(db_of(request), who, filing_id, on or dt.date.today())
    return respond(row, FilingOut)


@router.patch("/filings/{filing_id}", response_model=FilingOut)
def change_filing(
    filing_id: FilingId, body: FilingChange, who: Bureau, request: Request
) -> MoneyJSONResponse:
    """Change a filing's end date or note (bureau)."""
    row = filings.change_filing(db_of(request), who, filing_id, body.valid_to, body.note)
    return respond(row, FilingOut)


@router.delete("/filings/{filing_id}", response_model=FilingOut)
def revoke_filing(filing_id: FilingId, who: Bureau, request: Request) -> MoneyJSONResponse:
    """Revoke a filing (bureau): kept on record, no longer valid."""
    return respond(filings.revoke_filing(db_of(request), who, filing_id), FilingOut)


@router.post("/settlements/preview")
def preview_settlement(
    who: Caller,
    request: Request,
    body: Annotated[
        dict[str, Any],
        Body(
            description="A claim file (region, person, claims) plus `treating_region` and "
            "optionally `filing` (residence / referral / temporary / none); without `filing` "
            "the person's stored filing valid on each claim's date is used."
        ),
    ],
) -> MoneyJSONResponse:
    """Pre-calculate settlements with the treating region's catalogue and the insured
    region's ratios; nothing is written."""
    return respond(preview.preview(db_of(request), who, body), dict[str, Any])


@router.post("/clearing-runs", response_model=ClearingOut)
def run_clearing(body: ClearingRequest, who: Bureau, request: Request) -> MoneyJSONResponse:
    """Clear a month between regions (bureau); repeating a finished month writes nothing."""
    return respond(jobs.run_clearing(db_of(request), who, body.month), ClearingOut)


@router.get("/clearing/{month}", response_model=ClearingOut)
def get_clearing(month: Month, who: Overseer, request: Request) -> MoneyJSONResponse:
    """A month's clearing: gross per ordered pair, net per pair, each region's position."""
    return respond(jobs.clearing_view(db_of(request), who, month), ClearingOut)


@router.get("/statistics")
def statistics(
    who: Overseer,
    request: Request,
    region: Annotated[str, Query(min_length=1, max_length=20, description="our region")],
    begin: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="first month")],
    end: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="last month")],
) -> MoneyJSONResponse:
    """Visits and amounts per month, direction (outbound / inbound) and scheme."""
    return respond(stats.statistics(db_of(request), who, region, begin, end), dict[str, Any])
