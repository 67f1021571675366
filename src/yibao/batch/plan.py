"""Which parts of a policy version's scheme the columnar engine settles, and which fall back.

A scheme is columnar when every rule it uses has a vectorized twin that can hold its values
exactly (ratios with at most six decimals, one cap per benefit, ...); otherwise all its
persons run through the per-claim engine. Data can still send single persons there
(`Fallbacks`); `explain` lists both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yibao.batch import pooling
from yibao.batch.exact import NotScalable
from yibao.batch.layers import CHECKS, LAYERS
from yibao.policy.schema import RegionPolicy, SchemePolicy

BUCKETS = "buckets"
ACCOUNTS = "accounts"


@dataclass(frozen=True)
class SchemePlan:
    version: str
    scheme_name: str
    scheme: SchemePolicy
    fallback: str | None = None  # why the whole scheme runs through the per-claim engine
    parts: list[str] = field(default_factory=list)

    @property
    def columnar(self) -> bool:
        return self.fallback is None

    def note(self) -> str:
        if self.fallback:
            return (
                f"{self.version} {self.scheme_name}: per-claim engine (fallback) — {self.fallback}"
            )
        return f"{self.version} {self.scheme_name}: columnar — " + ", ".join(self.parts)


def plan_scheme(
    policy: RegionPolicy, version_id: str, scheme_name: str, catalogue_problem: str | None
) -> SchemePlan:
    version = next(v for v in policy.versions if policy.version_id(v) == version_id)
    scheme = version.schemes[scheme_name]  # type: ignore[index]
    benefits = ", ".join(b.id for b in scheme.pooling.benefits)
    parts = [BUCKETS, f"basic_pooling [{benefits}]", *scheme.layer_order.value]
    if scheme.account is not None:
        parts.append(ACCOUNTS)
    try:
        if catalogue_problem:
            raise ValueError(f"catalogue: {catalogue_problem}")
        pooling.check(scheme)
        for name in scheme.layer_order.value:
            if name not in LAYERS:
                raise ValueError(f"layer {name} is not vectorized")
            CHECKS[name](getattr(scheme, name))
    except (NotScalable, ValueError) as exc:
        return SchemePlan(version_id, scheme_name, scheme, str(exc), parts)
    return SchemePlan(version_id, scheme_name, scheme, None, parts)
