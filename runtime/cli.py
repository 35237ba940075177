"""The `yibiaotong` commands of the run-time layer: set up, seed, import, export, check specs.

`web.cli` adds `serve` and is the console script.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from builder.catalog.check import check_specs
from builder.catalog.specs import load_specs
from builder.early_warnings.rules import check_warning_rules
from builder.problems import ImportRefused
from runtime import config
from runtime.access import viewer_of
from runtime.accounts.bootstrap import (
    ADMIN_USERNAME,
    has_administrator,
    load_departments,
    load_org_units,
    new_administrator,
)
from runtime.accounts.passwords import MIN_LENGTH, PasswordRefused
from runtime.db import make_engine, migrate
from runtime.demo.accounts import DEMO_PASSWORD, Login, create_demo_users
from runtime.errors import ErrorCode, OperationRefused
from runtime.ledgers.statistics import ensure_statistics
from runtime.ledgers.store import Query
from runtime.models import User


def _engine():
    return make_engine(config.database_url())


def cmd_init(args: argparse.Namespace) -> int:
    """Migrate to head; load org units and departments; create the administrator if there is none.

    The administrator's password comes from YIBIAOTONG_ADMIN_PASSWORD or is typed twice at a
    terminal; without either, init refuses before it writes anything.
    """
    engine = _engine()
    migrate(engine)
    specs = load_specs(config.specs_path())
    with Session(engine) as session:
        need_admin = not has_administrator(session)
    admin: User | None = None
    if need_admin:  # asked before the transaction: a prompt must not hold the database
        try:
            admin = new_administrator(*_admin_password())
        except PasswordRefused as refused:
            print(f"{refused.message}，未创建管理员", file=sys.stderr)
            return 2
        except NoPassword as missing:
            print(missing, file=sys.stderr)
            return 2
    with Session(engine) as session, session.begin():
        load_org_units(session, specs)
        load_departments(session, specs)
        ensure_statistics(session.connection(), specs)
        if admin is not None:
            session.add(admin)
    if not args.quiet:
        district = specs.district()
        print(f"已初始化{district.name + '的' if district else ''} {len(specs.org_units)} 个组织机构。")
        if admin is not None:
            print(f"已创建管理员账号 {ADMIN_USERNAME}，请用所设密码登录。")
        print("如需演示数据与演示账号，请运行 yibiaotong seed（切勿在生产环境运行）。")
    return 0


class NoPassword(OperationRefused):
    """No administrator password in the environment and no terminal to ask at."""


def _admin_password() -> tuple[str, str | None]:
    """Return the administrator's password (and its repetition if typed): environment, else a prompt."""
    password = config.admin_password()
    if password is not None:
        return password, None
    if not sys.stdin.isatty():
        raise NoPassword(ErrorCode.NO_ADMIN_PASSWORD, min_length=MIN_LENGTH)
    return getpass.getpass("管理员 admin 的密码："), getpass.getpass("再次输入密码：")


