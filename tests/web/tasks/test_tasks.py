"""The township's task pages: the list, the pre-filled grid, cell saves, not applicable, dispatch."""

import re

import pytest
from sqlalchemy import select, update

from runtime.models import Record, Task

ZHONGSHANLU = "500118001"


@pytest.fixture
def dispatched(fresh_app, fresh_client, fresh_auth, engine, admit_report):
    """The disability survey admitted and dispatched to every township through the report page."""
    code = admit_report(engine)
    fresh_auth.login("canlian")
    response = fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "all"})
    assert response.status_code == 302
    fresh_auth.logout()
    with engine.connect() as conn:
        task_id = conn.scalar(select(Task.id).where(Task.org_unit_code == ZHONGSHANLU))
    return code, task_id


def _grid(client, task_id, **params):
    response = client.get(f"/tasks/{task_id}", query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _first_row(html):
    return int(re.search(r'id="row-g(\d+)"', html).group(1))


def _post(client, task_id, record_id, version, **cells):
    data = {"_field": list(cells), "_version": str(version), **cells}
    return client.post(f"/tasks/{task_id}/rows/{record_id}", data=data, headers={"HX-Request": "true"})


def test_dispatch_form_and_progress_table(fresh_client, fresh_auth, engine, admit_report):
    code = admit_report(engine)
    fresh_auth.login("canlian")
    page = fresh_client.get(f"/reports/{code}/").get_data(as_text=True)
    assert "一键下派到全部 23 个镇街" in page and 'name="unit"' in page
    refused = fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "chosen"}, follow_redirects=True)
    assert "请至少勾选一个镇街" in refused.get_data(as_text=True)
    done = fresh_client.post(
        f"/tasks/dispatch/{code}", data={"scope": "chosen", "unit": [ZHONGSHANLU]}, follow_redirects=True
    ).get_data(as_text=True)
    assert "已下派到 1 个镇街" in done
    assert 'class="records cards dispatch-progress"' in done and "中山路街道" in done and "新任务" in done
    assert "还有 22 个镇街没有下派" in done and '<span class="badge task-new">新任务 1</span>' in done
    with engine.connect() as conn:
        assert conn.scalars(select(Task.org_unit_code)).all() == [ZHONGSHANLU]
    rest = fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "all"}, follow_redirects=True)
    assert "已下派到 22 个镇街（共 23 项任务）" in rest.get_data(as_text=True)
    assert "一键下派" not in rest.get_data(as_text=True), "nothing is left to dispatch"


def test_dispatch_is_refused_to_another_department(fresh_client, fresh_auth, engine, admit_report):
    code = admit_report(engine)
    fresh_auth.login("minzheng")
    fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "all"})
    with engine.connect() as conn:
        assert conn.scalars(select(Task.id)).all() == []
    fresh_auth.login("zhongshanlu")
    assert fresh_client.post(f"/tasks/dispatch/{code}", data={"scope": "all"}).status_code == 403


def test_task_list_shows_state_progress_and_deadline(fresh_client, fresh_auth, dispatched):
    fresh_auth.login("zhongshanlu")
    html = fresh_client.get("/tasks/").get_data(as_text=True)
    assert "2026年度永川区残疾人基本服务状况和需求调查表" in html
    assert "新任务" in html and "0%" in html and "还剩 20 天" in html
    assert len(re.findall(r'href="/tasks/\d+"', html)) == 1, "only the township's own task"
    fresh_auth.login("admin")
    assert len(re.findall(r'href="/tasks/\d+"', fresh_client.get("/tasks/").get_data(as_text=True))) == 23


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("zhongshanlu", 200),
        ("shenglilu", 404),
        ("wangge", 404),
        ("canlian", 403),
        ("reviewer", 403),
        ("admin", 200),
    ],
)
def test_grid_access(fresh_client, fresh_auth, dispatched, username, status):
    _code, task_id = dispatched
    fresh_auth.login(username)
    assert fresh_client.get(f"/tasks/{task_id}").status_code == status


