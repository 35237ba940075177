"""Gatekeeping (issue 3, “Gatekeeping: admission rules and overlap”): every rule both ways,
the decision precedence, working days on the 2026 calendar, coverage, overlap and the rules file."""

import dataclasses
import json
import shutil
from datetime import date, datetime

import pytest

from builder.admission.gatekeeping import (
    Context,
    Holding,
    LiveReport,
    Rule,
    RuleSet,
    RulesInvalid,
    assess,
    check_rules,
    load_rules,
    working_days,
)
from builder.reports.spec import ReportField, ReportSpec, RowSource

TODAY = date(2026, 11, 29)  # a Sunday
PERSON = (
    "person.name",
    "person.id_number",
    "person.gender",
    "person.birth_date",
    "person.disability_category",
    "person.disability_grade",
    "person.household_address",
    "person.village_code",
    "person.health_status",
    "person.education",
)


@pytest.fixture(scope="module")
def rules(specs) -> RuleSet:
    return load_rules(specs.root)


def bound(specs, code: str) -> ReportField:
    return ReportField(name=code.split(".")[1], title=specs.elements[code].name, schema={}, element=code)


def custom(title: str, name: str | None = None) -> ReportField:
    return ReportField(name=name or title, title=title, schema={"type": "string"})


def report(fields, **kw) -> ReportSpec:
    values = dict(
        code="disability_rehab_2026",
        title="残疾人康复需求调查表",
        version=1,
        department="canlian",
        purpose="掌握全区持证残疾人的康复需求，制定2027年康复服务计划",
        basis="《中华人民共和国残疾人保障法》第十五条",
        frequency="once",
        deadline=date(2026, 12, 18),
        targets=(),
        rows=RowSource("person"),
        fields=tuple(fields),
    )
    values.update(kw)
    return ReportSpec(**values)


def held(*codes: str, **kw) -> dict[str, Holding]:
    return {c: Holding(element=c, ledger=c.split(".")[0], field=c.split(".")[1], **kw) for c in codes}


def context(specs, holdings=None, **kw) -> Context:
    return Context(
        today=kw.pop("today", TODAY),
        elements=specs.elements,
        holdings=held(*PERSON) if holdings is None else holdings,
        **kw,
    )


def result(verdict, rule_id):
    return next(r for r in verdict.rules if r.id == rule_id)


def with_rule(rules: RuleSet, rule_id: str, **changes) -> RuleSet:
    """Return the rule set with one rule changed (params are merged)."""
    out = []
    for rule in rules.rules:
        if rule.id == rule_id:
            params = {**rule.params, **changes.pop("params", {})}
            rule = dataclasses.replace(rule, params=params, **changes)
        out.append(rule)
    return dataclasses.replace(rules, rules=tuple(out))


def only(rules: RuleSet, *ids: str) -> RuleSet:
    return dataclasses.replace(rules, rules=tuple(r for r in rules.rules if r.id in ids))


def survey(specs) -> list[ReportField]:
    """Four held person fields and two custom ones: 67% held, nothing sensitive."""
    return [
        *(
            bound(specs, c)
            for c in ("person.name", "person.gender", "person.disability_category", "person.disability_grade")
        ),
        custom("康复需求"),
        custom("已接受的康复服务"),
    ]


# ---------------------------------------------------------------- the rules file