def print_logins(logins: list[Login]) -> None:
    """Print demo logins (as `demo_logins` returns them) and their public password; nothing if none."""
    from runtime.permissions import ROLES, Role

    if not logins:
        return
    print(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    shown = ("zhongshanlu", "laisu")
    for username, _name, role, where, _dept, _unit in logins:
        if role != Role.TOWNSHIP or username in shown:
            print(f"  {username:<14} {ROLES[role][0]:<10} {where}")
    others = [name for name, _n, role, *_ in logins if role == Role.TOWNSHIP and name not in shown]
    if others:
        print(f"  其余 {len(others)} 个镇街账号为镇街名称拼音，如 {'、'.join(others[:1] + others[-1:])}")


def cmd_seed(args: argparse.Namespace) -> int:
    """Generate the demo district into the ledgers."""
    from runtime.demo.clients import load_demo_clients
    from runtime.demo.grants import load_demo_grants
    from runtime.demo.load import clear_records, has_records, seed
    from runtime.demo.proposals import load_demo_proposals
    from runtime.demo.reports import load_demo_reports
    from runtime.demo.sharing_log import load_demo_sharing_log

    engine = _engine()
    migrate(engine)
    specs = load_specs(config.specs_path())
    with Session(engine) as session, session.begin():
        load_org_units(session, specs)
        logins = create_demo_users(session, specs)
    print(f"演示账号 {len(logins)} 个（密码均为 {DEMO_PASSWORD}，仅供演示），`yibiaotong serve` 启动时列出。")
    if has_records(engine):
        if args.if_empty:
            print("台账已有数据，跳过生成。")
            return 0
        if not args.force:
            print("台账已有数据；如需重新生成请加 --force（将删除全部台账记录）。", file=sys.stderr)
            return 1
        clear_records(engine)
    names = {u.code: u.name for u in specs.org_units.values()}
    started = time.perf_counter()

    def progress(township: str, counts: dict[str, int]) -> None:
        total = sum(counts.values())
        print(
            f"\r  {names.get(township, township):<8} 已生成 {total:,} 条记录 "
            f"({time.perf_counter() - started:.0f} s)",
            end="",
            flush=True,
        )

    counts = seed(engine, specs, args.scale, args.seed, progress)
    print()
    for ledger, n in counts.items():
        print(f"  {specs.ledgers[ledger].title}: {n:,}")
    print(f"完成，用时 {time.perf_counter() - started:.1f} 秒")
    if load_demo_reports(engine, specs):
        print(
            "  已创建演示报表：已下派（各镇街有预填任务，其中 3 个镇街已提交，可看汇总）、"
            "待审核、退回修改、已准入（直接提取）各一张"
        )
    if load_demo_grants(engine, specs):
        print(
            "  已创建演示授权：区退役军人事务局获授权区民政局的救助类别（来苏镇），"
            "区残联申请区卫生健康委的健康状况待审批"
        )
    if entries := load_demo_sharing_log(engine, specs):
        print(f"  已创建演示授权（已撤销、已过期、已拒绝各一项）及其审计日志 {entries} 条")
    proposed = load_demo_proposals(engine, specs)
    if proposed:
        print(f"  已创建演示待审变更 {proposed} 条：区公安分局（gongan）、区民政局、区残联各有待审的修改")
    if clients := load_demo_clients(engine, specs):
        print(
            f"  已登记演示对接系统 {clients} 个（各有一个令牌，不显示；管理员可在“对接系统”页签发新令牌），"
            "并记录了近几周的推送：区公安分局户籍系统的人口数据已逾期"
        )
    return 0


#: Whom the file commands act as without --user: the demo's keeper, else the administrator `init` made.
DEFAULT_ACTORS = ("keeper", ADMIN_USERNAME)


def _actor(session: Session, username: str | None):
    """Return the viewer the file commands act as: `username`, or the first default account there is."""
    names = (username,) if username else DEFAULT_ACTORS
    found = dict(session.execute(select(User.username, User.id).where(User.username.in_(names))).all())
    user_id = next((found[name] for name in names if name in found), None)
    if user_id is None:
        raise SystemExit(ErrorCode.CLI_USER_NOT_FOUND.format(user=names[0]))
    return viewer_of(session.connection(), user_id)


def cmd_import(args: argparse.Namespace) -> int:
    """Import a .xlsx/.xls/.csv file into a ledger."""
    from runtime.ledgers.imports import ImportOptions, import_file

    path = Path(args.file)
    if not path.is_file():
        print(f"导入失败：文件不存在：{path}", file=sys.stderr)
        return 2
    engine = _engine()
    specs = load_specs(config.specs_path())
    options = ImportOptions(limits=config.read_limits("ledger"), report_rows=config.error_report_rows())
    try:
        with Session(engine) as session, session.begin():
            viewer = _actor(session, args.user)
            result = import_file(
                session.connection(),
                specs,
                args.ledger,
                path.read_bytes(),
                path.name,
                viewer,
                config.instance_path() / "reports",
                max_bytes=config.max_upload_bytes(),
                options=options,
            )
    except ImportRefused as refused:
        print(f"导入失败：{refused.message}", file=sys.stderr)
        return 2
    print(result.summary())
    if result.unmatched:
        print("未识别的列：" + "、".join(result.unmatched))
    if result.report:
        print(f"错误报告：{result.report}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export a ledger (optionally one township) to .xlsx or .csv."""
    from runtime.ledgers.exports import export_ledger

    engine = _engine()
    specs = load_specs(config.specs_path())
    ledger = specs.ledgers.get(args.ledger)
    if ledger is None:
        print(f"未知的台账：{args.ledger}", file=sys.stderr)
        return 2
    target = Path(args.output)
    fmt = "csv" if target.suffix.lower() == ".csv" else "xlsx"
    filters = ((ledger.township_field, args.township),) if args.township else ()
    names = {u.code: u.name for u in specs.org_units.values()}
    with Session(engine) as session, session.begin():
        viewer = _actor(session, args.user)
        n = export_ledger(
            session.connection(), Query(ledger, viewer.scope, filters), viewer, fmt, target, names
        )
    print(f"已导出 {n:,} 行到 {target}")
    return 0


def cmd_check_specs(args: argparse.Namespace) -> int:
    """Validate every spec file against the spec language's meta-schemas."""
    root = Path(args.path) if args.path else config.specs_path()
    findings = [*check_specs(root), *check_warning_rules(root)]
    for finding in findings:
        print(finding)
    if findings:
        print(f"发现 {len(findings)} 个问题", file=sys.stderr)
        return 1
    specs = load_specs(root)
    print(
        f"规格检查通过：{len(specs.elements)} 个数据元，{len(specs.ledgers)} 个台账，"
        f"{len(specs.org_units)} 个组织机构"
    )
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """Analyze a report spec or an Excel template and print the verdict as JSON."""
    from runtime.reports.analyze import analyze_file, database_ready

    specs = load_specs(config.specs_path())
    path = Path(args.path)
    if not path.is_file():
        print(f"文件不存在：{path}", file=sys.stderr)
        return 2
    if args.ledger and args.ledger not in specs.ledgers:
        print(f"未知的台账：{args.ledger}；可选：{'、'.join(specs.ledgers)}", file=sys.stderr)
        return 2
    try:
        with _analysis_session() as session:
            analysis = analyze_file(
                path.read_bytes(),
                path.name,
                specs,
                ledger=args.ledger,
                session=session if session and database_ready(session) else None,
            )
    except ImportRefused as refused:
        print(f"无法分析：{refused.message}", file=sys.stderr)
        return 2
    print(json.dumps(analysis.to_json(), ensure_ascii=False, indent=2))
    return 0


@contextlib.contextmanager
def _analysis_session():
    """Yield a session on the configured database if it exists, else None (analysis offline)."""
    url = config.database_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        yield None
        return
    try:
        engine = _engine()
        session = Session(engine)
        session.connection()
    except Exception:  # noqa: BLE001 - an unreachable database only means: analyze offline
        yield None
        return
    try:
        yield session
    finally:
        session.rollback()
        session.close()
        engine.dispose()


def cmd_cleanup(args: argparse.Namespace) -> int:
    """Delete expired exports, error reports and stale uploads; mark their jobs' downloads expired."""
    from runtime.jobs.retention import clean_up

    days = args.days if args.days is not None else config.retention_days()
    engine = _engine()
    try:
        result = clean_up(engine, config.file_folders(), days=days)
    finally:
        engine.dispose()
    print(result.summary())
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run an RQ worker on the queue of background jobs (needs REDIS_URL)."""
    from redis import Redis
    from redis.exceptions import RedisError

    from runtime.jobs.runner import work

    url = config.redis_url()
    if not url:
        print(
            "未设置 REDIS_URL：后台任务在网页进程内运行，不需要 worker。"
            "多台机器共用任务队列时，请设置 REDIS_URL（如 redis://127.0.0.1:6379/0）后再启动。",
            file=sys.stderr,
        )
        return 2
    queue = args.queue or config.jobs_queue()
    try:
        Redis.from_url(url).ping()
        print(
            f"后台任务 worker 已启动：队列 {queue}（{'处理完即退出' if args.burst else 'Ctrl+C 停止'}）",
            flush=True,
        )
        work(url, queue, burst=args.burst, fork=not args.no_fork)
    except RedisError as exc:
        print(f"无法连接 Redis：{exc}", file=sys.stderr)
        return 1
    return 0


def build_parser(more: Callable[[Any], None] | None = None) -> argparse.ArgumentParser:
    """Return the argument parser of every subcommand; `more` may add commands of its own."""
    parser = argparse.ArgumentParser(prog="yibiaotong", description="一表通命令行")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "init", help="迁移数据库，创建组织机构和管理员 admin（密码取 YIBIAOTONG_ADMIN_PASSWORD 或在终端输入）"
    )
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_init)
    p = sub.add_parser("seed", help="生成演示区县数据并创建演示账号（密码公开，仅供演示）")
    p.add_argument("--scale", default="demo", choices=["tiny", "demo", "district"])
    p.add_argument("--seed", type=int, default=20260101)
    p.add_argument("--force", action="store_true", help="删除已有台账记录后重新生成")
    p.add_argument("--if-empty", action="store_true", help="台账已有数据时不做任何事")
    p.set_defaults(func=cmd_seed)
    p = sub.add_parser("import-ledger", help="导入台账文件（.xlsx/.xls/.csv）")
    p.add_argument("ledger")
    p.add_argument("file")
    p.add_argument("--user", help="以哪个用户的身份导入（默认 keeper，没有时用管理员 admin）")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("export-ledger", help="导出台账到 .xlsx 或 .csv")
    p.add_argument("ledger")
    p.add_argument("output")
    p.add_argument("--township", help="只导出一个镇街（代码）")
    p.add_argument("--user", help="以哪个用户的身份导出（决定脱敏与范围；默认 keeper，没有时用管理员 admin）")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("check-specs", help="校验 form_specs 下的全部规格文件")
    p.add_argument("path", nargs="?")
    p.set_defaults(func=cmd_check_specs)
    p = sub.add_parser("analyze", help="分析报表规格（.json）或 Excel 模板：字段绑定、台账覆盖、准入规则")
    p.add_argument("path")
    p.add_argument("--ledger", help="报表行来自哪个台账（如 person、land）；不给则自动推断")
    p.add_argument("--format", default="json", choices=["json"])
    p.set_defaults(func=cmd_analyze)
    p = sub.add_parser("cleanup", help="删除过期的导出文件、错误报告和残留的上传文件（供每晚定时运行）")
    p.add_argument("--days", type=int, help="保留天数（默认取 FILE_RETENTION_DAYS，即 7 天）")
    p.set_defaults(func=cmd_cleanup)
    p = sub.add_parser("worker", help="运行后台任务 worker（RQ，需设置 REDIS_URL）")
    p.add_argument("--queue", help="队列名（默认取 YIBIAOTONG_QUEUE，即 yibiaotong）")
    p.add_argument("--burst", action="store_true", help="处理完队列中的任务后退出")
    p.add_argument("--no-fork", action="store_true", help="在本进程内执行任务（不为每个任务派生子进程）")
    p.set_defaults(func=cmd_worker)
    if more:
        more(sub)
    return parser


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """Run the command line (with `parser` when a higher layer added commands to it).

    A command that fails says why in Chinese and exits non-zero; the traceback is printed only
    with YIBIAOTONG_DEBUG=1.
    """
    args = (parser or build_parser()).parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - Rust panics (BaseException) included: never a traceback
        if os.environ.get("YIBIAOTONG_DEBUG"):
            raise
        print(f"命令 {args.command} 失败：{explain(exc)}", file=sys.stderr)
        return 1


def explain(exc: BaseException) -> str:
    """Return what a person running a command should know about an exception, in Chinese."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, ImportRefused):
        return exc.message
    if isinstance(exc, OperationalError | DBAPIError):
        return (
            "无法连接或使用数据库，请检查 DATABASE_URL 是否正确、数据库服务是否在运行"
            f"（{type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__}）"
        )
    if isinstance(exc, FileNotFoundError):
        return f"文件或目录不存在：{exc.filename}"
    if isinstance(exc, IsADirectoryError):
        return f"这是一个目录，不是文件：{exc.filename}"
    if isinstance(exc, PermissionError):
        # An OS refusal names its file; the run-time refusals (Action.EXPORT …) carry their own message.
        return f"没有权限读写：{exc.filename}" if exc.filename else str(exc)
    if isinstance(exc, RecursionError):
        return "内容嵌套层数过深，无法处理（如 JSON 中数组或对象层层嵌套）"
    if isinstance(exc, MemoryError):
        return "内存不足：文件过大或过于复杂，请拆分后再试"
    if isinstance(exc, UnicodeError):
        return "文件的字符编码无法识别，请另存为 UTF-8 后再试"
    if not isinstance(exc, Exception):
        return "读取组件内部错误（文件可能已损坏或格式异常），请用 Excel 或 WPS 另存为 .xlsx 后再试"
    text = getattr(exc, "message", None) or str(exc)
    return f"{text}（设置环境变量 YIBIAOTONG_DEBUG=1 可显示详细信息）"


if __name__ == "__main__":
    sys.exit(main())
