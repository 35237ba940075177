"""The permission table: every action has its roles, and each role's rights are the ones it had."""

from __future__ import annotations

import pytest

from runtime.access import viewer_for
from runtime.permissions import ALLOWED, ROLES, Action, Role, may, roles_that_may

#: What each role may do, written out by role: a change to the table has to change this too.
RIGHTS = {
    # Every right but applying for grants and pushing through the API: an administrator belongs
    # to no department.
    Role.ADMIN: set(Action) - {Action.GRANT_APPLY, Action.EXCHANGE_PUSH},
    Role.KEEPER: {
        Action.ACCOUNT,
        Action.JOBS,
        Action.LEDGER_READ,
        Action.LEDGER_IMPORT,
        Action.RECORD_EDIT,
        Action.REVEAL,
        Action.EXPORT,
        Action.PERSONAL_VALUES,
        Action.WHOLE_DISTRICT,
        Action.WARNINGS,
        Action.CATALOG,
        Action.FEEDS,
    },
    Role.DEPARTMENT: {
        Action.ACCOUNT,
        Action.JOBS,
        Action.LEDGER_READ,
        Action.EXPORT,
        Action.WHOLE_DISTRICT,
        Action.REPORT_AUTHOR,
        Action.DISPATCH,
        Action.SUMMARY,
        Action.CATALOG,
        Action.GRANT_APPLY,
        Action.GRANT_DECIDE,
        Action.PROPOSALS,
        Action.AUDIT,
        Action.EXCHANGE_PUSH,
        Action.FEEDS,
    },
    Role.REVIEWER: {
        Action.ACCOUNT,
        Action.JOBS,
        Action.LEDGER_READ,
        Action.WHOLE_DISTRICT,
        Action.REVIEW,
        Action.CATALOG,
    },
    Role.TOWNSHIP: {
        Action.ACCOUNT,
        Action.JOBS,
        Action.LEDGER_READ,
        Action.EXPORT,
        Action.PERSONAL_VALUES,
        Action.TASK_FILL,
        Action.WARNINGS,
    },
    Role.VILLAGE: {
        Action.ACCOUNT,
        Action.JOBS,
        Action.LEDGER_READ,
        Action.RECORD_EDIT,
        Action.EXPORT,
        Action.PERSONAL_VALUES,
        Action.TASK_FILL,
        Action.WARNINGS,
    },
    Role.LEADER: {
        Action.ACCOUNT,
        Action.JOBS,
        Action.LEDGER_READ,
        Action.WHOLE_DISTRICT,
        Action.DASHBOARD,
        Action.WARNINGS,
        Action.CATALOG,
    },
}


def test_every_action_has_an_entry_and_every_role_a_name():
    assert set(ALLOWED) == set(Action)
    assert set(ROLES) == set(Role)
    assert set(RIGHTS) == set(Role)


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_may_do_what_it_did(role):
    assert {action for action in Action if may(role, action)} == RIGHTS[role]
    # The database holds the plain string; it reads the same as the member.
    assert {action for action in Action if may(str(role.value), action)} == RIGHTS[role]


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.name)
def test_no_one_logged_in_and_unknown_roles_may_do_nothing(action):
    assert not may(None, action)
    assert not may("", action)
    assert not may("superuser", action)
    assert roles_that_may(action) == {role for role in Role if action in RIGHTS[role]}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_scope_follows_the_table(role):
    """District-wide roles read the whole district; the others only the org unit they belong to."""
    viewer = viewer_for(1, role, "500118001001", "village", "500118001")
    if may(role, Action.WHOLE_DISTRICT):
        assert (viewer.township, viewer.village) == (None, None)
    else:
        assert (viewer.township, viewer.village) == ("500118001", "500118001001")
    assert viewer.can_edit is may(role, Action.LEDGER_IMPORT)
    assert viewer.can_edit_records is may(role, Action.RECORD_EDIT)
    assert viewer.can_export is may(role, Action.EXPORT)
    assert viewer.can_reveal is may(role, Action.REVEAL)
