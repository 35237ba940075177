"""Settings read from the environment, with the embedded defaults."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from builder.tabular.limits import ReadLimits

PROJECT_ROOT = Path(__file__).resolve().parents[1]


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


def api_push_max_bytes() -> int:
    """Return the largest body a push through the API may send (API_PUSH_MAX_MB, default 200)."""
    return _number("API_PUSH_MAX_MB", 200) * 1024 * 1024


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


def api_rate_limit() -> str:
    """Return the requests one API token may make (a `limits` string, e.g. "600 per minute")."""
    return os.environ.get("YIBIAOTONG_API_RATE_LIMIT") or "600 per minute"


def https() -> bool:
    """Tell whether users reach the app over HTTPS (then cookies are marked Secure)."""
    return os.environ.get("YIBIAOTONG_HTTPS", "0").strip().lower() in ("1", "true", "yes", "on")


def proxies() -> int:
    """Return how many reverse proxies stand before the app (whose X-Forwarded-* headers to trust)."""
    return int(os.environ.get("YIBIAOTONG_PROXIES") or 0)
