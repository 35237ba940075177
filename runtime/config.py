"""Settings read from the environment, with the embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from builder.tabular.limits import ReadLimits

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setting:
    """One configuration variable: its name, default and meaning."""

    name: str
    default: str
    help: str


SETTINGS = (
    Setting(
        "DATABASE_URL",
        "sqlite:///<instance>/yibiaotong.db",
        "数据库连接串；默认为实例目录中的 SQLite 文件，生产环境用 postgresql://…",
    ),
    Setting("SECRET_KEY", "<生成并保存在实例目录>", "会话与 CSRF 签名密钥；多进程部署时必须显式设置且一致"),
    Setting("YIBIAOTONG_INSTANCE", "<项目>/instance", "实例目录：SQLite 数据库、导出文件、错误报告"),
    Setting("YIBIAOTONG_SPECS", "<项目>/form_specs", "标准规格目录：数据元目录、台账规格、组织机构"),
    Setting(
        "YIBIAOTONG_ADMIN_PASSWORD",
        "<空>",
        "`yibiaotong init` 创建管理员 admin 时所用的初始密码（至少 8 个字符）；不设则在终端提示输入两次，"
        "非交互运行时拒绝初始化。管理员已存在时不读取；密码之后用 `yibiaotong set-password admin` 修改",
    ),
    Setting("MAX_UPLOAD_MB", "50", "上传文件大小上限（MB）"),
    Setting(
        "REDIS_URL",
        "<空>",
        "设置后，后台任务（大批导入导出、提取、预填表格下载）放入 Redis 上的 RQ 队列，"
        "由 `yibiaotong worker` 执行，多台机器共用；不设则在网页进程内运行",
    ),
    Setting("YIBIAOTONG_QUEUE", "yibiaotong", "RQ 队列名；同一 Redis 上有多套部署时各用一个"),
    Setting("YIBIAOTONG_SESSION_IDLE_MINUTES", "120", "登录后连续多少分钟没有操作即自动退出，须重新登录"),
    Setting(
        "YIBIAOTONG_SESSION_MAX_HOURS",
        "12",
        "一次登录最长有效多少小时（不论是否一直在操作），到时须重新登录；页面中的防伪令牌（CSRF）同时失效",
    ),
    Setting(
        "YIBIAOTONG_LOGIN_LIMIT_ACCOUNT",
        "5 per 15 minutes",
        "同一账号登录失败的次数上限，如 `5 per 15 minutes`：达到后该账号暂停登录，"
        "直到最早一次失败满 15 分钟；只计失败，成功登录不计",
    ),
    Setting(
        "YIBIAOTONG_LOGIN_LIMIT_ADDRESS",
        "30 per 15 minutes",
        "同一来源地址登录失败的次数上限（单位出口地址后有许多人，只计失败，成功登录不受限）；"
        "设置 REDIS_URL 时计数存于 Redis，各进程共用，否则每个进程各自计数",
    ),
    Setting(
        "YIBIAOTONG_HTTPS",
        "0",
        "设为 1 表示用户经 HTTPS 访问（直接或经反向代理）：会话 Cookie 带 Secure 标志，并发送 HSTS 头",
    ),
    Setting(
        "YIBIAOTONG_PROXIES",
        "0",
        "网页进程前反向代理的层数：按 X-Forwarded-For / X-Forwarded-Proto 取真实的客户端地址"
        "（登录限流与审计用）；没有代理时必须为 0，否则客户端可伪造地址",
    ),
    Setting(
        "UNPACKED_MAX_MB",
        "500",
        "Excel/ODS 文件（压缩包）解压后的总大小上限（MB），在读取表格之前边解压边检查；"
        "部门模板另以其五分之二为上限",
    ),
    Setting(
        "IMPORT_MAX_CELLS",
        "4000000",
        "台账导入（网页、后台任务、命令行）和镇街回传表格：一张工作表从 A1 到最后一个有内容的单元格"
        "的行数×列数上限；每个单元格读取时约占 140 字节内存，400 万个约 550 MB",
    ),
    Setting("IMPORT_MAX_ROWS", "1048576", "台账导入：一张工作表的行数上限（Excel 本身最多 1,048,576 行）"),
    Setting("IMPORT_MAX_COLUMNS", "2000", "台账导入和部门模板：一张工作表的列数上限"),
    Setting(
        "TEMPLATE_MAX_CELLS", "1000000", "部门模板导入与命令行 analyze：一张工作表的单元格上限（行数×列数）"
    ),
    Setting("TEMPLATE_MAX_ROWS", "200000", "部门模板导入与命令行 analyze：一张工作表的行数上限"),
    Setting(
        "LARGE_PARSE_CELLS",
        "500000",
        "单元格数不少于此数的文件算作大文件：每个进程同一时间只读取一个，其余排队等待",
    ),
    Setting(
        "ERROR_REPORT_MAX_ROWS",
        "10000",
        "导入错误报告最多列出的被拒绝行数；其余只计数，并在报告末尾注明还有多少行",
    ),
    Setting(
        "FILE_RETENTION_DAYS",
        "7",
        "导出文件和导入错误报告保留的天数；`yibiaotong cleanup`（或每晚的 `yibiaotong nightly`）"
        "删除更早的文件，任务页面随后提示“文件已过期删除，请重新导出”",
    ),
)


def instance_path() -> Path:
    """Return the instance folder (created on first use, readable by its owner only)."""
    return private_dir(Path(os.environ.get("YIBIAOTONG_INSTANCE") or PROJECT_ROOT / "instance"))


def file_folders() -> dict[str, Path]:
    """Return the folders jobs write files in, by the name jobs know them by (see `web.jobs.views`)."""
    root = instance_path()
    return {"export": root / "exports", "report": root / "reports", "upload": root / "uploads"}


def private_dir(path: Path) -> Path:
    """Create a folder (and its missing parents) only its owner can open (0700); return it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Make a file readable and writable by its owner only (0600); return it."""
    path.chmod(0o600)
    return path


def database_url() -> str:
    """Return the configured database URL, defaulting to SQLite in the instance folder.

    The default database file is created here, empty and 0600, so that SQLite (and its journal,
    which takes the database's permissions) never makes it readable by others.
    """
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    path = instance_path() / "yibiaotong.db"
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    return f"sqlite:///{path}"


def specs_path() -> Path:
    """Return the folder of the standard specs."""
    return Path(os.environ.get("YIBIAOTONG_SPECS") or PROJECT_ROOT / "form_specs")


def admin_password() -> str | None:
    """Return the initial administrator password from the environment, or None when unset or empty."""
    return os.environ.get("YIBIAOTONG_ADMIN_PASSWORD") or None


def max_upload_bytes() -> int:
    """Return the upload size limit in bytes."""
    return int(os.environ.get("MAX_UPLOAD_MB", "50")) * 1024 * 1024


def _number(name: str, default: int) -> int:
    """Return a whole-number setting (the default when unset or empty)."""
    return int(os.environ.get(name) or default)


def read_limits(kind: str) -> ReadLimits:
    """Return the limits of an uploaded file read for `kind`: "ledger", "task" or "template".

    A ledger import runs as a job and may wait its turn behind another large file; a template or
    a task upload is read while its page waits, so it waits a minute at most.
    """
    ledger = ReadLimits(
        max_bytes=max_upload_bytes(),
        max_unpacked_bytes=_number("UNPACKED_MAX_MB", 500) * 1024 * 1024,
        max_rows=_number("IMPORT_MAX_ROWS", 1_048_576),
        max_columns=_number("IMPORT_MAX_COLUMNS", 2000),
        max_cells=_number("IMPORT_MAX_CELLS", 4_000_000),
        max_strings=_number("IMPORT_MAX_CELLS", 4_000_000),
        large_cells=_number("LARGE_PARSE_CELLS", 500_000),
    )
    if kind == "ledger":
        return ledger
    if kind == "task":
        return replace(ledger, wait_seconds=60)
    cells = _number("TEMPLATE_MAX_CELLS", 1_000_000)
    return replace(
        ledger,
        max_rows=_number("TEMPLATE_MAX_ROWS", 200_000),
        max_cells=cells,
        max_strings=cells,
        max_unpacked_bytes=ledger.max_unpacked_bytes * 2 // 5,
        wait_seconds=60,
    )


def error_report_rows() -> int:
    """Return how many rejected rows an import's error report lists at most."""
    return _number("ERROR_REPORT_MAX_ROWS", 10_000)


def retention_days() -> int:
    """Return how many days exports and error reports are kept."""
    return _number("FILE_RETENTION_DAYS", 7)


def redis_url() -> str | None:
    """Return the Redis URL background jobs are queued on, or None to run them in-process."""
    return os.environ.get("REDIS_URL") or None


def jobs_queue() -> str:
    """Return the name of the RQ queue of background jobs."""
    return os.environ.get("YIBIAOTONG_QUEUE") or "yibiaotong"


def secret_key() -> str:
    """Return SECRET_KEY, or a random key generated once and kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance_path() / "secret_key"
    if not path.exists():
        with os.fdopen(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(os.urandom(32).hex())
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)  # a key written by an earlier version, readable by others
    return path.read_text(encoding="utf-8").strip()


def session_idle_minutes() -> int:
    """Return after how many minutes without a request a login session ends."""
    return int(os.environ.get("YIBIAOTONG_SESSION_IDLE_MINUTES") or 120)


def session_max_hours() -> int:
    """Return after how many hours a login session ends, however busy."""
    return int(os.environ.get("YIBIAOTONG_SESSION_MAX_HOURS") or 12)


def login_limit_account() -> str:
    """Return the failed logins one account may have in a window (a `limits` string)."""
    return os.environ.get("YIBIAOTONG_LOGIN_LIMIT_ACCOUNT") or "5 per 15 minutes"


def login_limit_address() -> str:
    """Return the failed logins one client address may have in a window (a `limits` string)."""
    return os.environ.get("YIBIAOTONG_LOGIN_LIMIT_ADDRESS") or "30 per 15 minutes"


def https() -> bool:
    """Tell whether users reach the app over HTTPS (then cookies are marked Secure)."""
    return os.environ.get("YIBIAOTONG_HTTPS", "0").strip().lower() in ("1", "true", "yes", "on")


def proxies() -> int:
    """Return how many reverse proxies stand before the app (whose X-Forwarded-* headers to trust)."""
    return int(os.environ.get("YIBIAOTONG_PROXIES") or 0)
