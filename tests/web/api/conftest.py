"""Fixtures of the exchange API: client systems with tokens, and a test client that sends them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from runtime.exchange.clients import issue_token, register_client
from runtime.models import ApiClient, Department


def make_token(
    engine, department: str, name: str | None = None, *, expires_at: datetime | None = None
) -> str:
    """Register a client system of the department (by code) and return a new token of it."""
    with Session(engine) as session, session.begin():
        conn = session.connection()
        department_id = conn.execute(select(Department.id).where(Department.code == department)).scalar_one()
        name = name or f"{department} 测试系统"
        client_id = conn.execute(select(ApiClient.id).where(ApiClient.name == name)).scalar()
        if client_id is None:
            client_id = register_client(conn, name=name, department_id=department_id, actor_id=None)
        _token_id, token = issue_token(conn, client_id, actor_id=None, expires_at=expires_at)
    return token


@contextmanager
def served(app) -> Iterator[str]:
    """Serve the app over real HTTP on a free local port in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.daemon_threads = True
    server.block_on_close = False  # an idle keep-alive connection must not hold the test up
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


class ApiCaller:
    """A Flask test client that sends one token with every request."""

    def __init__(self, client, token: str | None):
        """Keep the client and the token."""
        self.client = client
        self.token = token

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Return the request headers: the token, and any others."""
        base = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return base | (extra or {})

    def get(self, path: str, headers: dict[str, str] | None = None, **params):
        """GET an API path with query parameters."""
        return self.client.get(path, query_string=params, headers=self.headers(headers))

    def post(self, path: str, *, data=None, json=None, headers=None, content_type=None, **params):
        """POST to an API path: a JSON document, or raw data of a content type."""
        return self.client.post(
            path,
            query_string=params,
            data=data,
            json=json,
            content_type=content_type,
            headers=self.headers(headers),
        )


@pytest.fixture
def api_as(app):
    """Return a caller factory: `api_as("canlian")` calls as a client system of 区残联."""
    engine = app.extensions["yibiaotong"]["engine"]
    client = app.test_client()
    return lambda department, **kw: ApiCaller(client, make_token(engine, department, **kw))
