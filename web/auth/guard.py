"""The one guard of every view: `@requires(Action.X)` or `@public`, read from `runtime.permissions`.

Every view says which action it serves; the guard sends an anonymous user to the login page
(htmx: the whole page) and answers 403 to a role the permission table does not allow. The app
refuses to start with a view that says neither, so a new route cannot slip in unguarded.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app
from flask_login import current_user

from runtime.permissions import Action, may

View = TypeVar("View", bound=Callable[..., Any])
#: The attribute a guarded view carries: the Action it requires, or PUBLIC.
_MARK = "required_action"
#: What a public view carries instead of an Action.
PUBLIC = "public"


def requires(action: Action) -> Callable[[View], View]:
    """Let only logged-in users whose role may do `action` reach the view (login page, else 403)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not may(current_user.role, action):
                abort(403)
            return view(*args, **kwargs)

        setattr(guarded, _MARK, action)
        return guarded  # type: ignore[return-value]

    return decorator


def mark(view: View, action: Action | str) -> View:
    """Mark a view with the Action it requires when another guard checks it (the API's tokens)."""
    setattr(view, _MARK, action)
    return view


def public(view: View) -> View:
    """Mark a view open to everyone, logged in or not."""
    setattr(view, _MARK, PUBLIC)
    return view


def required_action(view: Callable[..., Any]) -> Action | str | None:
    """Return the Action a view requires, PUBLIC for a public view, or None for an unguarded one."""
    return getattr(view, _MARK, None)


def unguarded(app: Flask) -> list[str]:
    """Return the endpoints of the app whose view is neither guarded nor marked public."""
    return sorted(name for name, view in app.view_functions.items() if required_action(view) is None)


def init_app(app: Flask) -> None:
    """Mark Flask's static files public and refuse to start with an unguarded view."""
    if "static" in app.view_functions:
        public(app.view_functions["static"])
    if missing := unguarded(app):
        raise RuntimeError(f"views with neither @requires(Action…) nor @public: {', '.join(missing)}")
