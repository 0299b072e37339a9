"""Counters and pauses in the shared cache, for the sign-in and password-reset throttles.

The cache is Redis when SERVIO_REDIS_URL is set (shared by every process), else this process's
memory (enough for one `servio run` process; several workers need Redis to share the counts).
Keys are hashes of what they count (account names, addresses), never the values themselves.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.core.cache import cache

PREFIX = "servio:limit"


def _key(kind: str, scope: str, ident: str) -> str:
    digest = hashlib.sha256(f"{scope}\x1f{ident}".encode()).hexdigest()[:40]
    return f"{PREFIX}:{kind}:{scope}:{digest}"


def count(scope: str, ident: str, *, window: int, sliding: bool = True) -> int:
    """Add one to the counter of `ident` in `scope` and return it.

    The counter is forgotten `window` seconds after its last hit (`sliding`) or after its first.
    Increments are atomic (Redis INCR; the local cache locks), so parallel requests each count.
    """
    key = _key("n", scope, ident)
    cache.add(key, 0, window)
    try:
        value = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        value = 1
    if sliding:
        cache.touch(key, window)
    return int(value)


def pause(scope: str, ident: str, seconds: int) -> None:
    """Refuse `ident` in `scope` for the next `seconds`."""
    cache.set(_key("until", scope, ident), time.time() + seconds, seconds)


def paused(keys: dict[str, tuple[str, str]]) -> dict[str, int]:
    """For each name -> (scope, ident), the seconds its pause still lasts (paused ones only),
    read in one round trip."""
    wanted = {name: _key("until", scope, ident) for name, (scope, ident) in keys.items()}
    found = cache.get_many(list(wanted.values()))
    now = time.time()
    waits = {}
    for name, key in wanted.items():
        until = found.get(key)
        if until is not None and until > now:
            waits[name] = max(1, math.ceil(until - now))
    return waits


def first(scope: str, ident: str, *, window: int) -> bool:
    """True the first time it is asked for `ident` in `scope` within `window` seconds (to log
    a throttle once, not once per refused request)."""
    return bool(cache.add(_key("seen", scope, ident), 1, window))


def clear(scope: str, ident: str) -> None:
    """Forget the counter and the pause of `ident` in `scope`."""
    cache.delete_many([_key("n", scope, ident), _key("until", scope, ident)])