def test_the_shipped_rules_load_and_pass_the_checks(specs, rules):
    assert check_rules(specs.root) == []
    assert {r.id for r in rules.rules} >= {
        "basis_required",
        "purpose_required",
        "deadline_working_days",
        "department_quota",
        "max_fields",
        "ledger_coverage",
        "live_report_overlap",
        "sensitive_justification",
        "recurring_to_ledger",
        "township_remit",
    }
    by_id = {r.id: r for r in rules.rules}
    assert by_id["deadline_working_days"].params["min_days"] == 5
    assert by_id["department_quota"].params["per_month"] == 2
    assert by_id["max_fields"].params["max"] == 40
    assert by_id["ledger_coverage"].level == "extract" and by_id["ledger_coverage"].params["ratio"] == 0.9
    assert by_id["live_report_overlap"].params["ratio"] == 0.6
    assert by_id["township_remit"].params["remit_title"] == "镇街履职事项清单（示例）"
    assert "person.*" in by_id["township_remit"].params["remit_elements"]
    assert rules.remit is not None and {"person.*", "land.*", "enterprise.employees"} <= rules.remit
    assert "enterprise.annual_revenue" not in rules.remit
    assert {date(2026, 2, 15), date(2026, 2, 23), date(2026, 10, 7), date(2027, 1, 1)} <= rules.holidays
    assert rules.workdays == {
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }
    assert len(rules.holidays) == 34


def test_check_rules_finds_the_problems_of_a_broken_copy(specs, tmp_path):
    root = tmp_path / "specs"
    for folder in ("admission", "meta", "catalog"):
        shutil.copytree(specs.root / folder, root / folder)
    path = root / "admission" / "rules.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    rules = {r["id"]: r for r in doc["rules"]}
    rules["deadline_working_days"]["params"]["min_days"] = "五"
    rules["basis_required"]["level"] = "extract"
    rules["basis_required"]["messages"]["pass"] = "已写明依据 {basis.__class__}"
    rules["max_fields"]["params"]["maximum"] = 40
    rules["township_remit"]["params"]["remit"] = "missing.json"
    doc["rules"].append({**rules["max_fields"], "id": "no_weekend_deadline"})
    doc["rules"].remove(rules["purpose_required"])
    doc["holidays"][1]["to"] = "2026-02-30"
    doc["workdays"].append({"name": "误填", "date": "2026-12-01"})
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    problems = "\n".join(check_rules(root))
    assert '（deadline_working_days）: 参数 min_days 的值 "五" 应为 0 到 10000 之间的整数' in problems
    assert "rules/0（basis_required）: 级别“extract”不适用于本规则" in problems
    assert "占位符 {basis.__class__} 未知" in problems
    assert "未知参数 maximum" in problems
    assert "admission/missing.json: 文件不存在" in problems
    assert "未知的规则编号“no_weekend_deadline”" in problems
    assert "缺少规则 purpose_required" in problems
    assert "holidays/1（春节）: 日期“2026-02-30”无法识别" in problems
    assert "workdays/6（误填）: 2026-12-01 本来就是工作日" in problems
    with pytest.raises(RulesInvalid) as refused:
        load_rules(root)
    assert "未知的规则编号" in str(refused.value)


def test_check_rules_reports_meta_schema_errors_and_unknown_remit_entries(specs, tmp_path):
    root = tmp_path / "specs"
    for folder in ("admission", "meta", "catalog"):
        shutil.copytree(specs.root / folder, root / folder)
    path = root / "admission" / "rules.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["rules"][0]["enabled"] = "yes"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    remit = root / "admission" / "remit.json"
    listed = json.loads(remit.read_text(encoding="utf-8"))
    listed["elements"] += ["land.transfer_aera", "farm.*"]
    remit.write_text(json.dumps(listed, ensure_ascii=False), encoding="utf-8")
    problems = check_rules(root)
    assert any(p.startswith("admission/rules.json: rules/0/enabled: 不符合元模式") for p in problems)
    assert any("“land.transfer_aera”不是数据元目录中的数据元编码" in p for p in problems)
    assert any("“farm.*”" in p for p in problems)
    assert check_rules(tmp_path / "nowhere") == ["admission/rules.json: 文件不存在"]


