"""The fast answer renderer writes exactly what the reference JSON writer writes."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from yibao.render.jsontext import dumps
from yibao.service.output import compact_json, thaw

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from('\x00"\\\n'))
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.decimals(places=2, allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


@given(values)
def test_compact_json_is_the_reference_writer(value):
    assert compact_json(value) == dumps(value, indent=None)


def test_money_stays_exact_through_a_round_trip():
    answer = {"setlinfo": {"hifp_pay": Decimal("300.00"), "pool_prop_selfpay": Decimal("0.4000")}}
    text = compact_json(answer)
    assert text == '{"setlinfo":{"hifp_pay":300.00,"pool_prop_selfpay":0.4000}}'
    assert thaw(text) == answer and str(thaw(text)["setlinfo"]["hifp_pay"]) == "300.00"
