"""The burden dashboard (减负看板) for leaders and admins: figures, charts, a table per month, export."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, render_template, request

from runtime.ledgers.exports import neutralize
from runtime.permissions import Action
from runtime.reports.burden import Burden, UnitMonth, burden
from web import database
from web.auth.guard import requires

bp = Blueprint("dashboard", __name__, template_folder="templates", url_prefix="/dashboard")


def _month(figures: Burden) -> str | None:
    """Return the month asked for, else the latest month with figures."""
    months = [m.month for m in figures.months]
    asked = request.args.get("month", "")
    return asked if asked in months else (months[-1] if months else None)


@bp.get("/")
@requires(Action.DASHBOARD)
def index():
    """Show the figures of one month by township and department, and every month as charts."""
    figures = burden(database.session().connection(), database.specs())
    month = _month(figures)
    return render_template(
        "dashboard/index.html",
        figures=figures,
        month=month,
        current=next((m for m in figures.months if m.month == month), None),
        units=[u for u in figures.units if u.month == month],
        departments=[d for d in figures.departments if d.month == month],
        chart=_chart(figures),
    )


def _chart(figures: Burden) -> dict[str, Any]:
    """Return what the charts draw: per month received vs extracted, and the pre-fill rate."""
    return {
        "months": [m.month for m in figures.months],
        "received": [m.received for m in figures.months],
        "extracted": [m.extracted for m in figures.months],
        "rate": [
            round(100 * m.prefill_rate, 1) if m.prefill_rate is not None else None for m in figures.months
        ],
    }


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _rate(line: UnitMonth) -> str:
    return "" if line.prefill_rate is None else f"{100 * line.prefill_rate:.1f}%"


@bp.get("/export.csv")
@requires(Action.DASHBOARD)
def export():
    """Download every month's figures by township, and by department, as CSV (Excel opens it)."""
    figures = burden(database.session().connection(), database.specs())
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(
        ["月份", "镇街", "收到报表", "改由台账提取", "预填格数", "填写格数", "预填率", "提交中位用时（小时）"]
    )
    for line in [*figures.months, *figures.units]:
        writer.writerow(
            [
                line.month,
                neutralize(line.name),
                line.received,
                line.extracted,
                line.prefilled,
                line.typed,
                _rate(line),
                _hours(line.median_hours),
            ]
        )
    writer.writerow([])
    writer.writerow(["月份", "部门", "提交准入申请", "准入", "不予准入", "退回修改"])
    for d in figures.departments:
        writer.writerow([d.month, neutralize(d.department), d.filed, d.admitted, d.rejected, d.returned])
    writer.writerow([])
    writer.writerow(["下派月份", "下派到部门看到完整汇总的中位用时（小时）"])
    for month, hours in figures.summary_hours.items():
        writer.writerow([month, _hours(hours)])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=burden.csv"},
    )
