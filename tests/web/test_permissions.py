"""Every route × every role (and no one logged in) answers as the permission table says.

The walk reads the app's own URL map, so a route added later is walked too, and a route whose view
names no action (`@requires(Action.X)` or `@public`) fails here as it fails the app's start. URL
arguments are real ids of the seeded demo district (its reports at every step of admission), so an
allowed role gets past the view's 404 and an inline refusal deeper in the view would show.
GET routes are fetched; POST-only routes are posted empty (CSRF is off in the test app): a role
the table refuses gets 403, one it allows gets neither 403 nor 405.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.demo.accounts import DEMO_PASSWORD
from runtime.models import AdmissionRequest, ApiToken, Grant, Job, Record, Report, Task, User
from runtime.permissions import Action, Role, may
from web.auth.guard import PUBLIC, required_action
from web.auth.guard import init_app as check_guards

#: The demo login of each role.
USERS = {
    Role.ADMIN: "admin",
    Role.KEEPER: "keeper",
    Role.DEPARTMENT: "canlian",
    Role.REVIEWER: "reviewer",
    Role.TOWNSHIP: "zhongshanlu",
    Role.VILLAGE: "wangge",
    Role.LEADER: "leader",
}
#: Who asks: no one logged in, then each role.
WHO = [None, *Role]
#: The township (中山路街道) and the village (its first, 网格员 wangge's) the walk reads.
TOWNSHIP, VILLAGE = "500118001", "500118001001"
#: A township that submitted its task of the demo survey (runtime.demo.reports.SUBMITTED).
SUBMITTED = "500118002"
#: Allowed GETs that do not answer 200, and why.
NOT_200 = {
    # The home page sends a logged-in user on to their landing page.
    ("home", role): 302
    for role in Role
} | {
    # Tasks go to townships; a village login sees no township's task (runtime.tasks.drafts.check_open).
    (endpoint, Role.VILLAGE): 404
    for endpoint in ("tasks.grid", "tasks.counts")
}


def _rules() -> list[tuple[str, str, str]]:
    """Return (endpoint, rule, method) of every route: GET where it answers GET, else POST."""
    from web import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "rules"})
    rules = [(r.endpoint, r.rule, "GET" if "GET" in r.methods else "POST") for r in app.url_map.iter_rules()]
    # GETs first: the empty POSTs may change the demo data the GETs read.
    return sorted(rules, key=lambda r: (r[2], r[1]))


RULES = _rules()


@pytest.fixture(scope="module")
def walk(specs, tmp_path_factory):
    """The app on its own seeded district with the demo reports, a logged-in client per role, ids."""
    from runtime.demo.clients import load_demo_clients
    from tests.conftest import close_app, demo_district, make_test_app

    tmp = tmp_path_factory.mktemp("permissions")
    url, engine = demo_district(specs, tmp, "walk")
    load_demo_clients(engine, specs)
    app = make_test_app(url, tmp)
    with Session(engine) as session, session.begin():
        # The demo dispatched one report (区残联's survey); three townships submitted their task.
        survey = session.get(Report, session.scalar(select(Task.report_id).limit(1)))
        task = session.scalar(select(Task).where(Task.report_id == survey.id, Task.org_unit_code == TOWNSHIP))
        submitted = session.scalar(
            select(Task).where(Task.report_id == survey.id, Task.org_unit_code == SUBMITTED)
        )
        values = {
            "code": survey.code,
            "task_id": task.id,
            "ref": str(_first_row(session, specs, task)),
            "submitted_ref": str(_first_row(session, specs, submitted)),
            "record_id": session.scalar(
                select(Record.id).where(Record.ledger == "person", Record.village_code == VILLAGE)
            ),
            "request_id": session.scalar(select(AdmissionRequest.id)),
            "proposal_id": 1,
            # 区残联's pending application (the demo's): the department may withdraw it, not decide it.
            "grant_id": session.scalar(select(Grant.id).where(Grant.status == "pending")),
            # A demo client system (区残联's) and its token: administrators only.
            "client_id": session.scalar(select(ApiToken.client_id).order_by(ApiToken.id).limit(1)),
            "token_id": session.scalar(select(ApiToken.id).order_by(ApiToken.id).limit(1)),
            "ledger": "person",
            "township": TOWNSHIP,
            "unit": SUBMITTED,
            "filename": "app.css",
        }
        jobs = {role: _jobs(session, app, role) for role in Role}
    from builder.early_warnings.rules import load_warning_rules

    values["rule"] = load_warning_rules(specs.root, specs).rules[0].code
    clients = {None: app.test_client()}
    for role, username in USERS.items():
        clients[role] = app.test_client()
        _login(clients[role], username)
    yield app, values, jobs, clients
    close_app(app)
    engine.dispose()


def _first_row(session, specs, task) -> int:
    """Return the record id of the task's first row, as its township reads it."""
    from runtime.access import Viewer
    from runtime.ledgers.store import iter_rows
    from runtime.tasks.prefill import row_query
    from tests.conftest import make_ctx

    conn = session.connection()
    ctx = make_ctx(conn, specs, task, Viewer(None, "township", township=task.org_unit_code))
    return next(iter_rows(conn, row_query(ctx), batch=1))[0]["_id"]


