"""Request and response models of the REST resources: the OpenAPI page is generated from
these. Money is yuan as an exact JSON number with two decimals (`Money`)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from yibao.money import positive_yuan
from yibao.policy.loader import packaged_regions
from yibao.service.persons import CategoryPeriod, PersonIn

Money = Annotated[Decimal, WithJsonSchema({"type": "number", "description": "yuan, two decimals"})]
Ratio = Annotated[Decimal, WithJsonSchema({"type": "number", "description": "ratio, 4 decimals"})]
Number = Annotated[Decimal, WithJsonSchema({"type": "number"})]
Region = Literal[tuple(packaged_regions())]  # type: ignore[valid-type]


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date yyyy-MM-dd")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
PositiveYuan = Annotated[
    Decimal,
    BeforeValidator(positive_yuan),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$"},
                {"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000_000_000},
            ],
            "description": "yuan, at most two decimals (a string keeps it exact)",
            "examples": ["100.00"],
        }
    ),
]


# --- persons ------------------------------------------------------------------------------


class CategoryPeriodBody(CategoryPeriod):
    valid_from: IsoDate = dt.date(1900, 1, 1)
    valid_to: IsoDate | None = None


class PersonBody(PersonIn):
    """The service's person, with dates accepted only as yyyy-MM-dd text."""

    birth_date: IsoDate | None = None
    category_periods: list[CategoryPeriodBody] = Field(default_factory=list)


class EnrollRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: Region
    person: PersonBody


class Enrolled(BaseModel):
    id: str
    created: bool


class CategoryPeriodOut(BaseModel):
    category: str
    valid_from: str
    valid_to: str | None


class PersonOut(BaseModel):
    id: str
    region: str
    scheme: str
    employment: str | None
    birth_date: str | None
    sex: str | None
    certno: str | None = Field(description="ID number; masked for institutions")
    name: str | None
    flags: list[str]
    products: list[str]
    category_periods: list[CategoryPeriodOut]
    account_balance_fen: int
    account_balance: Money


class CreditRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: PositiveYuan
    note: str = Field(default="", max_length=200)


class Credited(BaseModel):
    person_id: str
    balance: Money
    balance_fen: int


# --- institutions -------------------------------------------------------------------------


class InstitutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=30, pattern=r"^[0-9A-Za-z_-]+$")
    name: str = Field(min_length=1, max_length=200)
    level: Literal[1, 2, 3]
    kind: Literal["hospital", "pharmacy"]
    region: Region


class InstitutionOut(BaseModel):
    code: str
    name: str
    level: int
    kind: str
    region: str
    status: str


class InstitutionCreated(InstitutionOut):
    api_key: str = Field(description="shown this once; only its hash is stored")


# --- settlements and reconciliation -------------------------------------------------------


class SettlementSummary(BaseModel):
    setl_id: str
    status: Literal["settled", "reversed", "reversal"]
    reverses_setl_id: str | None
    psn_no: str
    fixmedins_code: str
    mdtrt_id: str | None
    med_type: str
    setl_time: str
    medfee_sumamt: Money
    fund_pay_sumamt: Money
    psn_part_amt: Money
    acct_pay: Money
    psn_cash_pay: Money


class SetlInfoOut(BaseModel):
    medfee_sumamt: Money
    fulamt_ownpay_amt: Money
    overlmt_selfpay: Money
    preselfpay_amt: Money
    inscp_scp_amt: Money
    act_pay_dedc: Money
    hifp_pay: Money
    pool_prop_selfpay: Ratio
    cvlserv_pay: Money
    hifes_pay: Money
    hifmi_pay: Money
    hifob_pay: Money
    maf_pay: Money
    oth_pay: Money
    fund_pay_sumamt: Money
    psn_part_amt: Money
    acct_pay: Money
    acct_mulaid_pay: Money
    psn_cash_pay: Money
    balc: Money


class FundDetailOut(BaseModel):
    fund_pay_type: str
    fund_pay_type_name: str
    inscp_scp_amt: Money
    fund_payamt: Money
    setl_proc_info: str


class LineOut(BaseModel):
    code: str
    name: str
    chrgitm_lv: str
    det_item_fee_sumamt: Money
    fulamt_ownpay_amt: Money
    overlmt_amt: Money
    preselfpay_amt: Money
    inscp_scp_amt: Money
    memo: str


class SettlementOut(SettlementSummary):
    claim_id: str
    msgid: str | None
    insutype: str
    policy_version: str
    setlinfo: SetlInfoOut
    setldetail: list[FundDetailOut]
    lines: list[LineOut]


class FundTotal(BaseModel):
    fund_pay_type: str
    fund_pay_type_name: str
    fund_payamt: Money


class ReconciliationDetail(BaseModel):
    setl_id: str
    psn_no: str
    fixmedins_code: str
    setl_date: str
    status: str
    reverses_setl_id: str | None
    med_type: str
    medfee_sumamt: Money
    fund_pay_sumamt: Money
    psn_part_amt: Money
    acct_pay: Money
    psn_cash_pay: Money


class Reconciliation(BaseModel):
    stmt_begndate: str
    stmt_enddate: str
    fixmedins_code: str | None
    setl_cnt: int
    medfee_sumamt: Money
    fund_pay_sumamt: Money
    psn_part_amt: Money
    acct_pay: Money
    psn_cash_pay: Money
    funds: list[FundTotal]
    details: list[ReconciliationDetail]


# --- visits and audit ---------------------------------------------------------------------


class VisitLineOut(BaseModel):
    feedetl_sn: str
    med_list_codg: str
    medins_list_codg: str
    name: str
    chrgitm_lv: str | None
    chrg_bchno: str | None
    fee_ocur_time: str
    cnt: Number
    pric: Number
    det_item_fee_sumamt: Money
    state: Literal["free", "reserved", "settled"]
    setl_id: str | None


class VisitOut(BaseModel):
    mdtrt_id: str
    psn_no: str
    fixmedins_code: str
    kind: Literal["outpatient", "inpatient"] | None
    med_type: str
    begin_date: str
    end_date: str | None
    status: str
    diagnoses: list[str]
    disease: str | None
    feedetail: list[VisitLineOut]


class AuditEntryOut(BaseModel):
    id: int
    at: str | None
    actor: str
    role: str
    action: str
    target: str
    detail: dict[str, Any]