# ---------------------------------------------------------------- working days


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 12, 4), date(2026, 12, 6), 0),  # Friday → Sunday: the weekend is off
        (date(2026, 12, 4), date(2026, 12, 7), 1),  # … to Monday
        (date(2026, 9, 30), date(2026, 10, 9), 2),  # 国庆 1–7 off: only 8 and 9 count
        (date(2026, 9, 30), date(2026, 10, 10), 3),  # Saturday 10 October is a make-up workday
        (date(2026, 9, 18), date(2026, 9, 21), 2),  # Sunday 20 September is a make-up workday
        (date(2026, 2, 13), date(2026, 2, 24), 2),  # 14 Feb (Sat, make-up) and 24 Feb; 春节 15–23 off
        (date(2026, 12, 31), date(2027, 1, 4), 1),  # 元旦 2027 off, Monday counts
        (date(2026, 12, 18), date(2026, 12, 18), 0),
        (date(2026, 12, 18), date(2026, 12, 1), 0),  # an end before the start counts nothing
        (date(2025, 12, 31), date(2026, 12, 31), 248),  # 261 weekdays − 19 holiday weekdays + 6 make-up days
    ],
)
def test_working_days_follow_the_2026_calendar(rules, start, end, expected):
    assert working_days(start, end, rules) == expected


def test_working_days_agree_with_counting_day_by_day(rules):
    start, day, counted = date(2026, 1, 1), date(2026, 1, 1), 0
    while day < date(2027, 1, 10):
        day = date.fromordinal(day.toordinal() + 1)
        off = day in rules.holidays or (day.weekday() >= 5 and day not in rules.workdays)
        counted += not off
        assert working_days(start, day, rules) == counted, day


# ---------------------------------------------------------------- each rule, both ways


@pytest.mark.parametrize("field_name", ["basis", "purpose"])
def test_basis_and_purpose_are_required(specs, rules, field_name):
    rule_id = f"{field_name}_required"
    verdict = assess(report(survey(specs), **{field_name: "  "}), context(specs), rules)
    assert result(verdict, rule_id).outcome == "block" and verdict.decision == "reject"
    assert "至少 4 个字" in result(verdict, rule_id).message
    assert (
        result(assess(report(survey(specs), **{field_name: "文件"}), context(specs), rules), rule_id).outcome
        == "block"
    )
    passed = result(assess(report(survey(specs)), context(specs), rules), rule_id)
    assert passed.outcome == "pass"
    assert passed.message in (
        "已写明依据：《中华人民共和国残疾人保障法》第十五条",
        "已说明用途：掌握全区持证残疾人的康复需求，制定2027年康复服务计划",
    )


def test_deadline_must_leave_five_working_days(specs, rules):
    short = result(
        assess(report(survey(specs), deadline=date(2026, 12, 3)), context(specs), rules),
        "deadline_working_days",
    )
    assert short.outcome == "block"
    assert short.message == (
        "截止日期 2026年12月3日 距今天（2026年11月29日）只有 4 个工作日，少于规定的 5 个工作日："
        "请把截止日期改到 2026年12月4日 或以后，给镇街留足填报时间"
    )
    enough = result(
        assess(report(survey(specs), deadline=date(2026, 12, 4)), context(specs), rules),
        "deadline_working_days",
    )
    assert enough.outcome == "pass"
    assert enough.message == "截止日期 2026年12月4日，距今 5 个工作日（不少于 5 个）"


def test_deadline_counts_holidays_and_make_up_days(specs, rules):
    # Eleven calendar days, but the National Day week leaves only four working days.
    before_holiday = context(specs, today=date(2026, 9, 28))
    verdict = assess(report(survey(specs), deadline=date(2026, 10, 9)), before_holiday, rules)
    message = result(verdict, "deadline_working_days").message
    assert "只有 4 个工作日" in message and "改到 2026年10月10日 或以后" in message  # a make-up Saturday


def test_a_missing_deadline_blocks_with_its_own_message(specs, rules):
    verdict = assess(report(survey(specs), deadline=None), context(specs), rules)
    missing = result(verdict, "deadline_working_days")
    assert missing.outcome == "block"
    assert missing.message == (
        "未设置截止日期：请设置填报截止日期，并至少给镇街留出 5 个工作日，即不早于 2026年12月4日"
    )


