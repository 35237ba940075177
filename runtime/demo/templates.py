"""Realistic Excel templates departments already use, as .xlsx bytes, for the demo, tests and bench.

Each one looks like the files townships receive: a merged title row, a 填报单位/填报日期 line, a
header of one or two levels (group captions merged over leaf labels, leaf labels merged down
over both header rows), sample rows typed as Excel types them, a 合计 row, a signature line and
填表说明. Pure: no database, no Flask.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import xlsxwriter

from builder.checkdigits import id_check_char

#: A header: leaf labels, or (caption, [leaves …]) groups; a leaf outside a group spans all rows.
Header = Sequence["str | tuple[str, Header]"]


@dataclass
class _Layout:
    """What one template holds, top to bottom."""

    title: str
    unit_left: str
    unit_right: str
    header: Header
    rows: list[list[Any]]
    footer: list[str] = field(default_factory=list)
    total: list[Any] | None = None
    choices: dict[str, list[str]] = field(default_factory=dict)
    widths: dict[str, int] = field(default_factory=dict)


def _id(first17: str) -> str:
    """Return a citizen ID number with its check character."""
    return first17 + id_check_char(first17)


def sample_templates() -> dict[str, bytes]:
    """Return the sample templates by file name, as .xlsx bytes."""
    return {
        "困难残疾人生活补贴和重度残疾人护理补贴申请汇总表.xlsx": _write(_disability_roster()),
        "农村土地经营权流转情况核查表.xlsx": _write(_land_transfer_check()),
        "城乡低保家庭复核表.xlsx": _write(_low_income_review()),
    }


def _disability_roster() -> _Layout:
    """Return the disability subsidy application roster: applicant, household, guardian, parents."""
    child, father, mother = _id("50011820120715301"), _id("50011819840302301"), _id("50011819860911302")
    adult, elder = _id("50011819850315122"), _id("50011819501108282")
    return _Layout(
        title="困难残疾人生活补贴和重度残疾人护理补贴申请汇总表",
        unit_left="填报单位（盖章）：          镇（街道）          村（社区）",
        unit_right="填报日期：      年    月    日",
        header=[
            "序号",
            "姓名",
            "身份证号码",
            "性别",
            "出生年月\n(yyyy.mm)",
            "残疾证号",
            "残疾类别",
            "残疾等级",
            "联系电话",
            "户籍地址",
            "户主姓名",
            "家庭人口",
            "家庭住址",
            "监护人姓名",
            "监护人电话",
            ("父亲", ["姓名", "身份证号"]),
            ("母亲", ["姓名", "身份证号"]),
            "补贴类别",
            "本人签字",
            "村（社区）意见",
        ],
        rows=[
            [
                1,
                "陈晓梅",
                adult,
                "女",
                "1985.03",
                adult + "42",
                "肢体",
                "二级",
                "13896012345",
                "重庆市永川区中山路街道红旗社区",
                "陈建国",
                4,
                "永川区中山路街道红旗社区3组12号",
                None,
                None,
                None,
                None,
                None,
                None,
                "困难残疾人生活补贴",
                None,
                None,
            ],
            [
                2,
                "刘子涵",
                child,
                "男",
                "2012.07",
                child + "51",
                "智力",
                "一级",
                None,
                "重庆市永川区胜利路街道萱花社区",
                "刘明",
                3,
                "永川区胜利路街道萱花社区7栋2单元",
                "刘明",
                "13908361234",
                "刘明",
                father,
                "王丽",
                mother,
                "重度残疾人护理补贴",
                None,
                None,
            ],
            [
                3,
                "黄秀英",
                elder,
                "女",
                "1950.11",
                elder + "13",
                "视力",
                "三级",
                "023-49871234",
                "重庆市永川区来苏镇观音井村",
                "张国平",
                2,
                "永川区来苏镇观音井村5组",
                "张国平",
                "13594812345",
                None,
                None,
                None,
                None,
                "两项补贴",
                None,
                None,
            ],
        ],
        total=["合计", None, "3人"],
        footer=[
            "填表人：                审核人：                联系电话：",
            "填表说明：\n1. 身份证号码、残疾证号请以文本格式填写，不得使用科学计数法；\n"
            "2. 出生年月按“yyyy.mm”格式填写；\n3. 补贴类别从下拉列表中选择；\n"
            "4. 父亲、母亲信息仅未满18周岁的申请人填写。",
        ],
        choices={"补贴类别": ["困难残疾人生活补贴", "重度残疾人护理补贴", "两项补贴"], "性别": ["男", "女"]},
        widths={"身份证号码": 21, "残疾证号": 23, "户籍地址": 28, "家庭住址": 28, "身份证号": 21},
    )


def _land_transfer_check() -> _Layout:
    """Return the rural land transfer check: contractor, transferee and transfer under captions."""
    return _Layout(
        title="农村土地经营权流转情况核查表",
        unit_left="填报单位：          镇（街道）          村（社区）",
        unit_right="核查日期：      年    月    日",
        header=[
            "序号",
            "地块编码",
            ("承包方", ["姓名", "身份证号", "承包面积（亩）"]),
            ("流入方", ["名称", "类型"]),
            (
                "流转情况",
                [
                    "流转面积（亩）",
                    "流转方式",
                    "起始日期",
                    "终止日期",
                    "流转价格（元/亩·年）",
                    "是否拖欠租金",
                ],
            ),
            "核查人签字",
            "备注",
        ],
        rows=[
            [
                1,
                "5001181050010100015",
                "张德明",
                _id("50011819650412301"),
                3.6,
                "永川区丰源种植专业合作社",
                "农民专业合作社",
                3.2,
                "出租",
                dt.date(2020, 3, 1),
                dt.date(2030, 2, 28),
                600,
                "否",
                None,
                None,
            ],
            [
                2,
                "5001181050010100023",
                "李秀兰",
                _id("50011819700823302"),
                2.15,
                "重庆绿野农业开发有限公司",
                "企业",
                2.15,
                "入股",
                dt.date(2019, 1, 1),
                dt.date(2028, 12, 31),
                450.5,
                "是",
                None,
                "租金拖欠一年",
            ],
            [
                3,
                "5001181050010200017",
                "王志强",
                _id("50011819581130301"),
                4.0,
                "周光荣",
                "家庭农场",
                1.5,
                "出租",
                dt.date(2022, 10, 1),
                dt.date(2027, 9, 30),
                520,
                "否",
                None,
                None,
            ],
        ],
        footer=[
            "核查人：                村（社区）负责人：                镇（街道）审核人：",
            "说明：1. 流转方式填写出租（转包）、入股或其他方式；2. 起始日期、终止日期按合同填写。",
        ],
        choices={"是否拖欠租金": ["是", "否"], "流转方式": ["出租（转包）", "出租", "入股", "其他"]},
        widths={"地块编码": 22, "身份证号": 21, "名称": 26},
    )


def _low_income_review() -> _Layout:
    """Return the yearly review of urban and rural minimum-living-allowance households."""
    return _Layout(
        title="城乡低保家庭复核表",
        unit_left="填报单位：          镇（街道）",
        unit_right="复核年度：2024年",
        header=[
            "序号",
            "户主姓名",
            "户主身份证号码",
            "家庭人口",
            "家庭住址",
            "联系电话",
            "保障类别",
            ("家庭收入情况（元/年）", ["工资性收入", "经营净收入", "财产净收入", "转移净收入"]),
            "家庭年人均纯收入（元）",
            "复核结论",
            "户主签字",
            "镇街审核意见",
        ],
        rows=[
            [
                1,
                "赵德福",
                _id("50011819620505301"),
                3,
                "永川区朱沱镇汉东村2组",
                "13709451234",
                "农村低保",
                8400,
                2600,
                0,
                3120.5,
                4706.83,
                "继续保障",
                None,
                None,
            ],
            [
                2,
                "孙桂芳",
                _id("50011819740221302"),
                2,
                "永川区卫星湖街道南华社区1栋",
                "13983712345",
                "城市低保",
                15600,
                0,
                1200,
                2400,
                9600,
                "调整保障金额",
                None,
                None,
            ],
            [
                3,
                "周永红",
                _id("50011819580913301"),
                1,
                "永川区何埂镇石梯村6组",
                None,
                "农村特困",
                0,
                1800,
                0,
                6960,
                8760,
                "继续保障",
                None,
                None,
            ],
        ],
        total=["合计", None, None, 6],
        footer=[
            "经办人：                复核人：                联系电话：",
            "注：家庭收入按复核前12个月计算，复核结论填写继续保障、调整保障金额或停止保障。",
        ],
        choices={
            "复核结论": ["继续保障", "调整保障金额", "停止保障"],
            "保障类别": ["城市低保", "农村低保", "农村特困", "城市特困"],
        },
        widths={"户主身份证号码": 21, "家庭住址": 28},
    )


_WIDE_GROUPS: list[tuple[str, list[str]]] = [
    (
        "基本信息",
        [
            "姓名",
            "公民身份号码",
            "性别",
            "出生日期",
            "民族",
            "联系电话",
            "户籍地址",
            "现住址",
            "文化程度",
            "婚姻状况",
            "政治面貌",
        ],
    ),
    (
        "家庭情况",
        [
            "户编号",
            "户主姓名",
            "与户主关系",
            "家庭人口数",
            "家庭住址",
            "家庭年人均纯收入（元）",
            "脱贫监测类别",
        ],
    ),
    ("就业与社保", ["就业状况", "职业", "养老保险参保情况", "医疗保险参保情况", "银行卡号", "救助类别"]),
    ("残疾情况", ["残疾证号", "残疾类别", "残疾等级", "监护人姓名", "监护人电话"]),
    (
        "住房情况",
        ["房屋编码", "房屋坐落", "房屋结构", "建筑面积（平方米）", "层数", "建成年份", "房屋安全等级"],
    ),
    (
        "土地情况",
        [
            "地块编码",
            "承包地面积（亩）",
            "是否流转",
            "流入方名称",
            "流转面积（亩）",
            "流转方式",
            "流转起始日期",
            "流转终止日期",
            "流转价格（元/亩·年）",
        ],
    ),
    ("经营主体", ["统一社会信用代码", "企业名称", "法定代表人", "所属行业", "注册资本（万元）", "从业人数"]),
    ("走访情况", ["走访日期", "走访人员", "存在困难", "帮扶措施", "群众诉求", "是否满意"]),
]

_HUKOU = ("重庆市永川区中山路街道红旗社区", "重庆市永川区胜利路街道萱花社区", "重庆市永川区来苏镇观音井村")
_HOMES = ("永川区中山路街道红旗社区3组12号", "永川区胜利路街道萱花社区7栋2单元", "永川区来苏镇观音井村5组")
_WIDE_SAMPLES: dict[str, tuple[Any, Any, Any]] = {
    "姓名": ("陈晓梅", "刘明", "黄秀英"),
    "公民身份号码": (_id("50011819850315122"), _id("50011819840302301"), _id("50011819501108282")),
    "性别": ("女", "男", "女"),
    "出生日期": (dt.date(1985, 3, 15), dt.date(1984, 3, 2), dt.date(1950, 11, 8)),
    "联系电话": ("13896012345", "13908361234", "023-49871234"),
    "家庭人口数": (4, 3, 2),
    "层数": (2, 6, 1),
    "建成年份": (1998, 2012, 1985),
    "从业人数": (12, 3, 45),
    "家庭年人均纯收入（元）": (12800.5, 9600, 15230),
    "建筑面积（平方米）": (120.5, 86, 210.75),
    "承包地面积（亩）": (3.6, 2.15, 4),
    "流转面积（亩）": (3.2, 2.15, 1.5),
    "流转价格（元/亩·年）": (600, 450.5, 520),
    "注册资本（万元）": (50, 200, 1000),
    "流转起始日期": (dt.date(2020, 3, 1), dt.date(2019, 1, 1), dt.date(2022, 10, 1)),
    "流转终止日期": (dt.date(2030, 2, 28), dt.date(2028, 12, 31), dt.date(2027, 9, 30)),
    "走访日期": (dt.date(2024, 5, 6), dt.date(2024, 5, 7), dt.date(2024, 5, 9)),
    "是否流转": ("是", "是", "否"),
    "是否满意": ("是", "是", "否"),
    "民族": ("汉族", "汉族", "土家族"),
    "文化程度": ("高中", "初中", "小学"),
    "婚姻状况": ("已婚", "已婚", "丧偶"),
    "政治面貌": ("群众", "中共党员", "群众"),
    "户籍地址": _HUKOU,
    "现住址": _HOMES,
    "户编号": ("500118003001000123", "500118004002000456", "500118105003000789"),
    "户主姓名": ("陈建国", "刘明", "张国平"),
    "与户主关系": ("配偶", "户主", "母亲"),
    "家庭住址": _HOMES,
    "脱贫监测类别": ("一般农户", "脱贫户", "监测户"),
    "就业状况": ("务工", "灵活就业", "无业"),
    "职业": ("个体经营", "建筑工人", "务农"),
    "养老保险参保情况": ("城乡居民养老保险", "职工养老保险", "城乡居民养老保险"),
    "医疗保险参保情况": ("城乡居民医保", "职工医保", "城乡居民医保"),
    "银行卡号": ("6228480478123456789", "6217003760012345678", "6230520780001234567"),
    "救助类别": ("", "低保", "特困"),
    "残疾证号": (_id("50011819850315122") + "42", "", _id("50011819501108282") + "13"),
    "残疾类别": ("肢体", "", "视力"),
    "残疾等级": ("二级", "", "三级"),
    "监护人姓名": ("", "", "张国平"),
    "监护人电话": ("", "", "13594812345"),
    "房屋结构": ("砖混", "框架", "砖木"),
    "房屋安全等级": ("A级", "B级", "C级"),
    "流转方式": ("出租", "入股", "出租"),
    "流入方名称": ("永川区丰源种植专业合作社", "重庆绿野农业开发有限公司", "周光荣"),
    "企业名称": ("重庆绿野农业开发有限公司", "永川区丰源种植专业合作社", "重庆永川茶竹食品有限公司"),
    "法定代表人": ("周光荣", "张德明", "李秀兰"),
    "所属行业": ("农业", "农业", "制造业"),
    "走访人员": ("王磊", "王磊", "李静"),
    "存在困难": ("医疗负担重", "", "行动不便"),
    "帮扶措施": ("医疗救助", "", "上门服务"),
    "群众诉求": ("", "就业岗位", "无障碍改造"),
}


def wide_template(columns: int = 60) -> bytes:
    """Return a template with `columns` columns under a two-level merged header (for the bench)."""
    if columns < 2:
        raise ValueError("columns must be at least 2")
    items: list[tuple[str | None, str]] = [(None, "序号")]
    items += [(caption, label) for caption, labels in _WIDE_GROUPS for label in labels]
    items += [("其他指标", f"补充指标{n}") for n in range(1, columns)]
    items = items[: columns - 1] + [(None, "本人签字")]
    header: list[Any] = []
    for caption, label in items:
        if caption is None:
            header.append(label)
        elif header and isinstance(header[-1], tuple) and header[-1][0] == caption:
            header[-1][1].append(label)
        else:
            header.append((caption, [label]))
    rows = [[_wide_sample(label, n) for _, label in items] for n in range(3)]
    return _write(
        _Layout(
            title="永川区基层综合信息采集表",
            unit_left="填报单位：          镇（街道）",
            unit_right="填报日期：      年    月    日",
            header=header,
            rows=rows,
            footer=["填表人：                审核人："],
        )
    )


def _wide_sample(label: str, n: int) -> Any:
    """Return the n-th sample value of a wide template's column."""
    if label == "序号":
        return n + 1
    if label == "本人签字":
        return None
    return _WIDE_SAMPLES.get(label, (f"{label}示例",) * 3)[n]


