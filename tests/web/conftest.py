"""Fixtures of the web tests: writable folders, a fresh seeded app, record lookups."""

from __future__ import annotations

import json
import os
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import close_app

#: Debian's Chromium, which Playwright drives (it cannot download browsers here).
CHROMIUM = Path("/usr/bin/chromium")


def pytest_collection_modifyitems(config, items):
    """Skip browser tests without Chromium, except in CI (YIBIAOTONG_REQUIRE_ALL): there they fail."""
    if CHROMIUM.exists() or os.environ.get("YIBIAOTONG_REQUIRE_ALL"):
        return
    skip = pytest.mark.skip(reason="没有 /usr/bin/chromium：跳过浏览器测试")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture
def serve(tmp_path):
    """Return a function serving the app on a database URL (CSRF on) on a free port; its base URL."""
    from werkzeug.serving import make_server

    from web import create_app

    running = []

    def start(url: str) -> str:
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "browser-test",
                "JOBS_IN_BACKGROUND": True,
                "REDIS_URL": None,
                "EXPORT_DIR": str(tmp_path / "exports"),
                "UPLOAD_DIR": str(tmp_path / "uploads"),
                "REPORT_DIR": str(tmp_path / "reports"),
            }
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread, app))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread, app in running:
        server.shutdown()
        thread.join(5)
        server.server_close()
        close_app(app)  # the jobs its pages started end before the database goes


@pytest.fixture
def browser():
    """A headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def sign_in():
    """Return a function logging a Playwright page in through the form and waiting for the landing."""

    def sign_in(page, base: str, username: str, lands_on: str) -> None:
        page.goto(base + "/login")
        page.fill("#username", username)
        page.fill("#password", "yibiaotong")
        page.click("button[type=submit]")
        page.wait_for_url(base + lands_on)

    return sign_in


@pytest.fixture
def fresh_app(engine, specs, make_app):
    """A web app on its own freshly seeded tiny district, for tests that change records."""
    from runtime.demo.load import seed

    seed(engine, specs, "tiny", 7)
    app = make_app(engine.url.render_as_string(hide_password=False))
    yield app
    close_app(app)


@pytest.fixture
def fresh_client(fresh_app):
    """A test client of the fresh app."""
    return fresh_app.test_client()


@pytest.fixture
def fresh_auth(fresh_client, auth):
    """Login helper (the shared `auth` helper's class) bound to the fresh client."""
    return type(auth)(fresh_client)


@pytest.fixture
def blank_app(engine, make_app):
    """A web app on a fresh database with users but no ledger records (reports, reviews)."""
    app = make_app(engine.url.render_as_string(hide_password=False))
    yield app
    close_app(app)


@pytest.fixture
def web(blank_app, auth):
    """A client of the blank app and its login helper."""
    client = blank_app.test_client()
    return client, type(auth)(client)


@pytest.fixture
def find_record():
    """Return a function giving the id of the first record of a ledger matching conditions."""
    from runtime.models import Record

    def find(
        engine,
        ledger: str,
        *,
        township: str | None = None,
        not_township: str | None = None,
        has: str | None = None,
    ) -> int:
        stmt = select(Record.id, Record.data).where(Record.ledger == ledger).order_by(Record.id)
        if township:
            stmt = stmt.where(Record.township_code == township)
        if not_township:
            stmt = stmt.where(Record.township_code != not_township)
        with engine.connect() as conn:
            for rid, data in conn.execute(stmt):
                if isinstance(data, str):
                    data = json.loads(data)
                if has is None or data.get(has) not in (None, ""):
                    return rid
        raise LookupError(f"no {ledger} record with {township=} {not_township=} {has=}")

    return find


class _FormReader(HTMLParser):
    """Collect what a browser would submit from the first form with a `version` field."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "file"):
            self.values[a["name"]] = a.get("value") or ""
        elif tag == "select" and a.get("name"):
            self._select, self._first_option = a["name"], None
            self.values[a["name"]] = ""
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value") or ""
            if "selected" in a:
                self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


@pytest.fixture
def form_values():
    """Return a function reading the submittable values of a page's form."""

    def read(html: str) -> dict[str, str]:
        reader = _FormReader()
        reader.feed(html)
        return reader.values

    return read


@pytest.fixture
def admit_report(admit_sample):
    """Return a function that creates, files and admits a sample report on an engine; its code."""
    from sqlalchemy.orm import Session

    from runtime.ledgers.holdings import forget

    def admit(engine, sample="disability_survey", username="canlian", **overrides) -> str:
        forget()
        with Session(engine) as session, session.begin():
            return admit_sample(session, sample, username, **overrides).code

    return admit


@pytest.fixture
def township_task(browser, engine, specs, serve, admit_report, sign_in):
    """Return a function: seed, admit a report, dispatch it in the browser, open 中山路街道's task.

    It gives the page (on the task grid, signed in as the township filler), the base URL, the
    report's code and the list collecting the page's script errors.
    """
    from runtime.demo.load import seed

    def open_task(viewport=(1280, 800), **report):
        seed(engine, specs, "tiny", 7)
        code = admit_report(engine, **report)
        base = serve(engine.url.render_as_string(hide_password=False))
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "canlian", "/reports/")
        page.goto(f"{base}/reports/{code}/")
        page.click("text=一键下派到全部 23 个镇街")
        page.wait_for_selector("text=已下派到 23 个镇街")
        page.click("header form button[type=submit]")
        sign_in(page, base, "zhongshanlu", "/tasks/")
        page.click("table.task-list a")
        page.wait_for_selector("table.task-grid")
        return page, base, code, errors

    return open_task
