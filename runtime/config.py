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
