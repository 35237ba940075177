"""The `yibiaotong` console script: the run-time commands plus `serve`, `warnings-refresh`, `nightly`
and `set-password`."""

from __future__ import annotations

import argparse
import sys

from builder.catalog.specs import load_specs
from runtime import cli, config
from runtime.demo.accounts import existing_demo_logins
from runtime.errors import ErrorCode


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web app (Flask's threaded server; use gunicorn in production)."""
    from web import create_app

    app = create_app()
    cli.print_logins(_demo_logins(app))
    print(f"一表通已启动：http://{args.host}:{args.port}/")
    app.run(host=args.host, port=args.port, threaded=True, debug=False)
    return 0


def _demo_logins(app) -> list:
    """Return the demo logins whose accounts exist in the app's database (none before `init`)."""
    from sqlalchemy.exc import DBAPIError

    from web import database

    with app.app_context():
        try:
            return existing_demo_logins(database.session(), database.specs())
        except DBAPIError:  # no users table yet (before `init`): nothing to list
            database.session().rollback()
            return []


def add_serve(sub) -> None:
    """Add the `serve` command to the run-time commands."""
    p = sub.add_parser("serve", help="启动网页服务")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.set_defaults(func=cmd_serve)


def cmd_warnings_refresh(args: argparse.Namespace) -> int:
    """Count the warning rules (of one ledger, or all) again and keep the counts: for a nightly cron."""
    from runtime.db import make_engine
    from runtime.early_warnings.flags import REFRESH_JOB
    from runtime.jobs import runner as jobs

    specs = load_specs(config.specs_path())
    if args.ledger and args.ledger not in specs.ledgers:
        unknown = ErrorCode.UNKNOWN_LEDGERS.format(ledgers=args.ledger)
        print(f"{unknown}；可选：{'、'.join(specs.ledgers)}", file=sys.stderr)
        return 2
    engine = make_engine(config.database_url())
    try:  # through the job interface, so each run is on record with its outcome
        job_id = jobs.submit(
            engine,
            "warnings",
            "重新统计预警（命令行）",
            None,
            REFRESH_JOB,
            {"ledgers": [args.ledger] if args.ledger else None},
            background=False,
            specs=specs,
        )
        job = jobs.get(engine, job_id)
    finally:
        engine.dispose()
    print(job.message, file=sys.stdout if job.status == "done" else sys.stderr)
    return 0 if job.status == "done" else 1


def _read_password(prompt: str) -> str:
    """Read a password: unechoed at a terminal, else one line of standard input (for scripts)."""
    if sys.stdin.isatty():
        from getpass import getpass

        return getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")


def cmd_set_password(args: argparse.Namespace) -> int:
    """Set a user's password (typed twice at a terminal) and end all their login sessions."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from runtime.accounts.passwords import PasswordRefused, set_password
    from runtime.db import make_engine
    from runtime.models import User

    engine = make_engine(config.database_url())
    try:
        with Session(engine) as session, session.begin():
            user = session.scalar(select(User).where(User.username == args.username))
            if user is None:
                print(f"没有用户名为 {args.username} 的用户", file=sys.stderr)
                return 2
            new = _read_password("新密码：")
            if sys.stdin.isatty() and _read_password("再次输入新密码：") != new:
                print(ErrorCode.PASSWORD_MISMATCH.format() + "，密码未修改", file=sys.stderr)
                return 2
            try:
                ended = set_password(session, user, new)
            except PasswordRefused as refused:
                print(f"{refused.message}，密码未修改", file=sys.stderr)
                return 2
    finally:
        engine.dispose()
    print(f"已为 {args.username} 设置新密码；其 {ended} 个登录已退出")
    return 0


def cmd_nightly(args: argparse.Namespace) -> int:
    """Run the nightly work: count the warnings again, then delete expired files."""
    args.ledger = None
    counted = cmd_warnings_refresh(args)
    args.days = None
    cleaned = cli.cmd_cleanup(args)
    return counted or cleaned


def add_commands(sub) -> None:
    """Add `serve`, `warnings-refresh`, `set-password` and `nightly` to the run-time commands."""
    add_serve(sub)
    p = sub.add_parser("warnings-refresh", help="重新统计预警条数并存入数据库（供每晚定时运行）")
    p.add_argument("--ledger", help="只统计一个台账的预警规则（如 person）；不给则全部")
    p.set_defaults(func=cmd_warnings_refresh)
    p = sub.add_parser(
        "set-password", help="为用户设置新密码（在终端输入两次，或从标准输入读一行），并让其全部登录退出"
    )
    p.add_argument("username", help="用户名")
    p.set_defaults(func=cmd_set_password)
    p = sub.add_parser("nightly", help="每晚定时运行：重新统计预警，并删除过期的导出文件和错误报告")
    p.set_defaults(func=cmd_nightly)


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    return cli.main(argv, cli.build_parser(add_commands))


if __name__ == "__main__":
    sys.exit(main())
