"""The demo district's departments and logins."""

from __future__ import annotations

DEMO_PASSWORD = "yibiaotong"

#: (code, name) of the district departments.
DEPARTMENTS = (
    ("gaigeban", "区委办（改革办）"),
    ("minzheng", "区民政局"),
    ("canlian", "区残联"),
    ("nongye", "区农业农村委"),
    ("gongan", "区公安分局"),
    ("zhujian", "区住建委"),
    ("shichang", "区市场监管局"),
    ("renshe", "区人力社保局"),
    ("tuiyi", "区退役军人事务局"),
)

#: Pinyin login names of the 23 townships, in catalog order.
TOWNSHIP_LOGINS = (
    "zhongshanlu",
    "shenglilu",
    "nandajie",
    "chashanzhuhai",
    "daan",
    "chenshi",
    "weixinghu",
    "qingfeng",
    "jinlong",
    "linjiang",
    "hegeng",
    "songgai",
    "xianlong",
    "jian",
    "wujian",
    "laisu",
    "baofeng",
    "shuangshi",
    "honglu",
    "yongrong",
    "sanjiao",
    "banqiao",
    "zhutuo",
)

#: (username, display name, role, department code) of the district-level demo users.
DISTRICT_USERS = (
    ("admin", "系统管理员", "admin", None),
    ("keeper", "数据管理岗 刘敏", "keeper", None),
    ("minzheng", "区民政局 王强", "department", "minzheng"),
    ("canlian", "区残联 陈静", "department", "canlian"),
    ("nongye", "区农业农村委 赵刚", "department", "nongye"),
    ("tuiyi", "区退役军人事务局 李军", "department", "tuiyi"),
    ("reviewer", "改革办审核员 周涛", "reviewer", "gaigeban"),
    ("leader", "区领导 孙伟", "leader", None),
)
