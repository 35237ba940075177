"""Settings read from the environment, with the embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setting:
    """One configuration variable: its name, default and meaning."""

    name: str
    default: str
    help: str


SETTINGS = (
    Setting("DATABASE_URL", "sqlite:///<instance>/yibiaotong.db",
            "数据库连接串；默认为实例目录中的 SQLite 文件，生产环境用 postgresql://…"),
    Setting("SECRET_KEY", "<生成并保存在实例目录>", "会话与 CSRF 签名密钥；多进程部署时必须显式设置且一致"),
    Setting("YIBIAOTONG_INSTANCE", "<项目>/instance", "实例目录：SQLite 数据库、导出文件、错误报告"),
    Setting("YIBIAOTONG_SPECS", "<项目>/form_specs", "标准规格目录：数据元目录、台账规格、组织机构"),
    Setting("MAX_UPLOAD_MB", "50", "上传文件大小上限（MB）"),
    Setting("REDIS_URL", "<空>",
            "设置后，后台任务（大批导入导出、提取、预填表格下载）放入 Redis 上的 RQ 队列，"
            "由 `yibiaotong worker` 执行，多台机器共用；不设则在网页进程内运行"),
    Setting("YIBIAOTONG_QUEUE", "yibiaotong", "RQ 队列名；同一 Redis 上有多套部署时各用一个"),
    Setting("YIBIAOTONG_SESSION_IDLE_MINUTES", "120", "登录后连续多少分钟没有操作即自动退出，须重新登录"),
    Setting("YIBIAOTONG_SESSION_MAX_HOURS", "12",
            "一次登录最长有效多少小时（不论是否一直在操作），到时须重新登录；页面中的防伪令牌（CSRF）同时失效"),
    Setting("YIBIAOTONG_LOGIN_LIMIT_ACCOUNT", "5 per 15 minutes",
            "同一账号登录失败的次数上限，如 `5 per 15 minutes`：达到后该账号暂停登录，"
            "直到最早一次失败满 15 分钟；只计失败，成功登录不计"),
    Setting("YIBIAOTONG_LOGIN_LIMIT_ADDRESS", "30 per 15 minutes",
            "同一来源地址登录失败的次数上限（单位出口地址后有许多人，只计失败，成功登录不受限）；"
            "设置 REDIS_URL 时计数存于 Redis，各进程共用，否则每个进程各自计数"),
    Setting("YIBIAOTONG_HTTPS", "0",
            "设为 1 表示用户经 HTTPS 访问（直接或经反向代理）：会话 Cookie 带 Secure 标志，并发送 HSTS 头"),
    Setting("YIBIAOTONG_PROXIES", "0",
            "网页进程前反向代理的层数：按 X-Forwarded-For / X-Forwarded-Proto 取真实的客户端地址"
            "（登录限流与审计用）；没有代理时必须为 0，否则客户端可伪造地址"),
)


def instance_path() -> Path:
    """Return the instance folder (created on first use)."""
    path = Path(os.environ.get("YIBIAOTONG_INSTANCE") or PROJECT_ROOT / "instance")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """Return the configured database URL, defaulting to SQLite in the instance folder."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path() / 'yibiaotong.db'}"


def specs_path() -> Path:
    """Return the folder of the standard specs."""
    return Path(os.environ.get("YIBIAOTONG_SPECS") or PROJECT_ROOT / "form_specs")


def max_upload_bytes() -> int:
    """Return the upload size limit in bytes."""
    return int(os.environ.get("MAX_UPLOAD_MB", "50")) * 1024 * 1024


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
        path.write_text(os.urandom(32).hex(), encoding="utf-8")
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
