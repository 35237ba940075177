"""A district-sized synthetic catalog for the matching benchmark: the real catalog plus generated
department elements with realistic names and aliases (“低保金发放金额（元）”, “特困供养认定日期”)."""

from __future__ import annotations

import random
from collections.abc import Mapping

from builder.catalog.specs import Element

#: (group, department, topics): some departments extend the standard ledgers, some add their own.
DEPARTMENTS = (
    (
        "person",
        "区民政局",
        (
            "低保",
            "特困供养",
            "临时救助",
            "高龄津贴",
            "孤儿保障",
            "留守儿童关爱",
            "居家养老服务",
            "困难残疾人生活补贴",
            "重度残疾人护理补贴",
            "殡葬补助",
        ),
    ),
    ("person", "区残联", ("康复服务", "辅助器具适配", "残疾人就业", "无障碍改造", "残疾儿童康复救助")),
    ("household", "区乡村振兴局", ("防返贫监测", "帮扶措施", "产业帮扶", "小额信贷", "雨露计划", "易地搬迁")),
    (
        "land",
        "区农业农村委",
        (
            "耕地地力补贴",
            "种粮大户补贴",
            "农机购置补贴",
            "高标准农田",
            "家庭农场",
            "畜禽养殖",
            "农村宅基地",
            "撂荒地整治",
        ),
    ),
    ("house", "区住房城乡建委", ("农村危房改造", "公租房保障", "农房安全鉴定", "老旧小区改造", "物业管理")),
    ("enterprise", "区市场监管局", ("食品经营许可", "特种设备", "广告登记", "商标注册", "信用修复")),
    (
        "social",
        "区人力社保局",
        (
            "就业登记",
            "失业保险",
            "城乡居民养老保险",
            "工伤保险",
            "职业技能培训",
            "创业担保贷款",
            "公益性岗位",
            "劳动用工备案",
        ),
    ),
    (
        "health",
        "区卫生健康委",
        (
            "家庭医生签约",
            "慢病随访",
            "疫苗接种",
            "孕产妇保健",
            "计划生育奖励扶助",
            "健康体检",
            "严重精神障碍管理",
        ),
    ),
    (
        "edu",
        "区教育委员会",
        ("学籍管理", "学生资助", "营养改善计划", "义务教育入学", "学前教育资助", "控辍保学"),
    ),
    ("veteran", "区退役军人事务局", ("优抚对象", "退役安置", "定期抚恤", "立功受奖", "带病回乡")),
    ("emergency", "区应急管理局", ("自然灾害救助", "避险转移", "地质灾害隐患点", "应急物资储备", "森林防火")),
    ("medical", "区医疗保障局", ("医疗救助", "大病保险", "门诊慢特病", "参保缴费资助", "异地就医备案")),
    ("stats", "区统计局", ("农业普查", "经济普查", "人口抽样调查", "劳动力调查")),
)

#: (attribute, JSON Schema, alias spellings of the attribute).
ATTRIBUTES = (
    ("发放金额（元）", {"type": "number", "minimum": 0}, ("发放金额", "金额（元）", "发放标准")),
    ("申请日期", {"type": "string", "format": "date"}, ("申请时间", "申报日期")),
    ("认定日期", {"type": "string", "format": "date"}, ("认定时间", "确认日期")),
    ("起始日期", {"type": "string", "format": "date"}, ("开始日期", "开始时间")),
    ("终止日期", {"type": "string", "format": "date"}, ("结束日期", "截止日期")),
    ("类别", {"type": "string"}, ("类型", "种类")),
    ("等级", {"type": "string"}, ("级别",)),
    ("人数", {"type": "integer", "minimum": 0}, ("人数（人）", "人口数")),
    ("编号", {"type": "string"}, ("编码", "证号")),
    ("状态", {"type": "string"}, ("情况", "状况")),
    ("标准（元/月）", {"type": "number", "minimum": 0}, ("月标准", "标准")),
    ("面积（亩）", {"type": "number", "minimum": 0}, ("面积",)),
    ("是否享受", {"type": "boolean"}, ("是否享受待遇", "享受情况")),
    ("次数", {"type": "integer", "minimum": 0}, ("次数（次）", "累计次数")),
    ("原因", {"type": "string"}, ("事由", "理由")),
    ("经办机构", {"type": "string"}, ("办理机构", "经办单位")),
)
QUALIFIERS = ("", "上年", "本年", "累计", "首次", "最近一次", "年度", "季度")


def synthetic_catalog(n: int, base: Mapping[str, Element], *, seed: int = 20261125) -> dict[str, Element]:
    """Return the real catalog plus generated department elements, `n` elements in all."""
    catalog = dict(base)
    combos = [
        (group, department, topic, qualifier, attribute)
        for group, department, topics in DEPARTMENTS
        for topic in topics
        for qualifier in QUALIFIERS
        for attribute in ATTRIBUTES
    ]
    random.Random(seed).shuffle(combos)
    for i, (group, department, topic, qualifier, (attr, schema, spellings)) in enumerate(combos):
        if len(catalog) >= n:
            break
        name = f"{qualifier}{topic}{attr}"
        short_dept = department.removeprefix("区").removesuffix("局").removesuffix("委")
        aliases = [f"{qualifier}{topic}{s}" for s in spellings] + [f"{short_dept}{name}"]
        code = f"{group}.syn_{i:05d}"
        catalog[code] = Element(
            code=code,
            name=name,
            schema=dict(schema),
            sensitivity="internal",
            aliases=tuple(dict.fromkeys(a for a in aliases if a != name)),
            source=department,
            department=department,
            update_frequency="每月",
            description=f"{department}{topic}工作中登记的{attr}。",
        )
    return catalog
