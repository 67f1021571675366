"""National fund codes (基金支付类型, nhsa.md) and the settlement field each layer pays into."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Fund:
    code: str
    name: str
    field: str


POOLING = {
    "employee": Fund("310100", "职工基本医疗保险统筹基金", "hifp_pay"),
    "resident": Fund("390100", "城乡居民基本医疗保险基金", "hifp_pay"),
}
CRITICAL_ILLNESS = {
    "employee": Fund("330300", "职工大病保险基金(地区自定义)", "hifmi_pay"),
    "resident": Fund("390200", "城乡居民大病医疗保险基金", "hifmi_pay"),
}
LARGE_EXPENSE = Fund("330100", "大额医疗费用补助基金", "hifob_pay")
CIVIL_SERVANT = Fund("320100", "公务员医疗补助基金", "cvlserv_pay")
MEDICAL_ASSISTANCE = Fund("610100", "医疗救助基金", "maf_pay")
TOP_UP = Fund("640100", "政府兜底基金", "oth_pay")
OTHER = Fund("999997", "其他基金", "oth_pay")

FUND_FIELDS = (
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "oth_pay",
)

INSUTYPE = {"employee": "310", "resident": "390"}
