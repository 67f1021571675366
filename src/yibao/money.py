"""Money is integer fen inside yibao; yuan only at the edges. Ratios are exact Decimals.

Every computed payment goes through `round_half_up` exactly once, at the layer that
produces it, so no float ever touches money.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN_PER_YUAN = 100
_FEN = Decimal(1)
_CENT = Decimal("0.01")
_RATIO_PLACES = Decimal("0.0001")
# The largest amount a claim (and so any price or line of it) may carry: 1,000,000,000.00
# yuan, far above any real bill. It keeps every product the batch engine forms (fen × a
# ratio scaled by 10^6, doubled for rounding) and every stored sum within 64-bit integers.
MAX_CLAIM_FEN = 100_000_000_000


class MoneyError(ValueError):
    """A yuan amount that cannot be represented exactly in fen."""


def to_decimal(value: object) -> Decimal:
    """Parse a JSON/YAML number or string into a Decimal without passing through float."""
    if isinstance(value, bool):
        raise MoneyError("must be a number, not a boolean")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # JSON parsers give floats; their shortest repr is the literal the user wrote.
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise MoneyError(f"not a number: {value!r}") from None
    raise MoneyError(f"must be a number, got {type(value).__name__}")


def yuan_to_fen(value: object) -> int:
    """Exact yuan → fen; more than two decimals is an error, never a silent rounding."""
    amount = to_decimal(value)
    if not amount.is_finite():
        raise MoneyError("must be a finite number")
    fen = amount * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise MoneyError(f"{value} has more than two decimals")
    return int(fen)


def fen_to_yuan(fen: int) -> Decimal:
    """Fen → yuan Decimal with two places (for output)."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(_CENT)


MAX_CLAIM_YUAN = fen_to_yuan(MAX_CLAIM_FEN)
ABOVE_MAX_CLAIM = f"must be at most {MAX_CLAIM_YUAN:,} (the largest claim amount)"


def yuan_str(fen: int) -> str:
    """Fen as a yuan string with two decimals and thousands separators, for bills."""
    return f"{fen_to_yuan(fen):,.2f}"


def round_half_up(amount: Decimal) -> int:
    """Round a fen amount computed with ratios to whole fen, half-up (the one rounding rule)."""
    return int(amount.quantize(_FEN, rounding=ROUND_HALF_UP))


def apply_ratio(fen: int, ratio: Decimal) -> int:
    """`fen × ratio`, rounded half-up once — exact integer arithmetic on the ratio's fraction."""
    num, den = _fraction(ratio)
    product = fen * num
    if product >= 0:
        return (2 * product + den) // (2 * den)
    return -((-2 * product + den) // (2 * den))


_FRACTIONS: dict[Decimal, tuple[int, int]] = {}


def _fraction(ratio: Decimal) -> tuple[int, int]:
    found = _FRACTIONS.get(ratio)
    if found is None:
        found = _FRACTIONS[ratio] = ratio.as_integer_ratio()
    return found


def ratio4(ratio: Decimal) -> Decimal:
    """A ratio shown with four decimals (`pool_prop_selfpay`)."""
    return ratio.quantize(_RATIO_PLACES, rounding=ROUND_HALF_UP)


YUAN_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # plain digits: no exponent, sign or width
MAX_AMOUNT_YUAN = Decimal(10) ** 12  # a credit, budget or recovery entered by a person


def positive_yuan(value: object) -> Decimal:
    """An amount a person enters (a credit, a budget, a recovery): yuan > 0 and below 10¹²
    with at most two decimals; text must be plain digits ("1e1", "+5" and "１" are refused)."""
    amount = _typed_yuan(value)
    if amount <= 0:
        raise MoneyError("must be > 0")
    return _within_bounds(amount)


def entered_yuan(value: object) -> Decimal:
    """`positive_yuan` where 0 is an answer too (a VBP budget, a deposit deduction)."""
    amount = _typed_yuan(value)
    if amount < 0:
        raise MoneyError("must be >= 0")
    return _within_bounds(amount)


def _typed_yuan(value: object) -> Decimal:
    if isinstance(value, str) and not YUAN_TEXT.fullmatch(value):
        raise MoneyError("must be yuan like 100.00")
    amount = to_decimal(value)
    if not amount.is_finite():
        raise MoneyError("must be yuan like 100.00")
    return amount


def _within_bounds(amount: Decimal) -> Decimal:
    if amount >= MAX_AMOUNT_YUAN:
        raise MoneyError(f"must be below {MAX_AMOUNT_YUAN:,}")
    if amount != amount.quantize(Decimal("0.01")):
        raise MoneyError("has more than two decimals")
    return amount
