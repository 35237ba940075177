"""What every response carries for the browser's protection: a Content Security Policy (this site
only, no inline script), no framing, no MIME sniffing, same-origin referrers; cookies SameSite=Lax,
HttpOnly, and Secure when the site is served over HTTPS."""

from __future__ import annotations

from flask import Flask, Response, current_app
from werkzeug.middleware.proxy_fix import ProxyFix

from runtime import config

#: Scripts and styles from this site's files only: no inline script or style, no eval. Images may
#: be data: URLs (the favicon is one); nothing may frame a page, post a form elsewhere or load
#: plugins. Chart.js draws on canvas and htmx's indicator styles live in app.css, so nothing more.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Set the cookie flags, trust the configured proxies, and add the headers to every response."""
    app.config.setdefault("HTTPS", config.https())
    app.config.setdefault("PROXIES", config.proxies())
    secure = bool(app.config["HTTPS"])
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
    )
    if hops := int(app.config["PROXIES"]):
        # The client's address (login throttling, audit) and scheme as the proxies saw them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.after_request(_protect)


def _protect(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["HTTPS"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
