"""The package's one bounded cache: least recently used out first, expired entries gone."""

from __future__ import annotations

import time

import pytest

from prefect_nextcloud._cache import BoundedCache


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: BoundedCache[str, int] = BoundedCache(3)
    for number, key in enumerate("abc"):
        cache.put(key, number)
    assert cache.get("a") == 0  # now the most recently used
    cache.put("d", 3)
    assert list(cache) == ["c", "a", "d"]
    assert "b" not in cache
    assert len(cache) == 3


def test_get_or_put_makes_a_value_once() -> None:
    cache: BoundedCache[str, list[int]] = BoundedCache(2)
    made = cache.get_or_put("a", list)
    made.append(1)
    assert cache.get_or_put("a", list) == [1]
    assert cache.pop("a") == [1]
    assert cache.pop("a") is None


def test_add_tells_whether_a_key_is_new() -> None:
    cache: BoundedCache[str, bool] = BoundedCache(2)
    assert cache.add("a", True)
    assert not cache.add("a", True)
    cache.put("b", True)
    cache.put("c", True)  # "a" was used least recently
    assert cache.add("a", True)


def test_an_entry_with_a_lifetime_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    cache: BoundedCache[str, int] = BoundedCache(10)
    cache.put("short", 1, ttl_seconds=5)
    cache.put("forever", 2)
    clock[0] += 4.9
    assert cache.get("short") == 1
    clock[0] += 0.1
    assert cache.get("short") is None
    cache.put("other", 3, ttl_seconds=1)
    clock[0] += 1
    cache.put("new", 4)  # a put drops what has expired
    assert list(cache) == ["forever", "new"]


def test_a_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="maxsize must be at least 1"):
        BoundedCache(0)