def test_department_quota_counts_the_other_reports_of_the_month(specs, rules):
    one = result(
        assess(report(survey(specs)), context(specs, department_reports_this_month=1), rules),
        "department_quota",
    )
    assert one.outcome == "pass" and "已提交 1 张" in one.message
    two = result(
        assess(report(survey(specs)), context(specs, department_reports_this_month=2), rules),
        "department_quota",
    )
    assert two.outcome == "block" and "已提交 2 张" in two.message and "最多 2 张" in two.message


def test_at_most_forty_data_fields(specs, rules):
    forty = [custom(f"指标{i}", f"f{i}") for i in range(40)]
    assert result(assess(report(forty), context(specs), rules), "max_fields").outcome == "pass"
    verdict = assess(report([*forty, custom("指标40", "f40")]), context(specs), rules)
    assert result(verdict, "max_fields").outcome == "block"
    assert result(verdict, "max_fields").message.startswith("本表有 41 个数据字段，超过了 40 个的上限")


def test_a_report_the_ledgers_hold_is_answered_by_extraction(specs, rules):
    fields = [*(bound(specs, c) for c in PERSON[:9]), custom("康复需求")]
    verdict = assess(report(fields, justification="核对残疾人身份"), context(specs), rules)
    coverage = result(verdict, "ledger_coverage")
    assert (verdict.coverage.data_fields, verdict.coverage.bound, verdict.coverage.ratio) == (10, 9, 0.9)
    assert coverage.level == "extract" and coverage.outcome != "pass"
    assert "（90%）" in coverage.message and "不下发镇街" in coverage.message
    assert "台账暂未掌握的字段（“康复需求”）" in coverage.message
    assert verdict.decision == "extract"
    fewer = assess(report([*fields[:8], custom("康复需求"), custom("辅具需求")]), context(specs), rules)
    assert result(fewer, "ledger_coverage").outcome == "pass" and fewer.coverage.ratio == 0.8
    assert fewer.decision != "extract"


def test_sensitive_fields_need_a_justification(specs, rules):
    fields = [*survey(specs), bound(specs, "person.id_number"), bound(specs, "person.bank_account")]
    blocked = result(assess(report(fields), context(specs), rules), "sensitive_justification")
    assert blocked.outcome == "block"
    assert "“公民身份号码”、“银行账号”" in blocked.message and "“姓名”" not in blocked.message
    justified = report(fields, justification="两项补贴需核对身份并打卡发放，仅限区残联经办人使用")
    assert result(assess(justified, context(specs), rules), "sensitive_justification").outcome == "pass"
    plain = result(assess(report(survey(specs)), context(specs), rules), "sensitive_justification")
    assert (plain.outcome, plain.message) == ("pass", "未涉及敏感数据")
    secret_only = with_rule(rules, "sensitive_justification", params={"levels": ["secret"]})
    narrowed = result(assess(report(fields), context(specs), secret_only), "sensitive_justification")
    assert "“银行账号”" in narrowed.message and "公民身份号码" not in narrowed.message


def test_a_recurring_report_is_proposed_as_ledger_fields(specs, rules):
    monthly = result(
        assess(report(survey(specs), frequency="monthly"), context(specs), rules), "recurring_to_ledger"
    )
    assert monthly.outcome == "warn"
    assert "每月填报" in monthly.message and "“康复需求”、“已接受的康复服务”" in monthly.message
    all_bound = report(
        [bound(specs, "person.name"), bound(specs, "person.disability_grade")], frequency="yearly"
    )
    message = result(assess(all_bound, context(specs), rules), "recurring_to_ledger").message
    assert "每年填报" in message and "所有字段都已绑定数据元" in message
    once = result(assess(report(survey(specs)), context(specs), rules), "recurring_to_ledger")
    assert (once.outcome, once.message) == ("pass", "本表为一次性报表")


