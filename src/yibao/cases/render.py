"""Case views for people: fen amounts as yuan (API and CLI JSON), and plain-text listings."""

from __future__ import annotations

from typing import Any

from yibao.money import fen_to_yuan, yuan_str
from yibao.render.jsontext import plain


def with_yuan(view: dict[str, Any]) -> dict[str, Any]:
    """A service view with `amount_at_risk_fen` / `recovered_fen` (and steps' `amount_fen`)
    replaced by yuan Decimals `amount_at_risk` / `recovered` / `amount`; steps' `at` as text."""
    out = {k: v for k, v in view.items() if k not in ("amount_at_risk_fen", "recovered_fen")}
    out["amount_at_risk"] = fen_to_yuan(view["amount_at_risk_fen"])
    out["recovered"] = fen_to_yuan(view["recovered_fen"])
    if "steps" in view:
        out["steps"] = [_step_with_yuan(step) for step in view["steps"]]
    return out


def _step_with_yuan(step: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in step.items() if k != "amount_fen"}
    fen = step["amount_fen"]
    out["amount"] = None if fen is None else fen_to_yuan(fen)
    out["at"] = plain(step["at"])  # when it was recorded, as the API writes times
    return out


def case_line(case: dict[str, Any]) -> str:
    """One line of `yibao cases list`."""
    return (
        f"#{case['id']:<6} {case['status']:<11} {case['rule']:<24} "
        f"{case.get('region') or '-'} person {case['person_id'] or '-'}  "
        f"institution {case['institution'] or '-'}  at risk {yuan_str(case['amount_at_risk_fen'])}"
        f"  recovered {yuan_str(case['recovered_fen'])}"
    )


def page_hint(offset: int, shown: int, total: int) -> str:
    """`showing 1–100 of 2,062; --offset 100 for more` when a listing is not everything."""
    if shown == total:
        return ""
    if shown == 0:
        return f"showing none of {total:,} (--offset {offset:,} is past the end)"
    last = offset + shown
    more = f"; --offset {last} for more" if last < total else ""
    return f"showing {offset + 1:,}–{last:,} of {total:,}{more}"


def case_text(case: dict[str, Any]) -> str:
    """`yibao cases show`: the case, its evidence, its steps."""
    out = [
        f"case #{case['id']} [{case['severity']}] {case['rule']} {case['name_zh']} "
        f"({case['name_en']})",
        f"  status {case['status']}  next: {', '.join(case['next_steps']) or '-'}",
        f"  person {case['person_id'] or '-'}  institution {case['institution'] or '-'}  "
        f"region {case['region'] or '-'}  claims {', '.join(case['claim_ids']) or '-'}",
        f"  amount at risk {yuan_str(case['amount_at_risk_fen'])} yuan  "
        f"recovered {yuan_str(case['recovered_fen'])} yuan",
    ]
    if case["appeal_deadline"]:
        out.append(f"  appeal window until {case['appeal_deadline']}")
    if case["decision"]:
        out.append(f"  decision {case['decision']}: {case['decision_reason']}")
    out.append(f"  basis: {case['basis'] or '-'}")
    out.append("evidence:")
    for flag in case["flags"]:
        ev = flag.get("evidence") or {}
        measured = f"{ev.get('measure', '?')} = {ev.get('value', '?')} "
        measured += f"{ev.get('comparison', 'vs')} {ev.get('threshold', '?')}"
        claims = ", ".join(flag["claim_ids"]) or "-"
        out.append(f"  {measured}  claims {claims}{_counted(flag, case['id'])}")
    out.append("steps:")
    for step in case["steps"]:
        amount = "" if step["amount_fen"] is None else f" {yuan_str(step['amount_fen'])} yuan"
        note = f"  {step['note']}" if step["note"] else ""
        out.append(
            f"  {step['seq']}. {step['day']} {step['action']} → {step['to_status']} by "
            f"{step['actor']} ({step['role']}){amount}{_import_detail(step)}{note}"
        )
    return "\n".join(out)


def _counted(flag: dict[str, Any], case_id: int) -> str:
    """What this case counts of a later run's flag, when earlier flags hold the rest."""
    part = flag.get("counted")
    if not part:
        return ""
    others = [f"#{i}" for i in part["overlaps"] if i != case_id]
    held = ", ".join(others) if others else "this case's earlier flags"
    claims = ", ".join(part["claim_ids"]) or "no claim"
    return f"  (counted: {claims}, {yuan_str(part['amount_at_risk_fen'])} yuan; rest in {held})"


def _import_detail(step: dict[str, Any]) -> str:
    """An open step extending earlier cases, an update step's added claims and amount."""
    detail = step["detail"] or {}
    if step["action"] == "open" and detail.get("extends"):
        return " extends " + ", ".join(f"#{i}" for i in detail["extends"])
    if step["action"] == "update":
        risk = detail["amount_at_risk_fen"]
        claims = ", ".join(detail["added_claim_ids"]) or "none"
        return (
            f" added claims {claims}, at risk {yuan_str(risk['before'])} → "
            f"{yuan_str(risk['after'])} yuan"
        )
    return ""


def precision_text(table: dict[str, list[dict]]) -> str:
    """`yibao cases precision`: one line per rule, then per rule and region."""
    if not table["rules"]:
        return "no cases"
    out = [f"{'rule':<24} {'region':<10} confirmed dismissed undecided precision"]
    rows = [{**r, "region": "(all)"} for r in table["rules"]] + table["regions"]
    for r in rows:
        shown = "-" if r["precision"] is None else str(r["precision"])
        out.append(
            f"{r['rule']:<24} {r['region'] or '-':<10} {r['confirmed']:>9} {r['dismissed']:>9} "
            f"{r['undecided']:>9} {shown:>9}"
        )
    return "\n".join(out)
