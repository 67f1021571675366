"""A settlement as a bill a clerk can read: lines, amounts, funds and — with --explain —
each rule that was applied and the policy text it comes from."""

from __future__ import annotations

import unicodedata

from yibao.engine.result import Settlement
from yibao.engine.state import YearToDate
from yibao.money import yuan_str

MED_TYPES = {"11": "普通门诊", "14": "门诊慢特病", "21": "住院", "41": "定点药店购药"}
CLASS = {"A": "甲类", "B": "乙类", "C": "丙类"}
AMOUNTS = [
    ("medfee_sumamt", "医疗费总额"),
    ("fulamt_ownpay_amt", "  全自费"),
    ("overlmt_selfpay", "  超限价自费"),
    ("preselfpay_amt", "  先行自付"),
    ("inscp_scp_amt", "  符合政策范围"),
    ("act_pay_dedc", "起付线(本次)"),
    ("hifp_pay", "统筹基金支付"),
    ("cvlserv_pay", "公务员医疗补助"),
    ("hifob_pay", "大额/超限额补充"),
    ("hifmi_pay", "大病保险"),
    ("maf_pay", "医疗救助"),
    ("oth_pay", "其他(兜底/商业补充)"),
    ("fund_pay_sumamt", "基金支付合计"),
    ("psn_part_amt", "个人负担"),
    ("acct_pay", "  个人账户支付"),
    ("acct_mulaid_pay", "    其中共济"),
    ("psn_cash_pay", "  现金支付"),
]


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, size: int) -> str:
    return text + " " * max(0, size - width(text))


def render_bill(s: Settlement, explain: bool) -> str:
    info = s.setlinfo
    med = MED_TYPES.get(s.med_type, s.med_type)
    out = [
        f"结算单 {s.claim_id} · {s.setl_date} · {med} ({s.med_type}) · policy {s.policy_version}"
    ]
    for line in s.lines:
        label = pad(f"  {line.code} {line.name}", 34)
        out.append(
            f"{label}{CLASS.get(line.category, line.category)} {yuan_str(line.amount):>12}"
            f"  范围内 {yuan_str(line.inscp_scp_amt):>10}  {line.note}".rstrip()
        )
    out.append("  " + "-" * 60)
    for name, label in AMOUNTS:
        value = getattr(info, name)
        if value or name in ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt", "hifp_pay"):
            out.append(f"  {pad(label, 22)}{pad(name, 20)}{yuan_str(value):>14}")
    out.append(
        f"  {pad('统筹支付比例', 22)}{pad('pool_prop_selfpay', 20)}{info.pool_prop_selfpay:>14}"
    )
    if info.balc:
        out.append(f"  {pad('账户余额', 22)}{pad('balc', 20)}{yuan_str(info.balc):>14}")
    out.append("  基金分项 setldetail:")
    for d in s.setldetail:
        out.append(
            f"    {d.fund_pay_type} {pad(d.fund_pay_type_name, 30)}{yuan_str(d.fund_payamt):>12}"
        )
    if explain:
        out.append("  计算过程 explanation:")
        for i, t in enumerate(s.trace, 1):
            out.append(f"   {i:>2}. {t.rule}: {t.detail}")
            if t.source:
                out.append(f"       依据 {t.source}")
    return "\n".join(out)


def render_person(
    region: str, person_id: str, settlements: list[Settlement], state: YearToDate, explain: bool
) -> str:
    blocks = [f"== {region} · person {person_id}"]
    blocks += [render_bill(s, explain) for s in settlements]
    totals = ", ".join(f"{k} {yuan_str(v)}" for k, v in sorted(state.amounts.items()))
    blocks.append(f"year to date {state.year}: {totals or '—'}")
    return "\n\n".join(blocks)