def test_grid_shows_prefilled_and_gap_cells_and_never_an_id_number(
    fresh_client, fresh_auth, engine, dispatched
):
    _code, task_id = dispatched
    fresh_auth.login("zhongshanlu")
    html = _grid(fresh_client, task_id)
    assert 'class="cell cell-prefilled' in html and 'class="cell cell-gap' in html
    born = re.findall(r'id="cell-g\d+-birth_date"[^>]*>\s*<span class="cell-value">([^<]*)</span>', html)
    assert born and all(re.fullmatch(r"\d{4}年", b) for b in born), "beside a masked ID: the year only"
    ages = re.findall(r'id="cell-g\d+-age"[^>]*>\s*<span class="cell-value">(.*?)</div>', html, re.S)
    assert ages and not any(re.search(r"\d", a) for a in ages), "no age: it tells more of the date"
    assert all("—" in a and "只显示年份" in a for a in ages), "the empty age says why it is empty"
    assert 'class="cell cell-computed" id="cell-g' in html, "an empty age is no gap to fill"
    assert '<span class="sr-only">出生日期</span>' not in html, "no 更正 of a masked birth date"
    assert re.search(r'title="来源：[^"，]+，\d{4}-\d{2}-\d{2}"', html)
    assert 'class="cell cell-prefilled cell-masked"' in html
    assert '<th scope="colgroup" colspan="5">基本信息</th>' in html
    assert "本页行数" in html and "待填的格" in html
    with engine.connect() as conn:
        keys = conn.scalars(
            select(Record.key).where(Record.ledger == "person", Record.township_code == ZHONGSHANLU)
        ).all()
    assert keys and not [k for k in keys if k in html], "no unmasked ID number on the page"


def test_saving_a_bad_cell_keeps_the_text_and_shows_the_message(fresh_client, fresh_auth, dispatched):
    _code, task_id = dispatched
    fresh_auth.login("zhongshanlu")
    rid = _first_row(_grid(fresh_client, task_id))
    bad = _post(fresh_client, task_id, rid, 0, monthly_income="一千")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200
    assert 'value="一千"' in html and "cell-error" in html
    message = re.search(r'id="err-g\d+-monthly_income" role="alert">([^<]+)<', html).group(1)
    assert message.strip()
    assert f'id="ver-g{rid}" value="1" hx-swap-oob="true"' in html
    good = _post(fresh_client, task_id, rid, 1, monthly_income="1,200").get_data(as_text=True)
    assert 'value="1200"' in good and "cell-edited" in good and "cell-error" not in good
    assert f'id="ver-g{rid}" value="2"' in good
    again = _grid(fresh_client, task_id)
    assert 'value="1200"' in again, "the draft is kept on the server"


def test_a_stale_save_is_refused_and_keeps_what_was_typed(fresh_client, fresh_auth, dispatched):
    _code, task_id = dispatched
    fresh_auth.login("zhongshanlu")
    rid = _first_row(_grid(fresh_client, task_id))
    assert _post(fresh_client, task_id, rid, 0, remarks="第一人").status_code == 200
    stale = _post(fresh_client, task_id, rid, 0, remarks="第二人")
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert stale.headers["HX-Retarget"] == f"#row-g{rid}" and stale.headers["HX-Reswap"] == "outerHTML"
    assert "刚被别人保存过" in html and ">第二人</textarea>" in html and "保存我的输入" in html
    assert f'id="ver-g{rid}" value="1"' in html, "the row now names the version to save over"


def test_a_row_is_marked_not_applicable_with_a_reason(fresh_client, fresh_auth, dispatched):
    _code, task_id = dispatched
    fresh_auth.login("zhongshanlu")
    rid = _first_row(_grid(fresh_client, task_id))
    url = f"/tasks/{task_id}/rows/{rid}/mark"
    refused = fresh_client.post(url, data={"reason": "other", "other": " ", "_version": "0"})
    assert refused.status_code == 409 and "请写明不适用的原因" in refused.get_data(as_text=True)
    marked = fresh_client.post(url, data={"reason": "已迁出", "_version": "0"}).get_data(as_text=True)
    assert "不适用：已迁出" in marked and "row-na" in marked and "恢复为适用" in marked
    other = fresh_client.post(url, data={"reason": "other", "other": "户籍已注销", "_version": "1"})
    assert "不适用：户籍已注销" in other.get_data(as_text=True)
    restored = fresh_client.post(url, data={"restore": "1", "_version": "2"}).get_data(as_text=True)
    assert "标记不适用" in restored and "task-row row-na" not in restored


