"""Who may do what: the roles, and the one table of actions and the roles allowed each.

This is the single place where "who may" is decided. The web's guard (`@requires(Action.X)` on
every view) and its navigation read it, and so do the run-time checks (admission decisions, task
drafts, bulk export), the scope a role reads (`runtime.access.Viewer`) and masking. Grants that
extend a role's rights belong here too, never in a view.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from types import MappingProxyType


class Role(StrEnum):
    """A user's role; its value is what `users.role` holds."""

    ADMIN = "admin"
    KEEPER = "keeper"
    DEPARTMENT = "department"
    REVIEWER = "reviewer"
    TOWNSHIP = "township"
    VILLAGE = "village"
    LEADER = "leader"


#: Role code → (Chinese name, what the role does).
ROLES = {
    Role.ADMIN: ("系统管理员", "用户、组织机构与授权"),
    Role.KEEPER: ("数据管理岗", "导入与维护台账，管理数据元目录"),
    Role.DEPARTMENT: ("部门管理员", "设计临时报表、申请准入、下派与汇总"),
    Role.REVIEWER: ("准入审核员", "审核报表准入申请"),
    Role.TOWNSHIP: ("镇街填报员", "查看本镇街台账，填报任务"),
    Role.VILLAGE: ("村（社区）网格员", "走访更新本村（社区）台账"),
    Role.LEADER: ("领导", "查看减负成效与数据看板"),
}


class Action(Enum):
    """Something a user may do; the value names it for logs and (later) the grants screen."""

    #: Change one's own password.
    ACCOUNT = "account"
    #: Follow one's own background jobs and download what they wrote.
    JOBS = "jobs"
    #: Browse the ledgers and their records (within one's scope).
    LEDGER_READ = "ledger.read"
    #: Import ledger files and change ledgers district-wide.
    LEDGER_IMPORT = "ledger.import"
    #: Correct single records by hand: keepers anywhere, grid workers in their village during
    #: door-to-door visits (日常走访).
    RECORD_EDIT = "record.edit"
    #: Ask for a masked value in clear (audited).
    REVEAL = "record.reveal"
    #: Export ledgers in bulk (one's own scope, masked as on one's pages).
    EXPORT = "ledger.export"
    #: See personal values (names, addresses) unmasked: the roles that work with people face to face.
    PERSONAL_VALUES = "record.personal"
    #: Read the whole district; the other roles read only their own org unit.
    WHOLE_DISTRICT = "scope.district"
    #: Design reports, import templates, file reports for admission.
    REPORT_AUTHOR = "report.author"
    #: Act on every department's reports and decide every proposed change, not only one's own department's.
    ANY_DEPARTMENT = "report.any_department"
    #: Judge admission requests.
    REVIEW = "report.review"
    #: Dispatch an admitted report to the townships and return a task to its township.
    DISPATCH = "report.dispatch"
    #: Read a dispatched report's summary and export or extract its data.
    SUMMARY = "report.summary"
    #: Fill tasks (admins may look at any).
    TASK_FILL = "task.fill"
    #: Read the burden dashboard.
    DASHBOARD = "dashboard"
    #: Read the early warnings (townships and villages: their own records).
    WARNINGS = "warnings"
    #: Read the data catalog: each element's owner, sharing type, sensitivity and source.
    CATALOG = "catalog.read"
    #: Apply for grants of other departments' elements (按需申请) and follow one's applications.
    GRANT_APPLY = "grant.apply"
    #: Approve, narrow, refuse and revoke grants of one's department's elements (admins: of any).
    GRANT_DECIDE = "grant.decide"
    #: Accept or reject changes others propose to one's department's elements (admins: to any). Write-back
    #: conflicts (a township's value against a newer ledger value) are proposals too, in the same queue.
    PROPOSALS = "proposal.decide"
    #: Read the audit log: admins all of it, a department who read its data and its grants' steps.
    AUDIT = "audit.read"
    #: Push ledger values through the exchange API: a department's client system (对接系统), which
    #: acts as its department: its own elements are written, others' become proposals to their owners.
    EXCHANGE_PUSH = "exchange.push"
    #: Register client systems and issue or revoke their tokens.
    CLIENTS = "exchange.clients"
    #: Read the feeds page: each client's pushes and pulls, and how fresh each element is.
    FEEDS = "exchange.feeds"


_EVERYONE = frozenset(Role)
_KEEPERS = frozenset({Role.ADMIN, Role.KEEPER})
_AUTHORS = frozenset({Role.ADMIN, Role.DEPARTMENT})

#: Action → the roles that may do it.
ALLOWED: MappingProxyType[Action, frozenset[Role]] = MappingProxyType(
    {
        Action.ACCOUNT: _EVERYONE,
        Action.JOBS: _EVERYONE,
        Action.LEDGER_READ: _EVERYONE,
        Action.LEDGER_IMPORT: _KEEPERS,
        Action.RECORD_EDIT: _KEEPERS | {Role.VILLAGE},
        Action.REVEAL: _KEEPERS,
        # Not the reviewer, who judges report requests, nor the leader, who reads dashboards.
        Action.EXPORT: _EVERYONE - {Role.REVIEWER, Role.LEADER},
        Action.PERSONAL_VALUES: _KEEPERS | {Role.TOWNSHIP, Role.VILLAGE},
        Action.WHOLE_DISTRICT: _EVERYONE - {Role.TOWNSHIP, Role.VILLAGE},
        Action.REPORT_AUTHOR: _AUTHORS,
        Action.ANY_DEPARTMENT: frozenset({Role.ADMIN}),
        Action.REVIEW: frozenset({Role.ADMIN, Role.REVIEWER}),
        Action.DISPATCH: _AUTHORS,
        Action.SUMMARY: _AUTHORS,
        Action.TASK_FILL: frozenset({Role.ADMIN, Role.TOWNSHIP, Role.VILLAGE}),
        Action.DASHBOARD: frozenset({Role.ADMIN, Role.LEADER}),
        Action.WARNINGS: _KEEPERS | {Role.LEADER, Role.TOWNSHIP, Role.VILLAGE},
        # Those who read the district's ledgers, and must know whose data they are and how shared.
        Action.CATALOG: _EVERYONE - {Role.TOWNSHIP, Role.VILLAGE},
        Action.GRANT_APPLY: frozenset({Role.DEPARTMENT}),
        Action.GRANT_DECIDE: _AUTHORS,
        Action.PROPOSALS: _AUTHORS,
        Action.AUDIT: _AUTHORS,
        Action.EXCHANGE_PUSH: frozenset({Role.DEPARTMENT}),
        Action.CLIENTS: frozenset({Role.ADMIN}),
        Action.FEEDS: _KEEPERS | {Role.DEPARTMENT},
    }
)


def may(role: str | None, action: Action) -> bool:
    """Tell whether a user of `role` may do `action` (no role: no one logged in, never)."""
    return role is not None and role in ALLOWED[action]


def roles_that_may(action: Action) -> frozenset[Role]:
    """Return the roles that may do `action`."""
    return ALLOWED[action]
