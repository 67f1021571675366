"""A contribution bill as text: one line per payment with its base, rate and sources."""

from __future__ import annotations

from decimal import Decimal

from yibao.contributions.bill import Bill, BillLine
from yibao.money import yuan_str

PAYER_NAMES = {
    "employer": "单位 employer",
    "personal": "个人 personal",
    "government": "财政 government",
    "medical_assistance": "医疗救助 assistance",
}


def _rate(rate: Decimal | None) -> str:
    return "" if rate is None else f" × {rate * 100:.4g}%"


def _times(line: BillLine) -> str:
    """The head count and months a yearly per-person base is multiplied by (the levy)."""
    heads = f" × {line.heads} persons" if line.heads is not None else ""
    months = f" × {line.months}/12 year" if line.months is not None else ""
    return heads + months


def _line(line: BillLine, memo: bool = False) -> list[str]:
    who = "memo" if memo else PAYER_NAMES.get(line.payer or "", line.payer or "")
    member = f" {line.member}" if line.member else ""
    base = ""
    if line.base_fen is not None:
        base = f" base {yuan_str(line.base_fen)}{_rate(line.rate)}{_times(line)}"
    out = [f"  {line.item}{member} [{who}]{base}: {yuan_str(line.amount_fen)}"]
    if line.note:
        out.append(f"      {line.note}")
    out.extend(f"      source: {source}" for source in line.sources)
    return out


def render_bill(bill: Bill) -> str:
    """The bill for a terminal: header, lines with sources, memos, totals by payer."""
    out = [f"{bill.region} {bill.kind} {bill.payer_id} — contribution bill {bill.period}"]
    for line in bill.lines:
        out.extend(_line(line))
    if bill.memos:
        out.append(" memos (not added to the total):")
        for memo in bill.memos:
            out.extend(_line(memo, memo=True))
    for payer, fen in bill.totals_by_payer().items():
        if fen:
            out.append(f" {PAYER_NAMES[payer]}: {yuan_str(fen)}")
    out.append(f" total: {yuan_str(bill.total_fen)}")
    for key, value in bill.info.items():
        if isinstance(value, dict):
            shown = ", ".join(f"{k}={v}" for k, v in value.items() if k != "sources")
            out.append(f" {key}: {shown}")
            out.extend(f"      source: {s}" for s in value.get("sources", []))
    return "\n".join(out)
