"""The burden dashboard: who may read it, its figures after a submission, the CSV export."""

import csv
import io
import re

from sqlalchemy import select

from runtime.models import Task

ZHONGSHANLU = "500118001"
SMALL = {
    "properties": {
        "name": {"x-element": "person.name"},
        "visited": {"title": "是否已走访", "type": "boolean"},
    },
    "required": ["name"],
    "x-justification": "核对走访情况",
}


def test_a_submission_shows_on_the_dashboard_and_in_its_export(
    fresh_client, fresh_auth, engine, admit_report
):
    code = admit_report(engine, **SMALL)
    fresh_auth.login("canlian")
    fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "chosen", "unit": [ZHONGSHANLU]})
    fresh_auth.login("zhongshanlu")
    with engine.connect() as conn:
        task_id = conn.scalar(select(Task.id))
    grid = fresh_client.get(f"/tasks/{task_id}").get_data(as_text=True)
    rid = re.search(r'id="row-g(\d+)"', grid).group(1)
    fresh_client.post(
        f"/tasks/{task_id}/rows/{rid}",
        headers={"HX-Request": "true"},
        data={"_field": ["visited"], "_version": "0", "visited": "是"},
    )
    assert fresh_client.post(f"/tasks/{task_id}/submit").status_code == 302
    with engine.connect() as conn:
        prefilled, rows = conn.execute(select(Task.cells_prefilled, Task.rows_total)).one()
    assert prefilled == rows, "every row's name came from the ledger"

    assert fresh_client.get("/dashboard/").status_code == 403
    fresh_auth.login("leader")
    page = fresh_client.get("/dashboard/").get_data(as_text=True)
    assert "减负看板" in page and "中山路街道" in page and "vendor/chart.umd.min.js" in page
    rate = f"{100 * prefilled / (prefilled + 1):.1f}%"
    assert rate in page, "the pre-fill rate: ledger cells of all cells submitted"
    export = fresh_client.get("/dashboard/export.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    line = next(r for r in table if len(r) > 1 and r[1] == "中山路街道")
    assert line[2:6] == ["1", "0", str(prefilled), "1"] and line[6] == rate