def _jobs(session, app, role: Role) -> dict[str, int]:
    """Give the role's user a finished export and a finished import with its error report."""
    user_id = session.scalar(select(User.id).where(User.username == USERS[role]))
    folders = {key: Path(app.config[key]) for key in ("EXPORT_DIR", "REPORT_DIR")}
    made = {}
    for kind, key, folder in (("export", "path", "EXPORT_DIR"), ("import", "report", "REPORT_DIR")):
        folders[folder].mkdir(parents=True, exist_ok=True)
        path = folders[folder] / f"{role}-{kind}.csv"
        path.write_text("a,b\n1,2\n", encoding="utf-8")
        job = Job(kind=kind, title=kind, status="done", actor_id=user_id, result={key: str(path)})
        session.add(job)
        session.flush()
        made[kind] = job.id
    return made


def _login(client, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, f"{username} could not log in"


def _url(app: Flask, endpoint: str, rule: str, role: Role | None, values: dict, jobs: dict) -> str:
    """Build the route's URL with real arguments of the seeded district for this role."""
    args = {}
    for name in next(app.url_map.iter_rules(endpoint)).arguments:
        if name == "code":
            args[name] = (
                "person" if rule.startswith("/ledgers") else values["rule"] if "warnings" in rule else None
            )
            args[name] = args[name] or values["code"]
        elif name == "job_id":
            args[name] = jobs[role or Role.ADMIN]["import" if endpoint == "jobs.report" else "export"]
        elif name == "name":
            args[name] = "id_number" if endpoint == "ledgers.reveal_value" else "name"
        elif name == "ref":
            args[name] = values["submitted_ref" if endpoint.startswith("summary.") else "ref"]
        else:
            args[name] = values[name]
    with app.test_request_context():
        return url_for(endpoint, **args)


@pytest.mark.parametrize("who", WHO, ids=lambda who: str(who or "anonymous"))
@pytest.mark.parametrize(("endpoint", "rule", "method"), RULES, ids=[f"{m} {r}" for _e, r, m in RULES])
def test_route_answers_as_the_table_says(walk, endpoint, rule, method, who):
    """The route's status for this role is the one its action's entry in the table gives."""
    app, values, jobs, clients = walk
    action = required_action(app.view_functions[endpoint])
    assert action is not None, f"{endpoint} names no action: add @requires(Action.…) or @public"
    client = clients[who]
    url = _url(app, endpoint, rule, who, values, jobs)
    response = client.get(url) if method == "GET" else client.post(url)
    status, location = response.status_code, response.headers.get("Location", "")
    response.close()
    if endpoint == "auth.logout" and who is not None:
        _login(client, USERS[who])
    to_login = status == 302 and location.startswith("/login")
    if endpoint.startswith("api_") and action != PUBLIC:
        # The exchange API takes client tokens only: a logged-in person's cookie is no token
        # (tests/web/api check each token's department against the table).
        assert status == 401
    elif action == PUBLIC:
        assert status != 403 and status < 500
    elif who is None:
        assert to_login, f"{status} {location}: an anonymous request goes to the login page"
    elif not may(who, action):
        assert status == 403
    elif method == "GET":
        assert status == NOT_200.get((endpoint, who), 200), location
    else:
        assert status not in (401, 403, 405) and not to_login and status < 500, status


def test_every_role_has_a_login():
    assert set(USERS) == set(Role)


def test_an_unguarded_view_stops_the_app_from_starting():
    app = Flask(__name__)
    app.add_url_rule("/open", "open", lambda: "open")
    with pytest.raises(RuntimeError, match="open"):
        check_guards(app)


#: The navigation each role sees, as it was written out by role before it was read from the table.
NAV = {
    Role.ADMIN: [
        "台账",
        "导入",
        "报表",
        "审核",
        "任务",
        "看板",
        "预警",
        "数据目录",
        "审计日志",
        "授权审批",
        "待审变更",
        "对接系统",
        "数据对接",
    ],
    Role.KEEPER: ["台账", "导入", "预警", "数据目录", "数据对接"],
    Role.DEPARTMENT: ["台账", "报表", "数据目录", "审计日志", "授权申请", "授权审批", "待审变更", "数据对接"],
    Role.REVIEWER: ["台账", "审核", "数据目录"],
    Role.TOWNSHIP: ["台账", "任务", "预警"],
    Role.VILLAGE: ["台账", "任务", "预警"],
    Role.LEADER: ["台账", "看板", "预警", "数据目录"],
}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_navigation_shows_what_the_role_may_open(walk, role):
    import re

    _app, _values, _jobs, clients = walk
    page = clients[role].get("/ledgers").get_data(as_text=True)
    nav = page.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    # An entry may carry a count of what waits there (<span class="nav-count">): its label is the text before.
    assert re.findall(r"<a [^>]*>([^<]+?)\s*(?:<span[^>]*>\d+</span>)?</a>", nav) == NAV[role]


def test_every_action_guards_a_route_or_a_rule(walk):
    """An action no view requires is a right the web never checks: it must be a runtime rule then."""
    app = walk[0]
    guarded = {required_action(view) for view in app.view_functions.values()}
    runtime_only = {Action.PERSONAL_VALUES, Action.WHOLE_DISTRICT, Action.ANY_DEPARTMENT}
    assert set(Action) - guarded == runtime_only