def test_search_by_name_or_the_visible_tail_of_the_id(fresh_client, fresh_auth, engine, dispatched):
    """A township finds its people by name or an ID's last 4; a whole ID number only an admin looks up."""
    _code, task_id = dispatched
    fresh_auth.login("zhongshanlu")
    rid = _first_row(_grid(fresh_client, task_id))
    with engine.connect() as conn:
        key, label = conn.execute(select(Record.key, Record.label).where(Record.id == rid)).one()
    by_id = _grid(fresh_client, task_id, q=key)
    assert 'id="row-g' not in by_id and "公民身份号码对您脱敏，只能按末 4 位查找" in by_id
    by_tail = _grid(fresh_client, task_id, q=key[-4:])
    assert f'id="row-g{rid}"' in by_tail
    by_name = _grid(fresh_client, task_id, q=label)
    assert f'id="row-g{rid}"' in by_name
    partial = _grid(fresh_client, task_id, q=key[:10])
    assert "只能按末 4 位查找" in partial and 'id="row-g' not in partial
    fresh_auth.login("admin")
    by_id = _grid(fresh_client, task_id, q=key)
    assert _first_row(by_id) == rid and by_id.count('id="row-g') == 1


def test_phone_cards_post_back_as_cards(fresh_client, fresh_auth, dispatched):
    _code, task_id = dispatched
    fresh_auth.login("zhongshanlu")
    html = _grid(fresh_client, task_id)
    rid = _first_row(html)
    assert f'id="rec-{rid}"' in html and "下一条" in html
    response = fresh_client.post(
        f"/tasks/{task_id}/rows/{rid}/mark", data={"reason": "已死亡", "_version": "0", "_view": "c"}
    )
    card = response.get_data(as_text=True)
    assert card.lstrip().startswith('<section class="task-card')
    assert response.headers["HX-Retarget"] == f"#row-c{rid}" and "不适用：已死亡" in card


def test_a_submitted_task_is_read_only(fresh_client, fresh_auth, engine, dispatched):
    _code, task_id = dispatched
    fresh_auth.login("zhongshanlu")
    rid = _first_row(_grid(fresh_client, task_id))
    with engine.begin() as conn:
        conn.execute(update(Task).where(Task.id == task_id).values(state="submitted"))
    html = _grid(fresh_client, task_id)
    assert "任务已提交，只能查看" in html and "cell-form" not in html and "标记不适用" not in html
    refused = _post(fresh_client, task_id, rid, 0, remarks="补一句")
    assert refused.status_code == 409 and "任务已提交，不能再修改" in refused.get_data(as_text=True)


def test_a_masked_value_is_replaced_through_its_correction_box_never_shown(
    fresh_client, fresh_auth, dispatched
):
    _code, task_id = dispatched
    fresh_auth.login("zhongshanlu")
    html = _grid(fresh_client, task_id)
    rid = _first_row(html)
    row = html[html.index(f'id="row-g{rid}"') : html.index("</tr>", html.index(f'id="row-g{rid}"'))]
    masked = re.findall(rf'id="cell-g{rid}-(\w+)"[^>]*>\s*<span class="cell-value">', row)
    cells = {name: row[row.index(f'id="cell-g{rid}-{name}"') :] for name in masked}
    correctable = [
        name for name, cell in cells.items() if "cell-correct" in cell[: cell.find('id="cell-g', 10)]
    ]
    assert "id_number" in masked and "id_number" not in correctable, "the key is never corrected in a report"
    assert "phone" in correctable
    saved = _post(fresh_client, task_id, rid, 0, phone="13912345678")
    assert saved.status_code == 200 and 'value="13912345678"' in saved.get_data(as_text=True)
    assert "cell-edited" in saved.get_data(as_text=True)