def test_township_remit_with_the_shipped_list(specs, rules):
    fields = [
        bound(specs, "enterprise.name"),
        bound(specs, "enterprise.employees"),
        bound(specs, "enterprise.annual_revenue"),
    ]
    spec = report(fields, rows=RowSource("enterprise"))
    remit = result(assess(spec, context(specs), rules), "township_remit")
    assert remit.outcome == "block"
    assert "《镇街履职事项清单（示例）》以外的数据：“上年营业收入（万元）”（区税务局）" in remit.message
    assert "从业人数" not in remit.message
    inside = result(
        assess(report(fields[:2], rows=RowSource("enterprise")), context(specs), rules), "township_remit"
    )
    assert inside.outcome == "pass"
    assert inside.message == "绑定数据元的字段均在《镇街履职事项清单（示例）》范围内"


def test_custom_fields_cannot_be_checked_against_the_remit(specs, rules):
    loud = with_rule(rules, "township_remit", params={"unbound": "warn"})
    remit = result(assess(report(survey(specs)), context(specs), loud), "township_remit")
    assert remit.outcome == "warn" and "“康复需求”、“已接受的康复服务”" in remit.message
    # The shipped rules leave custom fields to the reviewer without a warning.
    assert result(assess(report(survey(specs)), context(specs), rules), "township_remit").outcome == "pass"


def test_township_remit_without_a_configured_list(specs, rules):
    unconfigured = with_rule(rules, "township_remit", params={"remit": None, "remit_elements": None})
    assert unconfigured.remit is None
    spec = report([bound(specs, "enterprise.annual_revenue"), custom("备用金")], rows=RowSource("enterprise"))
    remit = result(assess(spec, context(specs), unconfigured), "township_remit")
    assert (remit.outcome, remit.message) == ("pass", "未配置镇街履职事项清单，本项不作检查")
    # A list the caller configured (e.g. in the database) is used even when the file names none …
    given = result(
        assess(spec, context(specs, remit=frozenset({"person.*"})), unconfigured), "township_remit"
    )
    assert given.outcome == "block" and "“上年营业收入（万元）”" in given.message
    # … and an inline list in the rules file works too.
    inline = with_rule(unconfigured, "township_remit", params={"remit": ["enterprise.*"], "unbound": "warn"})
    assert inline.remit == {"enterprise.*"}
    assert result(assess(spec, context(specs), inline), "township_remit").outcome == "warn"


# ---------------------------------------------------------------- overlap with live reports


def live(code="visit_2026", **kw) -> LiveReport:
    values = dict(
        code=code,
        title="困难残疾人走访登记表",
        department="区民政局",
        ledger="person",
        frequency="once",
        start=date(2026, 11, 20),
        end=date(2026, 12, 25),
        elements=frozenset(),
        labels=frozenset(),
    )
    values.update(kw)
    return LiveReport(**values)


def ten_fields(specs) -> list[ReportField]:
    customs = [custom("康复需求（项）"), custom("辅具需求"), custom("备注说明")]
    return [*(bound(specs, c) for c in PERSON[:7]), *customs]


def test_sixty_percent_shared_with_a_live_report_of_the_same_period_blocks(specs, rules):
    other = live(elements=frozenset(PERSON[:5]), labels=frozenset({"康复需求"}))  # title normalized
    verdict = assess(report(ten_fields(specs)), context(specs, live_reports=[other]), rules)
    overlap = verdict.overlaps[0]
    assert (overlap.report, overlap.shared, overlap.ratio) == ("visit_2026", 6, 0.6)
    assert overlap.same_period
    assert overlap.fields[-1] == "康复需求（项）"
    blocked = result(verdict, "live_report_overlap")
    assert blocked.outcome == "block" and verdict.decision == "reject"
    assert "有 6 个（60%）与区民政局正在使用的报表“困难残疾人走访登记表”（visit_2026）重复" in blocked.message
    five = live(elements=frozenset(PERSON[:5]))
    passed = result(
        assess(report(ten_fields(specs)), context(specs, live_reports=[five]), rules), "live_report_overlap"
    )
    assert passed.outcome == "pass" and "重复 50%，未达到 60%" in passed.message


