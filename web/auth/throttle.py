"""Login throttling: failed logins counted per account and per client address, in Flask-Limiter's
storage (Redis when REDIS_URL is set, so every process counts together; else each process's memory).

Only failures count: on a deadline day hundreds of people log in from one NAT address, and a
success is never refused. So the views check and count here themselves rather than through
Flask-Limiter's decorators, which count every request and refuse with an error page: a refusal is
the form again, answered 429, with its Chinese message next to the field.
"""

from __future__ import annotations

import logging
import math
import time
from functools import lru_cache

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter, RateLimiter

from runtime import config

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Give the app its own limiter on Redis (REDIS_URL) or in memory, and the login limits."""
    app.config.setdefault("LOGIN_LIMIT_ACCOUNT", config.login_limit_account())
    app.config.setdefault("LOGIN_LIMIT_ADDRESS", config.login_limit_address())
    for name in ("LOGIN_LIMIT_ACCOUNT", "LOGIN_LIMIT_ADDRESS"):
        _limit(app.config[name])  # a malformed limit stops the start, not a login
    limiter = Limiter(
        get_remote_address,
        storage_uri=app.config.get("REDIS_URL") or "memory://",
        # The deployment's queue name keeps two deployments on one Redis apart.
        storage_options={
            "key_prefix": f"{app.config.get('JOBS_QUEUE') or 'yibiaotong'}:login",
            "wrap_exceptions": True,
            "socket_timeout": 2,
            "socket_connect_timeout": 2,
        },
        # A moving window: the lock lasts until the oldest counted failure is a window old.
        strategy="moving-window",
    )
    limiter.init_app(app)
    app.extensions["login_throttle"] = {
        "limiter": limiter,
        # Where the counts go while Redis cannot be reached: logins go on, throttled per process.
        "fallback": MovingWindowRateLimiter(MemoryStorage()),
    }


@lru_cache(maxsize=16)
def _limit(text: str) -> RateLimitItem:
    return parse(text)


def _checks(username: str) -> list[tuple[RateLimitItem, str, str]]:
    account = username.strip().casefold()[:64] or "-"
    return [
        (_limit(current_app.config["LOGIN_LIMIT_ACCOUNT"]), "account", account),
        (_limit(current_app.config["LOGIN_LIMIT_ADDRESS"]), "address", request.remote_addr or "-"),
    ]


def _run(action):
    ext = current_app.extensions["login_throttle"]
    strategy: RateLimiter = ext["limiter"].limiter
    try:
        return action(strategy)
    except StorageError as exc:
        log.warning("登录限流的存储不可用，暂用本进程内存计数：%s", exc.storage_error)
        return action(ext["fallback"])


def refused_minutes(username: str) -> int | None:
    """Return in how many minutes `username`, or this client's address, may try again; None: now."""

    def check(strategy: RateLimiter) -> int | None:
        waits = [
            strategy.get_window_stats(item, *keys).reset_time - time.time()
            for item, *keys in _checks(username)
            if not strategy.test(item, *keys)
        ]
        return max(1, math.ceil(max(waits) / 60)) if waits else None

    return _run(check)


def count_failure(username: str) -> None:
    """Count one failed login against `username` and against this client's address."""

    def hit(strategy: RateLimiter) -> None:
        for item, *keys in _checks(username):
            strategy.hit(item, *keys)

    _run(hit)
