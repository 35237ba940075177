"""The `tasks` blueprint, and the request's task: loaded once, within the viewer's org unit, or 404.

`views` (the grid, cell saves, dispatch) and `actions` (submit, the .xlsx, return) both add
their routes to this blueprint.
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from runtime.models import Report, Task
from runtime.tasks.context import TaskContext, task_context
from web import database

bp = Blueprint("tasks", __name__, template_folder="templates", url_prefix="/tasks")


def load_task(task_id: int) -> tuple[TaskContext, Report]:
    """Return the context of a task within the viewer's org unit, and its report (404 otherwise)."""
    db = database.session()
    task = db.get(Task, task_id)
    if task is None:
        abort(404)
    ctx = task_context(db.connection(), database.specs(), task, current_user.viewer)
    if not ctx.viewer.sees(ctx.scope.township, ctx.scope.village):
        abort(404)
    return ctx, db.get(Report, task.report_id)
