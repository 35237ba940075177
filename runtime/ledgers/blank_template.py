"""A blank import template of a ledger: its header, each column's format and options in a comment.

A keeper fills it and imports it back: the header is the fields' standard names (which the import
recognises), choice columns carry drop-down lists, code columns (ID numbers, phones) are text so
Excel keeps every digit, and a second sheet says how the import treats the file.
"""

from __future__ import annotations

import io

import xlsxwriter

from builder.catalog.specs import Field, Ledger

#: Excel refuses a drop-down list whose options add up to more than this many characters.
LIST_LIMIT = 255
#: Column formats people type, by the field's schema.
FORMATS = {
    "date": "日期，写作 年-月-日，如 2026-12-05（2026/12/5、2026年12月5日 也可以）",
    "integer": "整数",
    "number": "数字（可带小数）",
    "boolean": "是 或 否",
}


def _describe(field: Field, ledger: Ledger) -> str:
    """Return what a column's comment says: key or required, format, options."""
    schema = field.schema
    lines = []
    if field.name == ledger.key:
        lines.append("关键列：按它找到已有的记录，必须填写")
    elif field.required:
        lines.append("新建记录时必填；只更新已有记录时可以留空")
    kind = schema.get("type")
    if schema.get("format") == "date":
        lines.append(FORMATS["date"])
    elif isinstance(kind, str) and kind in FORMATS:
        lines.append(FORMATS[kind])
    if schema.get("enum"):
        lines.append("可选：" + "、".join(str(v) for v in schema["enum"]))
    if schema.get("maxLength"):
        lines.append(f"最多 {schema['maxLength']} 个字")
    if field.element.description:
        lines.append(field.element.description)
    return "\n".join(lines) or "文字"


def blank_template(ledger: Ledger) -> bytes:
    """Return the .xlsx bytes of a blank import template of `ledger`."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(ledger.title[:31])
    head = book.add_format({"bold": True, "bg_color": "#F3E3E1", "border": 1, "text_wrap": True})
    needed = book.add_format({"bold": True, "bg_color": "#F3E3E1", "border": 1, "font_color": "#B42318"})
    text = book.add_format({"num_format": "@"})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    for col, field in enumerate(ledger.fields):
        required = field.name == ledger.key or field.required
        sheet.write_string(0, col, field.title, needed if required else head)
        sheet.write_comment(0, col, _describe(field, ledger), {"x_scale": 2, "y_scale": 2})
        schema = field.schema
        kind = schema.get("type")
        width = max(10, min(30, len(field.title) * 2 + 2))
        if schema.get("format") == "date":
            sheet.set_column(col, col, 12, date)
        elif kind in ("integer", "number", "boolean"):
            sheet.set_column(col, col, width)
        else:  # codes and text: text cells keep 18-digit IDs and leading zeros
            sheet.set_column(col, col, width, text)
        options = [str(v) for v in schema.get("enum") or ()]
        if options and len(",".join(options)) <= LIST_LIMIT:
            sheet.data_validation(
                1,
                col,
                10_000,
                col,
                {
                    "validate": "list",
                    "source": options,
                    "error_title": "不在可选范围内",
                    "error_message": "请从下拉列表中选择：" + "、".join(options)[:200],
                },
            )
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("填写说明")
    notes.set_column(0, 0, 100)
    for row, line in enumerate(
        (
            f"{ledger.title}导入模板",
            "每行一条记录；第一行是表头，请不要改动列名（把鼠标移到列名上可看格式与可选值）。",
            "红色列名：关键列和新建记录时必填的列。",
            "已有的记录按关键列更新：文件可以只保留关键列和要改的列，空单元格不会清空已有的值。",
            "台账中没有的记录会被新建，这时必填的列都要填写。",
            "有问题的行不会导入，导入后可以下载错误报告，其中写明每一行的每个问题。",
        )
    ):
        notes.write_string(row, 0, line)
    book.close()
    return out.getvalue()