@pytest.mark.parametrize(
    ("changes", "same"),
    [
        ({"ledger": "household"}, False),  # another ledger
        ({"start": date(2027, 1, 5), "end": date(2027, 1, 30)}, False),  # starts after our deadline
        ({"start": date(2027, 1, 5), "end": None}, False),
        ({"start": date(2026, 1, 1), "end": date(2026, 11, 28)}, False),  # ended yesterday
        ({"start": date(2026, 1, 1), "end": date(2026, 11, 28), "frequency": "monthly"}, True),  # open-ended
        ({"start": date(2026, 12, 18), "end": date(2027, 1, 30)}, True),  # touches our deadline
    ],
)
def test_same_period_needs_the_same_ledger_and_overlapping_periods(specs, rules, changes, same):
    other = live(elements=frozenset(PERSON[:7]), **changes)
    verdict = assess(report(ten_fields(specs)), context(specs, live_reports=[other]), rules)
    assert [o.same_period for o in verdict.overlaps] == [same]
    assert verdict.overlaps[0].ratio == 0.7
    assert result(verdict, "live_report_overlap").outcome == ("block" if same else "pass")


def test_a_recurring_report_runs_open_ended_and_reports_without_a_ledger_compare_equal(specs, rules):
    other = live(ledger=None, start=date(2027, 3, 1), end=date(2027, 3, 31), elements=frozenset(PERSON[:7]))
    monthly = report(ten_fields(specs), frequency="monthly", rows=RowSource(None))
    assert assess(monthly, context(specs, live_reports=[other]), rules).overlaps[0].same_period
    once = report(ten_fields(specs), rows=RowSource(None))
    assert not assess(once, context(specs, live_reports=[other]), rules).overlaps[0].same_period


def test_every_overlap_is_listed_highest_first(specs, rules):
    reports = [
        live("a_low", elements=frozenset(PERSON[:1])),
        live("b_high", elements=frozenset(PERSON[:3]), ledger="household"),
        live("c_none", elements=frozenset({"land.parcel_code"})),
        live("disability_rehab_2026", elements=frozenset(PERSON)),
    ]  # this report's own earlier version
    verdict = assess(report(ten_fields(specs)), context(specs, live_reports=reports), rules)
    listed = [(o.report, o.shared, o.ratio) for o in verdict.overlaps]
    assert listed == [("b_high", 3, 0.3), ("a_low", 1, 0.1)]
    assert result(verdict, "live_report_overlap").message == (
        "同期在用报表中与本表重复最多的是区民政局的“困难残疾人走访登记表”，重复 10%，未达到 60%"
    )
    alone = result(assess(report(ten_fields(specs)), context(specs), rules), "live_report_overlap")
    assert alone.message == "没有取自同一台账、时段重叠且字段重复的在用报表"


def test_overlap_ratio_is_rounded_to_four_places(specs, rules):
    fields = [bound(specs, "person.name"), custom("康复需求"), custom("辅具需求")]
    other = live(elements=frozenset({"person.name"}))
    assert assess(report(fields), context(specs, live_reports=[other]), rules).overlaps[0].ratio == 0.3333


# ---------------------------------------------------------------- coverage and the decision


