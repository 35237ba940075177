"""Every role's main pages in Chromium under the Content Security Policy: no violation, no script
error; the behaviour moved out of inline handlers (autosubmit, the reveal button) still works."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.demo.load import seed
from runtime.models import Report, Task
from runtime.tasks.dispatch import dispatch

pytestmark = pytest.mark.browser

#: (username, landing page) of one user of each role.
ROLES = [
    ("admin", "/ledgers"),
    ("keeper", "/ledgers"),
    ("canlian", "/reports/"),
    ("reviewer", "/review/"),
    ("zhongshanlu", "/tasks/"),
    ("wangge", "/tasks/"),
    ("leader", "/dashboard/"),
]


@pytest.fixture
def district(engine, specs, admit_report, actor_of):
    """The tiny district with the sample report dispatched; its code and 中山路街道's task id."""
    seed(engine, specs, "tiny", 7)
    code = admit_report(engine)
    with Session(engine) as session, session.begin():
        report = session.scalar(select(Report).where(Report.code == code))
        dispatch(session, specs, report, actor_of(session, "canlian"))
        task = session.scalar(
            select(Task.id).where(Task.report_id == report.id, Task.org_unit_code == "500118001")
        )
    return code, task


class Watched:
    """A page whose CSP violations and script errors are collected."""

    def __init__(self, browser, base: str):
        """Open a page and listen to its console and errors."""
        self.base = base
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"{self.page.url}: {exc}"))

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.problems.append(f"{self.page.url}: {message.text}")

    def open(self, path: str) -> None:
        """Go to `path` and wait until it (and its htmx loads) settled."""
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")

    def sign_in(self, username: str, lands_on: str) -> None:
        """Log in through the form."""
        self.open("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", "yibiaotong")
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.base + lands_on)
        self.page.wait_for_load_state("networkidle")

    def nav_paths(self) -> list[str]:
        """The paths of the main navigation."""
        hrefs = self.page.eval_on_selector_all("nav.mainnav a", "els => els.map(e => e.getAttribute('href'))")
        return hrefs + ["/account/password"]


def test_every_role_s_main_pages_run_under_the_csp(browser, engine, serve, district, find_record):
    """Each role's landing page and navigation, the record, task, summary and dashboard pages."""
    code, task = district
    base = serve(engine.url.render_as_string(hide_password=False))
    extra = {
        "keeper": [
            f"/ledgers/person/records/{find_record(engine, 'person', has='id_number')}",
            "/ledgers/person",
        ],
        "canlian": [f"/reports/{code}/", f"/reports/{code}/summary"],
        "zhongshanlu": [f"/tasks/{task}"],
    }
    seen = []
    for username, landing in ROLES:
        watched = Watched(browser, base)
        watched.sign_in(username, landing)
        for path in watched.nav_paths() + extra.get(username, []):
            watched.open(path)
            seen.append(path)
        assert watched.problems == [], username
        watched.page.close()
    assert {"/dashboard/", f"/reports/{code}/summary", f"/tasks/{task}", "/warnings/"} <= set(seen)


def test_charts_autosubmit_and_the_reveal_button_work_without_inline_script(
    browser, engine, serve, district, find_record
):
    """Chart.js draws, a changed select or checkbox submits its form, a revealed value's button goes."""
    code, task = district
    base = serve(engine.url.render_as_string(hide_password=False))

    leader = Watched(browser, base)
    leader.sign_in("leader", "/dashboard/")
    leader.page.wait_for_function(
        "() => window.Chart && document.querySelector('canvas') "
        "&& Chart.getChart(document.querySelector('canvas'))"
    )
    options = leader.page.eval_on_selector_all("#month option", "els => els.map(e => e.value)")
    if len(options) > 1:
        with leader.page.expect_navigation():
            leader.page.select_option("#month", options[-1])
        assert f"month={options[-1]}" in leader.page.url

    department = Watched(browser, base)
    department.sign_in("canlian", "/reports/")
    department.open(f"/reports/{code}/summary")
    with department.page.expect_navigation():
        department.page.check("input[name=live]")
    assert "live=1" in department.page.url

    filler = Watched(browser, base)
    filler.sign_in("zhongshanlu", "/tasks/")
    filler.open(f"/tasks/{task}")
    with filler.page.expect_navigation():
        filler.page.check("input[name=gaps]")
    assert "gaps=1" in filler.page.url

    keeper = Watched(browser, base)
    keeper.sign_in("keeper", "/ledgers")
    rid = find_record(engine, "person", has="id_number")
    keeper.open(f"/ledgers/person/records/{rid}")
    button = keeper.page.locator("button[hx-post$='/reveal/id_number']")
    button.click()
    keeper.page.wait_for_selector("span.value.revealed")
    assert button.count() == 0, "the button goes once the value is shown"

    for watched in (leader, department, filler, keeper):
        assert watched.problems == []