def _leaves(header: Header, depth: int = 0) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """Return the leaves of a header, each with its level and its (caption, level) ancestors."""
    leaves: list[tuple[str, int, list[tuple[str, int]]]] = []
    for node in header:
        if isinstance(node, str):
            leaves.append((node, depth, []))
        else:
            for label, level, above in _leaves(node[1], depth + 1):
                leaves.append((label, level, [(node[0], depth), *above]))
    return leaves


def _write(layout: _Layout) -> bytes:
    """Write a layout as an .xlsx workbook and return its bytes."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Sheet1")
    title = workbook.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    plain = workbook.add_format({"font_size": 10})
    head = workbook.add_format(
        {
            "bold": True,
            "border": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
            "bg_color": "#F2F2F2",
        }
    )
    cell = workbook.add_format({"border": 1, "valign": "vcenter"})
    date = workbook.add_format({"border": 1, "valign": "vcenter", "num_format": "yyyy-mm-dd"})
    note = workbook.add_format({"text_wrap": True, "valign": "top", "font_size": 10})
    leaves = _leaves(layout.header)
    last = len(leaves) - 1
    depth = max(len(above) for _, _, above in leaves) + 1
    sheet.set_row(0, 32)
    sheet.merge_range(0, 0, 0, last, layout.title, title)
    middle = max(1, len(leaves) * 3 // 5)
    _put(sheet, 1, 0, 1, middle - 1, layout.unit_left, plain)
    _put(sheet, 1, middle, 1, max(middle, last), layout.unit_right, plain)
    _write_header(sheet, leaves, depth, head)
    first_data = 2 + depth
    for r, values in enumerate(layout.rows, start=first_data):
        for c, value in enumerate(values):
            _write_cell(sheet, r, c, value, date if isinstance(value, dt.date) else cell)
    row = first_data + len(layout.rows)
    if layout.total is not None:
        for c in range(len(leaves)):
            value = layout.total[c] if c < len(layout.total) else None
            _write_cell(sheet, row, c, value, cell)
        row += 1
    for text in layout.footer:
        lines = text.count("\n") + 1
        sheet.set_row(row, 15 * lines)
        sheet.merge_range(row, 0, row, last, text, note)
        row += 1
    for c, (label, _, _) in enumerate(leaves):
        sheet.set_column(c, c, layout.widths.get(label, max(6, min(16, len(label) * 2 + 2))))
        if label in layout.choices:
            sheet.data_validation(
                first_data, c, first_data + 200, c, {"validate": "list", "source": layout.choices[label]}
            )
    sheet.freeze_panes(first_data, 0)
    workbook.close()
    return buffer.getvalue()


def _write_header(
    sheet: Any, leaves: list[tuple[str, int, list[tuple[str, int]]]], depth: int, head: Any
) -> None:
    """Write the header rows: captions merged across their leaves, leaves merged down to the bottom."""
    top = 2
    done: set[tuple[str, int, int]] = set()
    for c, (label, level, above) in enumerate(leaves):
        for caption, cap_level in above:
            first = c
            while first > 0 and (caption, cap_level) in leaves[first - 1][2]:
                first -= 1
            if (caption, cap_level, first) in done:
                continue
            done.add((caption, cap_level, first))
            end = c
            while end + 1 < len(leaves) and (caption, cap_level) in leaves[end + 1][2]:
                end += 1
            _put(sheet, top + cap_level, first, top + cap_level, end, caption, head)
        _put(sheet, top + level, c, top + depth - 1, c, label, head)


def _put(sheet: Any, r1: int, c1: int, r2: int, c2: int, text: str, fmt: Any) -> None:
    """Write text into one cell or a merged range."""
    if (r1, c1) == (r2, c2):
        sheet.write_string(r1, c1, text, fmt)
    else:
        sheet.merge_range(r1, c1, r2, c2, text, fmt)


def _write_cell(sheet: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    """Write a value with its Excel type: text stays text (ID numbers, phones), dates are dates."""
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value, fmt)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)
