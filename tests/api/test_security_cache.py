"""The key cache: a busy client is not looked up on every request, and entries expire."""

from __future__ import annotations

from yibao.api.security import KeyCache
from yibao.service.principal import Principal


def test_cached_keys_expire():
    now = [100.0]
    cache = KeyCache(ttl=10, clock=lambda: now[0])
    who = Principal("H001", "institution", "H001")
    cache.put("yb_secret", who)
    assert cache.get("yb_secret") == who
    assert cache.get("yb_other") is None
    now[0] += 10.5
    assert cache.get("yb_secret") is None
