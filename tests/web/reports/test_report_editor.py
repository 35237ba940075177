"""The report editor: access, catalog fields, custom fields, order, metadata, filter, checks, saving."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.clock import local_today
from runtime.models import Report, ReportVersion, User, utcnow
from runtime.reports.store import Actor, create_report


def _doc(**overrides):
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "康复需求调查表",
        "type": "object",
        "x-version": 1,
        "x-department": "canlian",
        "x-purpose": "安排年度康复服务",
        "x-basis": "《残疾人保障法》第十五条",
        "x-rows": {"ledger": "person", "filter": []},
        "x-frequency": "once",
        "x-deadline": (local_today() + timedelta(days=30)).isoformat(),
        "x-targets": [],
        "properties": {
            "name": {"x-element": "person.name"},
            "need": {"title": "康复需求", "type": "string", "maxLength": 50},
        },
        "required": ["name"],
    }
    return doc | overrides


def _create(engine, username="canlian", **overrides) -> str:
    with Session(engine) as session, session.begin():
        user = session.scalar(select(User).where(User.username == username))
        report = create_report(session, Actor(user.id, user.role, user.department_id), _doc(**overrides))
        return report.code


def _stored(engine, code):
    """Return (report status, newest version number, edits, document)."""
    with Session(engine) as session:
        report = session.scalar(select(Report).where(Report.code == code))
        version = session.scalar(
            select(ReportVersion).where(
                ReportVersion.report_id == report.id, ReportVersion.version == report.version
            )
        )
        return report.status, version.version, version.edits, version.document


def _set_status(engine, code, status):
    """Put a report into `status` as if it had been filed (and returned, admitted …)."""
    with Session(engine) as session, session.begin():
        report = session.scalar(select(Report).where(Report.code == code))
        version = session.scalar(
            select(ReportVersion).where(
                ReportVersion.report_id == report.id, ReportVersion.version == report.version
            )
        )
        version.submitted_at = utcnow()
        report.status = status


@pytest.fixture
def report(engine):
    """A draft report of 区残联 with one bound and one custom field."""
    return _create(engine)


@pytest.fixture
def editor(web, report, form_values):
    """Log in as canlian; return a function posting the editor form with changes and an action."""
    client, auth = web
    auth.login("canlian")

    def post(action="save", changes=None, drop=(), htmx=False):
        page = client.get(f"/reports/{report}/edit").get_data(as_text=True)
        values = _editor_values(page, form_values)
        for key in drop:
            values.pop(key, None)
        values.update(changes or {})
        values["action"] = action
        headers = {"HX-Request": "true"} if htmx else {}
        return client.post(f"/reports/{report}/edit", data=values, headers=headers)

    return post


def _editor_values(page, form_values):
    """Return what the browser would post from the editor form (checkboxes included once)."""
    start = page.index('<form id="editor-form"')
    form = page[start : page.index("</form>", start)]
    values = form_values(form)
    # The reader keeps every input's value; unchecked boxes and radios must not be posted.
    for tag in re.findall(r'<input type="(?:checkbox|radio)"[^>]*>', form):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        if "checked" not in tag and values.get(name) == re.search(r'value="([^"]*)"', tag).group(1):
            values.pop(name, None)
    targets = []
    for tag in re.findall(r'<input type="(?:checkbox|radio)"[^>]*checked[^>]*>', form):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        value = re.search(r'value="([^"]*)"', tag).group(1)
        if name == "targets":
            targets.append(value)
        else:
            values[name] = value
    if targets:  # several boxes share this name: all the ticked ones are posted
        values["targets"] = targets
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', form):
        values[name] = text
    values.pop("action", None)
    return values


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("canlian", 200),
        ("admin", 200),
        ("minzheng", 403),
        ("nongye", 403),
        ("laisu", 403),
        ("reviewer", 403),
        ("keeper", 403),
    ],
)
def test_the_editor_is_for_the_owning_department_and_admins(web, report, username, status):
    client, auth = web
    auth.login(username)
    assert client.get(f"/reports/{report}/edit").status_code == status
    assert client.post(f"/reports/{report}/edit/preview", data={}).status_code == status
    assert client.get(f"/reports/{report}/edit/catalog?q=姓名").status_code == status


def test_other_departments_cannot_save_into_a_report(web, report, engine):
    client, auth = web
    auth.login("minzheng")
    response = client.post(f"/reports/{report}/edit", data={"version": 1, "edits": 0, "title": "改掉"})
    assert response.status_code == 403
    assert _stored(engine, report)[3]["title"] == "康复需求调查表"


def test_an_unknown_report_is_404_and_anonymous_users_log_in(web):
    client, auth = web
    assert client.get("/reports/nope_nope/edit").status_code == 302
    auth.login("canlian")
    assert client.get("/reports/nope_nope/edit").status_code == 404


# --- fields ----------------------------------------------------------------------------------


def test_adding_a_catalog_element_saves_a_bound_field(editor, engine, report):
    response = editor("add:person.disability_grade", htmx=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<html" not in page  # the fragment only
    assert "已添加“残疾等级”" in page and "已保存" in page
    assert 'id="field-disability_grade"' in page
    status, version, edits, doc = _stored(engine, report)
    assert (status, version, edits) == ("draft", 1, 1)
    assert list(doc["properties"]) == ["name", "need", "disability_grade"]
    assert doc["properties"]["disability_grade"] == {"x-element": "person.disability_grade"}
    # The catalog now marks it as added instead of offering it again.
    again = editor("save", {"q": "残疾等级"}, htmx=True).get_data(as_text=True)
    item = again[again.index('data-element="person.disability_grade"') :]
    assert item.index("已添加") < item.index("</li>")


def test_without_javascript_actions_redirect_back_to_the_editor(editor, web, engine, report):
    client, _auth = web
    response = editor("add:household.size", {"q": "家庭人口"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/reports/{report}/edit?q=")
    assert response.headers["Location"].endswith("#field-household_size")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已添加“家庭人口数”" in page and "已保存" in page
    assert list(_stored(engine, report)[3]["properties"]) == ["name", "need", "household_size"]


@pytest.mark.parametrize(
    ("kind", "settings", "schema"),
    [
        ("text", {"new-max_length": "30"}, {"type": "string", "maxLength": 30}),
        (
            "number",
            {"new-minimum": "0", "new-maximum": "1000"},
            {"type": "number", "minimum": 0, "maximum": 1000},
        ),
        ("integer", {"new-minimum": "0"}, {"type": "integer", "minimum": 0}),
        ("date", {}, {"type": "string", "format": "date"}),
        (
            "choice",
            {"new-options": "辅具适配\n康复训练\n无"},
            {"type": "string", "enum": ["辅具适配", "康复训练", "无"]},
        ),
        (
            "multi",
            {"new-options": "轮椅\n拐杖"},
            {"type": "array", "items": {"type": "string", "enum": ["轮椅", "拐杖"]}, "uniqueItems": True},
        ),
        ("yesno", {}, {"type": "boolean"}),
    ],
)
def test_adding_a_custom_field_of_each_kind(editor, engine, report, kind, settings, schema):
    response = editor(
        "add_custom",
        {"new-title": "新字段", "new-kind": kind, "new-required": "1", "new-help": "镇街填写", **settings},
        htmx=True,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "已添加自定义字段“新字段”" in page
    assert 'id="new-title" name="new-title" value=""' in page  # the add form is empty again
    doc = _stored(engine, report)[3]
    assert doc["properties"]["c3"] == {"title": "新字段", **schema, "x-help": "镇街填写"}
    assert doc["required"] == ["name", "c3"]


def test_a_custom_field_with_problems_keeps_what_was_typed(editor, engine, report):
    before = _stored(engine, report)
    response = editor(
        "add_custom",
        {"new-title": "康复项目", "new-kind": "choice", "new-options": "只有一项", "title": "改过的名称"},
        htmx=True,
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="err-new-enum" role="alert">单选、多选字段至少要有两个选项', page)
    assert 'value="康复项目"' in page and "只有一项</textarea>" in page and 'value="改过的名称"' in page
    assert _stored(engine, report) == before


def test_fields_move_up_and_down_and_are_removed(editor, engine, report):
    editor("add:person.gender")
    assert list(_stored(engine, report)[3]["properties"]) == ["name", "need", "gender"]
    page = editor("up:gender", htmx=True).get_data(as_text=True)
    assert list(_stored(engine, report)[3]["properties"]) == ["name", "gender", "need"]
    assert 'id="up-gender"' in page  # the moved field keeps its buttons' ids (focus stays on it)
    editor("down:name")
    assert list(_stored(engine, report)[3]["properties"]) == ["gender", "name", "need"]
    page = editor("remove:name", htmx=True).get_data(as_text=True)
    assert "已删除字段“姓名”" in page
    status, _v, _e, doc = _stored(engine, report)
    assert list(doc["properties"]) == ["gender", "need"] and doc["required"] == []


def test_field_settings_are_saved(editor, engine, report):
    editor(
        "save",
        {
            "f-0-title": "申请人姓名",
            "f-0-help": "与身份证一致",
            "f-0-parents": "申请人 / 基本信息",
            "f-1-kind": "choice",
            "f-1-options": "有\n无",
            "f-1-widget": "radio",
            "f-1-required": "1",
        },
        drop=("f-0-writeback", "f-0-required"),
    )
    doc = _stored(engine, report)[3]
    assert doc["properties"]["name"] == {
        "x-element": "person.name",
        "title": "申请人姓名",
        "x-writeback": False,
        "x-help": "与身份证一致",
        "x-parents": ["申请人", "基本信息"],
    }
    assert doc["properties"]["need"] == {
        "title": "康复需求",
        "type": "string",
        "enum": ["有", "无"],
        "x-widget": "radio",
    }
    assert doc["required"] == ["need"]


# --- metadata, rows and checks ---------------------------------------------------------------


def test_metadata_is_saved(editor, engine, report):
    response = editor(
        "save",
        {
            "title": "2026年康复服务需求复核",
            "purpose": "复核服务对象",
            "basis": "残联发〔2026〕3号",
            "frequency": "quarterly",
            "deadline": "2026-12-31",
            "targets_mode": "some",
            "targets": ["500118001", "500118003"],
            "description": "每人一行",
            "justification": "核对身份",
        },
        htmx=True,
    )
    assert response.status_code == 200
    doc = _stored(engine, report)[3]
    assert (doc["title"], doc["x-purpose"], doc["x-basis"], doc["x-frequency"], doc["x-deadline"]) == (
        "2026年康复服务需求复核",
        "复核服务对象",
        "残联发〔2026〕3号",
        "quarterly",
        "2026-12-31",
    )
    assert doc["x-targets"] == ["500118001", "500118003"]
    assert (doc["description"], doc["x-justification"]) == ("每人一行", "核对身份")
    with Session(engine) as session:
        assert session.scalar(select(Report.title).where(Report.code == report)) == "2026年康复服务需求复核"


def test_invalid_metadata_is_refused_next_to_the_input(editor, engine, report):
    before = _stored(engine, report)
    response = editor("save", {"title": "", "deadline": "下个月", "f-1-kind": "integer", "f-1-maximum": "十"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="err-title" role="alert">请填写报表名称<', page)
    assert re.search(r'id="err-x-deadline" role="alert">截止日期应写成 YYYY-MM-DD', page)
    assert re.search(r'id="err-f-1-maximum" role="alert">“最大值”应填数字，现在是“十”<', page)
    assert 'value="下个月"' in page and 'value="十"' in page
    assert "改正后才能保存" in page
    assert _stored(engine, report) == before


def test_filter_conditions_are_added_filled_and_removed(editor, engine, report):
    page = editor("add_condition", htmx=True).get_data(as_text=True)
    assert 'name="c-0-element"' in page and 'name="c-1-element"' not in page
    assert '<option value="person.disability_grade">残疾等级</option>' in page
    # A new condition starts complete (the ledger's key “不为空”) so that it is saved at once.
    assert _stored(engine, report)[3]["x-rows"]["filter"] == [
        {"element": "person.id_number", "op": "present"}
    ]
    editor(
        "add_condition", {"c-0-element": "person.disability_grade", "c-0-op": "in", "c-0-value": "一级、二级"}
    )
    page = editor(
        "save", {"c-1-element": "person.is_veteran", "c-1-op": "eq", "c-1-value": "是"}, htmx=True
    ).get_data(as_text=True)
    assert _stored(engine, report)[3]["x-rows"]["filter"] == [
        {"element": "person.disability_grade", "op": "in", "value": ["一级", "二级"]},
        {"element": "person.is_veteran", "op": "eq", "value": True},
    ]
    assert "当前筛选：残疾等级 属于 一级、二级；且 是否退役军人 等于 是" in page
    editor("remove_condition:0")
    assert _stored(engine, report)[3]["x-rows"]["filter"] == [
        {"element": "person.is_veteran", "op": "eq", "value": True}
    ]


def test_a_condition_without_a_value_is_refused(editor, engine, report):
    editor("add_condition")
    response = editor("save", {"c-0-element": "person.gender", "c-0-op": "eq", "c-0-value": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="err-x-rows-filter-0-value" role="alert">请填写比较的值<', page)


def test_rows_without_a_ledger_drop_the_filter(editor, engine, report):
    editor("add_condition", {})
    editor("save", {"c-0-element": "person.gender", "c-0-op": "present"})
    page = editor("ledger", {"ledger": ""}, htmx=True).get_data(as_text=True)
    assert _stored(engine, report)[3]["x-rows"] == {"ledger": None, "filter": []}
    assert "镇街在任务中逐行添加" in page and 'name="c-0-element"' not in page


def test_findings_of_the_spec_check_are_shown_where_they_belong(web, engine, form_values):
    client, auth = web
    code = _create(
        engine,
        **{
            "x-rows": {"ledger": "person", "filter": [{"element": "land.is_transferred", "op": "present"}]},
            "properties": {"grade": {"x-element": "person.disability_grade", "enum": ["一级", "十级"]}},
            "required": [],
        },
    )
    auth.login("canlian")
    page = client.get(f"/reports/{code}/edit").get_data(as_text=True)
    card = page[page.index('id="field-grade"') :]
    card = card[: card.index("</li>")]
    assert 'class="finding-list"' in card and "十级" in card
    condition = page[page.index('id="c-0-element"') : page.index('id="h-fields"')]
    assert 'id="notes-filter-0"' in condition and "是否流转" in condition
    assert "待完善" in page


def test_a_report_without_fields_says_so_above_the_field_list(web, engine):
    client, auth = web
    code = _create(engine, properties={}, required=[])
    auth.login("canlian")
    page = client.get(f"/reports/{code}/edit").get_data(as_text=True)
    section = page[page.index('id="h-fields"') : page.index('class="field-list"')]
    assert "报表至少需要一个字段" in section


# --- saving ----------------------------------------------------------------------------------


def test_stale_edits_are_refused_without_losing_input(web, engine, report, form_values):
    client, auth = web
    auth.login("canlian")
    page = client.get(f"/reports/{report}/edit").get_data(as_text=True)
    mine = _editor_values(page, form_values)
    # Another window saves first.
    other = mine | {"title": "另一个窗口的名称", "action": "save"}
    assert client.post(f"/reports/{report}/edit", data=other).status_code == 302
    response = client.post(
        f"/reports/{report}/edit",
        data=mine | {"purpose": "我的目的", "action": "save"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "已在别处" in page and "尚未保存" in page
    assert "我的目的</textarea>" in page
    assert "康复需求调查表" in page  # the page keeps this window's title
    assert _stored(engine, report)[3]["title"] == "另一个窗口的名称"
    assert _stored(engine, report)[3]["x-purpose"] == "安排年度康复服务"
    # The page now carries the newest state: saving again puts this page's content in.
    again = _editor_values(page, form_values) | {"action": "save"}
    assert again["edits"] == "1"
    assert client.post(f"/reports/{report}/edit", data=again).status_code == 302
    doc = _stored(engine, report)[3]
    assert (doc["title"], doc["x-purpose"]) == ("康复需求调查表", "我的目的")


def test_saving_an_unchanged_form_writes_nothing(editor, engine, report):
    response = editor("save", htmx=True)
    assert response.status_code == 200
    assert _stored(engine, report)[2] == 0
    assert "已保存" not in response.get_data(as_text=True)


def test_a_returned_report_gets_version_2_on_its_first_save(editor, engine, report):
    _set_status(engine, report, "returned")
    editor("save", {"title": "修改后的调查表"})
    status, version, edits, doc = _stored(engine, report)
    assert (status, version, edits) == ("returned", 2, 1)
    assert doc["title"] == "修改后的调查表" and doc["x-version"] == 2
    with Session(engine) as session:
        first = session.scalar(
            select(ReportVersion.document)
            .join(Report)
            .where(Report.code == report, ReportVersion.version == 1)
        )
    assert first["title"] == "康复需求调查表"
    editor("save", {"title": "再改一次"})
    assert _stored(engine, report)[:3] == ("returned", 2, 2)


@pytest.mark.parametrize("status", ["submitted", "admitted", "rejected"])
def test_a_filed_report_is_read_only(web, engine, report, status):
    client, auth = web
    _set_status(engine, report, status)
    auth.login("canlian")
    page = client.get(f"/reports/{report}/edit").get_data(as_text=True)
    assert "只能查看，不能修改" in page
    assert '<fieldset class="editor-body" disabled>' in page
    response = client.post(
        f"/reports/{report}/edit", data={"version": 1, "edits": 0, "title": "改掉", "action": "save"}
    )
    assert response.status_code == 409
    assert _stored(engine, report)[3]["title"] == "康复需求调查表"


# --- preview and catalog ---------------------------------------------------------------------


def test_the_preview_renders_each_widget_and_saves_nothing(editor, web, engine, report, form_values):
    client, _auth = web
    editor("add:person.disability_grade")
    editor("add:land.is_transferred")
    page = client.get(f"/reports/{report}/edit").get_data(as_text=True)
    values = _editor_values(page, form_values) | {
        "title": "预览中的名称",
        "f-1-kind": "choice",
        "f-1-options": "辅具适配\n康复训练",
        "f-1-widget": "radio",
        "f-1-parents": "服务需求",
        "new-title": "不会添加",
    }
    response = client.post(f"/reports/{report}/edit/preview", data=values)
    assert response.status_code == 200
    preview = response.get_data(as_text=True)
    assert "<h3>预览中的名称</h3>" in preview
    assert re.search(r'<input type="text" id="pv-name" name="name"', preview)
    assert preview.count("台账预填</span>") == 3
    assert re.search(r'<select id="pv-disability_grade" name="disability_grade"', preview)
    assert re.search(r'<input type="radio" name="need" value="辅具适配"', preview)
    assert '<span class="tf-parents">服务需求</span>' in preview
    assert re.search(r'<input type="radio" name="land_is_transferred" value="是"', preview)
    assert _stored(engine, report)[3]["title"] == "康复需求调查表"
    assert "c3" not in _stored(engine, report)[3]["properties"]


def test_the_editor_page_includes_the_preview(web, report):
    client, auth = web
    auth.login("canlian")
    page = client.get(f"/reports/{report}/edit").get_data(as_text=True)
    preview = page[page.index('id="preview"') :]
    assert f'hx-post="/reports/{report}/edit/preview"' in page
    assert re.search(r'<input type="text" id="pv-need" name="need" value=""[^>]*>', preview)
    assert "最多 50 个字" in preview


def test_catalog_search_finds_names_and_aliases(web, report):
    client, auth = web
    auth.login("canlian")
    page = client.get(
        f"/reports/{report}/edit/catalog",
        query_string={"q": "身份证号", "ledger": "person", "f-0-element": "person.name"},
    ).get_data(as_text=True)
    item = page[page.index('data-element="person.id_number"') :]
    item = item[: item.index("</li>")]
    assert "公民身份号码" in item and "别名：" in item and "身份证号" in item
    assert "敏感个人信息" in item and "区公安分局户籍系统" in item
    assert "台账暂无数据" in item  # this database holds no records
    assert 'value="add:person.id_number"' in item
    assert "人口台账" in page
    named = client.get(
        f"/reports/{report}/edit/catalog", query_string={"q": "姓名", "f-0-element": "person.name"}
    ).get_data(as_text=True)
    item = named[named.index('data-element="person.name"') :]
    assert item.index("已添加") < item.index("</li>")
    empty = client.get(f"/reports/{report}/edit/catalog", query_string={"q": "火星基地坐标"})
    assert "没有找到" in empty.get_data(as_text=True)


def test_catalog_shows_fill_rate_and_freshness_of_the_ledgers(fresh_app, fresh_auth, fresh_client, engine):
    code = _create(engine)
    fresh_auth.login("canlian")
    page = fresh_client.get(f"/reports/{code}/edit/catalog", query_string={"q": "残疾等级"}).get_data(
        as_text=True
    )
    item = page[page.index('data-element="person.disability_grade"') :]
    item = item[: item.index("</li>")]
    assert re.search(r"台账最近变更 \d{4}-\d{2}-\d{2}", item)
    assert re.search(r"填充率 \d+%", item)
    editor_page = fresh_client.get(f"/reports/{code}/edit").get_data(as_text=True)
    card = editor_page[editor_page.index('id="field-name"') :]
    assert re.search(r"人口台账，填充率 \d+%，最近变更 \d{4}-\d{2}-\d{2}", card[: card.index("</li>")])


def test_an_admin_may_edit_any_departments_report(web, engine, report):
    client, auth = web
    auth.login("admin")
    response = client.post(
        f"/reports/{report}/edit",
        data={
            "version": 1,
            "edits": 0,
            "title": "管理员改的名称",
            "ledger": "person",
            "frequency": "once",
            "f-0-name": "name",
            "f-0-element": "person.name",
            "f-0-writeback": "1",
            "action": "save",
        },
    )
    assert response.status_code == 302
    doc = _stored(engine, report)[3]
    assert doc["title"] == "管理员改的名称" and list(doc["properties"]) == ["name"]


def test_the_field_macro_shows_values_errors_and_readonly(blank_app):
    """forms/_field.html renders a value of each kind, an error next to it, and a read-only form."""
    from builder.reports.form import FieldView

    choice = FieldView(
        name="aids",
        title="已有辅具",
        widget="checkboxes",
        required=True,
        options=(("轮椅", "轮椅"), ("拐杖", "拐杖")),
        parents=("服务", "辅具"),
        hints=("可多选",),
    )
    yesno = FieldView(name="visited", title="是否入户", widget="yesno", element="person.is_veteran")
    select = FieldView(
        name="grade", title="残疾等级", widget="select", options=(("一级", "一级"), ("二级", "二级"))
    )
    count = FieldView(name="times", title="次数", widget="number", integer=True, help="全年合计")
    with blank_app.test_request_context():
        macro = blank_app.jinja_env.get_template("forms/_field.html").module.field
        html = str(macro(choice, value=["拐杖"], error="至少选一项"))
        assert re.search(r'<input type="checkbox" name="aids" value="拐杖" checked>', html)
        assert re.search(r'<input type="checkbox" name="aids" value="轮椅">', html)
        assert 'aria-invalid="true"' in html and ">至少选一项</div>" in html
        assert '<span class="tf-parents">服务 · 辅具</span>' in html and "可多选" in html
        assert "（必填）" in html and "台账预填" not in html
        html = str(macro(yesno, value=True, readonly=True, prefix="row3-"))
        assert re.search(r'<fieldset class="tf-choices" id="row3-visited"[^>]*disabled>', html)
        assert re.search(r'name="visited" value="是" checked>', html) and "台账预填" in html
        html = str(macro(select, value="二级", name="rows[0][grade]"))
        assert re.search(r'<select id="f-grade" name="rows\[0\]\[grade\]"', html)
        assert '<option value="二级" selected>' in html
        html = str(macro(select, value="三级"))  # a value outside the options is still shown
        assert '<option value="三级" selected>' in html
        html = str(macro(count, value=12, readonly=True))
        assert re.search(r'inputmode="numeric" id="f-times" name="times" value="12"[^>]*readonly', html)
        assert 'aria-describedby="help-f-times err-f-times"' in html and "全年合计" in html
