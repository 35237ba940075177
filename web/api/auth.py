"""Bearer tokens of client systems: who calls, as which department, and may it do this.

Every API view says which Action it serves (`@endpoint(Action.X)`, the same permission table as
the pages); the client reads and writes as its department (`runtime.exchange.clients`). The token
is never logged: it travels in a header, and only its hash is looked up or kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from runtime.access import Viewer
from runtime.exchange.clients import ClientIdentity, authenticate, client_viewer
from runtime.permissions import Action, may
from web import database
from web.api.problems import problem
from web.auth.guard import mark

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Caller:
    """The client system behind this request and the Viewer it reads and writes as."""

    identity: ClientIdentity
    viewer: Viewer


def bearer_token() -> str | None:
    """Return the token of the Authorization header, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def rate_key() -> str:
    """Return what the rate limit counts by: the token (by its hash), else the caller's address."""
    token = bearer_token()
    if token:
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return "addr:" + (request.remote_addr or "")


def caller() -> Caller:
    """Return this request's caller (set by `endpoint` before the view runs)."""
    return g.api_caller


def endpoint(action: Action) -> Callable[[View], View]:
    """Let only a valid token whose department may do `action` reach the view (401, else 403)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            token = bearer_token()
            conn = database.session().connection()
            identity = authenticate(conn, token) if token else None
            if identity is None:
                return problem(401, "token_invalid" if token else "token_missing")
            viewer = client_viewer(conn, identity)
            if not may(viewer.role, action):
                return problem(403)
            g.api_caller = Caller(identity, viewer)
            return view(*args, **kwargs)

        return mark(guarded, action)

    return decorator
