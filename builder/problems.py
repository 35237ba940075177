"""Coded findings about an uploaded file, with the Chinese message the uploader must act on.

Modelled on pyxform's error codes: each member of `FileProblem` is a message template written
for the person holding the file, not for a developer. Cell-level findings are plain strings made
by `builder.tabular.coercion`.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class FileProblem(Enum):
    """Why a whole file cannot be imported; the value is the message template."""

    UNSUPPORTED_TYPE = (
        "不支持“{extension}”类型的文件，请上传 Excel（.xlsx、.xls）、WPS（.et 另存为 .xlsx）、"
        ".ods 或 .csv 文件"
    )
    NOT_SPREADSHEET = (
        "文件“{filename}”的内容不是{kind}表格（可能只是改了扩展名，或文件已损坏），"
        "请用 Excel 或 WPS 打开后另存为 .xlsx 再上传"
    )
    HTML_DISGUISED = (
        "文件“{filename}”实际上是网页（HTML/XML），只是扩展名为 {extension}；"
        "请用 Excel 或 WPS 打开后另存为 .xlsx 再上传"
    )
    ENCRYPTED = "文件“{filename}”设有打开密码，请在 Excel 或 WPS 中取消密码后再上传"
    FILE_EMPTY = "文件“{filename}”是空的，没有可导入的数据"
    TOO_LARGE = "文件大小为 {size_mb} MB，超过了 {limit_mb} MB 的上限，请拆分成几个文件分批导入"
    UNPACKED_TOO_LARGE = (
        "文件“{filename}”解压后超过 {limit_mb} MB 的上限（Excel 文件是压缩包，内容可能远大于文件本身），"
        "请拆分成几个文件分批上传"
    )
    TOO_MANY_CELLS = (
        "文件“{filename}”的一张工作表有 {count} 个单元格（从 A1 到最后一个有内容的单元格），"
        "超过了 {limit} 个的上限；请删除表格右侧和下方多余的内容，或拆分成几个文件分批上传"
    )
    TOO_MANY_ROWS = (
        "文件“{filename}”有 {count} 行，超过了 {limit} 行的上限；请删除多余的行，或拆分成几个文件分批上传"
    )
    TOO_MANY_COLUMNS = (
        "文件“{filename}”有 {count} 列，超过了 {limit} 列的上限；请删除表格右侧多余的列后再上传"
    )
    TOO_MANY_STRINGS = (
        "文件“{filename}”包含的文字条目或合并单元格超过了 {limit} 个的上限，请拆分成几个文件分批上传"
    )
    TOO_MANY_PARTS = (
        "文件“{filename}”内部的组成部分超过 {limit} 个，不像是正常的表格文件；"
        "请用 Excel 或 WPS 打开后另存为 .xlsx 再上传"
    )
    TOO_COMPLEX = (
        "文件“{filename}”过大或过于复杂，服务器无法读取；请拆分成几个文件，"
        "或用 Excel 或 WPS 另存为 .xlsx 后再上传"
    )
    BUSY = "服务器正在读取另一个大文件，请稍等几分钟后再上传“{filename}”"
    UNKNOWN_LEDGER = "没有名为“{ledger}”的台账。{choices}"
    SHEET_UNREADABLE = (
        "文件“{filename}”无法读取，文件可能已损坏或不完整；请用 Excel 或 WPS 打开确认后重新保存再上传"
    )
    CSV_ENCODING = "无法识别 CSV 文件“{filename}”的字符编码，请在 Excel 中另存为“CSV UTF-8”后再上传"
    NO_HEADER = (
        "在前 {scan} 行中没有找到表头行：表头至少应包含关键列“{key}”和另一列{ledger}的字段，例如：{expected}"
    )
    KEY_COLUMN_MISSING = (
        "表头中缺少关键列“{key}”（也可写作：{aliases}），它用来识别每一条记录，必须有；"
        "第 {row} 行识别到的列有：{found}"
    )
    TEMPLATE_NO_HEADER = (
        "在文件“{filename}”的前 {scan} 行中没有找到表头：表头行应在同一行写出至少两个列名"
        "（例如“序号”“姓名”“公民身份号码”），不能只有标题或“填报单位”行；"
        "请确认上传的是报表模板，并删除表头上方多余的内容后重新上传"
    )
    TEMPLATE_TOO_WIDE = (
        "文件“{filename}”的表头有 {count} 列，超过了 {limit} 列的上限；请把模板拆分成几张表分别导入"
    )

    @property
    def code(self) -> str:
        """Return the stable machine-readable code of the problem."""
        return self.name.lower()

    def format(self, **params: Any) -> str:
        """Return the message with its parameters filled in (a missing one reads as empty)."""
        return self.value.format_map(_Params(params))


class _Params(dict):
    """Message parameters; a template never fails on one the caller did not give."""

    def __missing__(self, key: str) -> str:
        """Return an empty text for a missing parameter."""
        return ""


class ImportRefused(Exception):
    """A file the import cannot take at all; `.message` says why in Chinese."""

    def __init__(self, problem: FileProblem, **params: Any) -> None:
        """Record the problem and format its message."""
        self.problem = problem
        self.params = params
        self.code = problem.code
        self.message = problem.format(**params)
        super().__init__(self.message)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle by problem name and parameters (for background jobs)."""
        return _rebuild, (self.problem.name, self.params)


def _rebuild(name: str, params: dict[str, Any]) -> ImportRefused:
    """Recreate a pickled ImportRefused."""
    return ImportRefused(FileProblem[name], **params)