def test_coverage_per_column_copies_fill_rate_and_freshness(specs, rules):
    updated = datetime(2026, 11, 28, 21, 5)
    holdings = {"person.name": Holding("person.name", "person", "name", 0.998, updated, "每日")}
    fields = [bound(specs, "person.name"), bound(specs, "person.phone"), custom("康复需求")]
    coverage = assess(report(fields), context(specs, holdings), rules).coverage
    name, phone, needs = coverage.columns
    assert (name.held, name.ledger, name.fill_rate, name.updated_at, name.update_frequency) == (
        True,
        "person",
        0.998,
        updated,
        "每日",
    )
    assert (phone.held, phone.ledger, phone.fill_rate, phone.update_frequency) == (False, None, None, "按需")
    assert (needs.field, needs.label, needs.element, needs.held) == ("康复需求", "康复需求", None, False)
    assert (coverage.data_fields, coverage.bound, coverage.ratio) == (3, 1, 0.3333)
    empty = assess(report([]), context(specs), rules)
    assert (empty.coverage.data_fields, empty.coverage.ratio) == (0, 0)
    assert result(empty, "ledger_coverage").outcome == "pass"


@pytest.mark.parametrize(
    ("changes", "decision"),
    [
        ({"basis": "", "frequency": "monthly"}, "reject"),  # block beats extract and warn
        ({"frequency": "monthly"}, "extract"),  # extract beats warn
        ({}, "extract"),
    ],
)
def test_decision_precedence_with_a_held_report(specs, rules, changes, decision):
    held_report = report([bound(specs, c) for c in PERSON], justification="核对残疾人身份", **changes)
    verdict = assess(held_report, context(specs), rules)
    assert verdict.decision == decision
    if "frequency" in changes:
        assert result(verdict, "recurring_to_ledger").outcome == "warn"


def test_decision_review_and_admit(specs, rules):
    assert assess(report(survey(specs), frequency="quarterly"), context(specs), rules).decision == "review"
    clean = with_rule(rules, "township_remit", params={"unbound": "pass"})
    verdict = assess(report(survey(specs)), context(specs), clean)
    assert {r.outcome for r in verdict.rules} == {"pass"} and verdict.decision == "admit"
    warn_only = with_rule(rules, "basis_required", level="warn")
    assert assess(report(survey(specs), basis=""), context(specs), warn_only).decision == "review"


def test_disabled_and_unknown_rules_are_left_out(specs, rules):
    disabled = with_rule(rules, "department_quota", enabled=False)
    extra = Rule(id="no_such_rule", level="block", title="?", message="?", params={})
    rule_set = dataclasses.replace(disabled, rules=(*disabled.rules, extra))
    verdict = assess(report(survey(specs)), context(specs, department_reports_this_month=9), rule_set)
    assert "department_quota" not in {r.id for r in verdict.rules}
    assert "no_such_rule" not in {r.id for r in verdict.rules}
    assert len(verdict.rules) == len(rules.rules) - 1


def test_to_json_has_exactly_the_cli_contract_shape(specs, rules):
    other = live(elements=frozenset(PERSON[:2]))
    verdict = assess(
        report(ten_fields(specs)), context(specs, live_reports=[other]), only(rules, "max_fields")
    )
    data = verdict.to_json()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert list(data) == ["coverage", "rules", "overlaps", "decision"]
    assert data["coverage"] == {"data_fields": 10, "bound": 7, "ratio": 0.7}
    assert data["rules"] == [
        {"id": "max_fields", "outcome": "pass", "message": "本表有 10 个数据字段（上限 40 个）"}
    ]
    assert data["overlaps"] == [
        {"report": "visit_2026", "title": "困难残疾人走访登记表", "shared": 2, "ratio": 0.2}
    ]
    assert data["decision"] == "admit"


def test_an_aggregate_report_is_held_by_the_ledgers_yet_goes_out_for_confirmation(specs, rules):
    from builder.reports.spec import load_reports

    spec = load_reports(specs.root, specs)["land_transfer_summary"]
    verdict = assess(spec, context(specs), rules)
    coverage = result(verdict, "ledger_coverage")
    formulas = sum(1 for f in spec.fields if f.formula)
    assert verdict.coverage.bound == formulas and verdict.coverage.ratio > 0.9
    assert coverage.outcome == "pass" and "汇总型报表" in coverage.message and "核对确认" in coverage.message
    assert verdict.decision != "extract"
