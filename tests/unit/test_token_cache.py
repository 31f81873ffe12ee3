"""The token cache: bounded in age and size, never past a token's expiry, forgets at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from teamfoned.api.token_cache import TokenCache
from teamfoned.store.tokens_repo import Caller, Grant

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def grant(member: uuid.UUID | None = None, expires_at: datetime | None = None) -> Grant:
    caller = Caller(token_id=uuid.uuid4(), member_id=member or uuid.uuid4(),
                    tenant_id=uuid.uuid4(), is_admin=False)
    return Grant(caller, expires_at, None)


def test_an_entry_lives_for_the_ttl_only() -> None:
    ticks = Ticks()
    cache = TokenCache(10, monotonic=ticks)
    g = grant()
    cache.put("a", g, cache.generation)
    ticks.now = 9.9
    assert cache.get("a", NOW) == g.caller
    ticks.now = 10.0
    assert cache.get("a", NOW) is None and len(cache) == 0


def test_never_past_the_tokens_own_expiry() -> None:
    cache = TokenCache(60, monotonic=Ticks())
    g = grant(expires_at=NOW + timedelta(seconds=1))
    cache.put("a", g, cache.generation)
    assert cache.get("a", NOW) == g.caller
    assert cache.get("a", NOW + timedelta(seconds=1)) is None


def test_bounded_least_recently_used_goes_first() -> None:
    cache = TokenCache(60, max_entries=2, monotonic=Ticks())
    a, b, c = grant(), grant(), grant()
    cache.put("a", a, cache.generation)
    cache.put("b", b, cache.generation)
    assert cache.get("a", NOW) == a.caller  # b is now the least recently used
    cache.put("c", c, cache.generation)
    assert len(cache) == 2
    assert cache.get("b", NOW) is None
    assert cache.get("a", NOW) == a.caller and cache.get("c", NOW) == c.caller


def test_forgets_a_token_or_all_of_a_members_tokens() -> None:
    cache = TokenCache(60, monotonic=Ticks())
    member = uuid.uuid4()
    one, two, other = grant(member), grant(member), grant()
    for digest, g in (("one", one), ("two", two), ("other", other)):
        cache.put(digest, g, cache.generation)
    cache.forget_token(one.caller.token_id)
    assert cache.get("one", NOW) is None and cache.get("two", NOW) == two.caller
    cache.forget_member(member)
    assert cache.get("two", NOW) is None and cache.get("other", NOW) == other.caller


def test_ttl_zero_keeps_nothing() -> None:
    cache = TokenCache(0, monotonic=Ticks())
    cache.put("a", grant(), cache.generation)
    assert cache.get("a", NOW) is None and len(cache) == 0


def test_a_lookup_that_began_before_a_revocation_or_demotion_never_caches() -> None:
    cache = TokenCache(60, monotonic=Ticks())
    for forget in ("token", "member"):
        g = grant()
        began = cache.generation  # the lookup reads the database from here...
        if forget == "token":
            cache.forget_token(g.caller.token_id)  # ...while the revocation commits and forgets
        else:
            cache.forget_member(g.caller.member_id)  # ...or the member's role changes
        cache.put("a", g, began)  # what it read may be the token before the change
        assert cache.get("a", NOW) is None and len(cache) == 0
    # Forgetting anyone at all holds back a lookup under way: a revocation is rare, a re-read cheap.
    g, other = grant(), grant()
    began = cache.generation
    cache.forget_token(other.caller.token_id)
    cache.put("a", g, began)
    assert cache.get("a", NOW) is None
    # A lookup that began after the change reads the new state, and is kept.
    cache.put("a", g, cache.generation)
    assert cache.get("a", NOW) == g.caller
