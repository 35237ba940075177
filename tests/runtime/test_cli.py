"""The `yibiaotong` command line: init, seed, import-ledger, export-ledger."""

import csv
import io

import pytest
from sqlalchemy import func, select

from runtime.cli import main
from runtime.models import User

#: The administrator password the CLI tests give `init` through the environment.
ADMIN_PASSWORD = "verwalter-2026"


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("YIBIAOTONG_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("YIBIAOTONG_ADMIN_PASSWORD", ADMIN_PASSWORD)
    return tmp_path


def _users() -> dict[str, str]:
    """Return username → role of every user in the configured database."""
    from runtime import config
    from runtime.db import make_engine

    engine = make_engine(config.database_url())
    try:
        with engine.connect() as conn:
            return dict(conn.execute(select(User.username, User.role)).all())
    finally:
        engine.dispose()


def test_init_creates_one_administrator_from_the_environment_and_no_demo_account(cli_env, capsys, specs):
    from runtime.accounts.passwords import check_password
    from runtime.models import Department, OrgUnit

    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert "已创建管理员账号 admin" in out and ADMIN_PASSWORD not in out
    assert "密码均为" not in out and "keeper" not in out, "no demo login is printed"
    assert _users() == {"admin": "admin"}
    from runtime import config
    from runtime.db import make_engine

    engine = make_engine(config.database_url())
    with engine.connect() as conn:
        admin = conn.execute(select(User)).one()
        assert conn.execute(select(func.count()).select_from(OrgUnit)).scalar_one() > 200, "the org tree"
        departments = dict(conn.execute(select(Department.code, Department.name)).all())
        assert departments == {d.code: d.name for d in specs.departments.values()}, "departments.json"
        assert departments["canlian"] == "区残联" and len(departments) == 16
    engine.dispose()
    assert check_password(admin, ADMIN_PASSWORD)
    assert main(["init"]) == 0, "a second init keeps the administrator and asks for nothing"
    assert "已创建管理员" not in capsys.readouterr().out
    assert _users() == {"admin": "admin"}


def test_init_without_a_password_or_a_terminal_refuses_and_creates_no_administrator(
    cli_env, capsys, monkeypatch
):
    monkeypatch.delenv("YIBIAOTONG_ADMIN_PASSWORD")
    monkeypatch.setattr("sys.stdin", io.StringIO("aus-der-pipe-1\n"))
    assert main(["init"]) == 2
    err = capsys.readouterr().err
    assert "未创建管理员" in err and "YIBIAOTONG_ADMIN_PASSWORD" in err
    assert _users() == {}
    monkeypatch.setenv("YIBIAOTONG_ADMIN_PASSWORD", "admin")
    assert main(["init"]) == 2, "the password policy holds for the administrator too"
    assert "新密码至少需要 8 个字符，未创建管理员" in capsys.readouterr().err
    assert _users() == {}


class _Terminal(io.StringIO):
    """A standard input that says it is a terminal."""

    def isatty(self) -> bool:
        """Say so."""
        return True


def test_init_at_a_terminal_asks_for_the_password_twice(cli_env, capsys, monkeypatch):
    monkeypatch.delenv("YIBIAOTONG_ADMIN_PASSWORD")
    monkeypatch.setattr("sys.stdin", _Terminal())
    typed = iter(["getippt-passwort", "vertippt-passwort"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(typed))
    assert main(["init", "--quiet"]) == 2
    assert "两次输入的新密码不一致，未创建管理员" in capsys.readouterr().err
    assert _users() == {}
    typed = iter(["getippt-passwort", "getippt-passwort"])
    assert main(["init", "--quiet"]) == 0
    assert _users() == {"admin": "admin"}


def test_seed_creates_the_demo_accounts(cli_env, capsys):
    from runtime.demo.accounts import DISTRICT_USERS, TOWNSHIP_LOGINS

    assert main(["init", "--quiet"]) == 0
    assert main(["seed", "--scale", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "演示账号 32 个（密码均为 yibiaotong" in out
    # The demo client systems get a token each, never printed.
    assert "已登记演示对接系统 3 个" in out and "ybt_" not in out
    users = _users()
    assert users.pop("admin") == "admin"
    assert set(users) == {u for u, *_ in DISTRICT_USERS} | set(TOWNSHIP_LOGINS) | {"wangge"}
    assert "admin" not in users.values(), "the only administrator is init's"


def test_seed_refuses_to_overwrite_without_force(cli_env, capsys):
    assert main(["seed", "--scale", "tiny", "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert "人口台账" in first
    assert main(["seed", "--scale", "tiny"]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["seed", "--scale", "tiny", "--if-empty"]) == 0
    assert main(["seed", "--scale", "tiny", "--seed", "3", "--force"]) == 0
    again = capsys.readouterr().out
    counts = [line for line in first.splitlines() if "台账:" in line]
    assert counts == [line for line in again.splitlines() if "台账:" in line], "same seed, same data"


def test_import_and_export_round_trip(cli_env, capsys):
    main(["seed", "--scale", "tiny"])
    exported = cli_env / "persons.csv"
    assert main(["export-ledger", "person", str(exported), "--township", "500118001"]) == 0
    assert "已导出" in capsys.readouterr().out
    with open(exported, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "公民身份号码" and "*" in rows[1][0], "exports are masked"
    broken = cli_env / "bad.txt"
    broken.write_bytes(b"\x00\x01\x02")
    assert main(["import-ledger", "person", str(broken)]) == 2
    assert "导入失败" in capsys.readouterr().err


def test_file_commands_act_as_the_administrator_where_there_is_no_demo_keeper(cli_env, capsys):
    """After `init` alone (a production database) import and export need no --user: the administrator acts."""
    from runtime import config
    from runtime.db import make_engine
    from runtime.models import Record, RecordVersion

    assert main(["init", "--quiet"]) == 0
    people = cli_env / "people.csv"
    people.write_text(
        "公民身份号码,姓名,性别,出生日期,所属镇街,所属村（社区）,户编号,与户主关系\n"
        "110101199003074514,张三,男,1990-03-07,中山路街道,萱花社区,5001180010001,户主\n",
        encoding="utf-8",
    )
    assert main(["import-ledger", "person", str(people)]) == 0, capsys.readouterr().err
    assert main(["export-ledger", "person", str(cli_env / "out.csv")]) == 0
    assert "张三" in (cli_env / "out.csv").read_text(encoding="utf-8-sig")
    with pytest.raises(SystemExit, match="用户 keeper 不存在"):
        main(["export-ledger", "person", str(cli_env / "x.csv"), "--user", "keeper"])
    assert not (cli_env / "x.csv").exists(), "a named account is never swapped for another"
    engine = make_engine(config.database_url())
    with engine.connect() as conn:
        actor = conn.scalar(select(User.username).join(RecordVersion, RecordVersion.actor_id == User.id))
        assert conn.scalar(select(func.count()).select_from(Record)) == 1
    engine.dispose()
    assert actor == "admin"


def test_export_refused_to_a_reviewer_says_so_in_chinese(cli_env, capsys, add_demo_accounts):
    """A role without bulk export gets the refusal itself, not an empty file name or a traceback."""
    main(["init", "--quiet"])
    add_demo_accounts()
    assert main(["export-ledger", "person", str(cli_env / "p.csv"), "--user", "reviewer"]) == 1
    err = capsys.readouterr().err
    assert "不能批量导出台账" in err and "None" not in err and "Traceback" not in err
    assert not (cli_env / "p.csv").exists()


def test_warnings_refresh_counts_and_keeps_the_warnings(cli_env, capsys):
    """The nightly command (of the console script, `web.cli`) counts every rule, or one ledger's."""
    from sqlalchemy import select

    from builder.catalog.specs import load_specs
    from runtime import config
    from runtime.db import make_engine
    from runtime.ledgers.store import Provenance, upsert
    from runtime.models import WarningCount
    from runtime.org_scope import DISTRICT
    from web.cli import main as yibiaotong

    main(["init", "--quiet"])
    specs = load_specs(config.specs_path())
    engine = make_engine(config.database_url())
    parcel = {
        "parcel_code": "5001180010010000001",
        "location": "1号地块",
        "township_code": "500118001",
        "village_code": "500118001001",
        "contractor_name": "李四",
        "contract_area_mu": 250.0,
        "is_transferred": True,
        "transfer_area_mu": 250.0,
        "rent_arrears": 100.0,
    }
    with engine.begin() as conn:
        upsert(conn, specs.ledgers["land"], [parcel], Provenance("import"), scope=DISTRICT)
    assert yibiaotong(["warnings-refresh", "--ledger", "land"]) == 0
    assert "已重新统计 4 条预警规则" in capsys.readouterr().out
    with engine.connect() as conn:
        kept = dict(conn.execute(select(WarningCount.rule, WarningCount.counts)).all())
    engine.dispose()
    assert set(kept) == {
        "land_rent_arrears",
        "land_large_transfer",
        "land_contractor_id_check_digit",
        "land_stale",
    }
    assert kept["land_large_transfer"] == [["500118001", "500118001001", 1]]
    assert yibiaotong(["warnings-refresh"]) == 0
    assert yibiaotong(["warnings-refresh", "--ledger", "lands"]) == 2
    assert "未知的台账：lands" in capsys.readouterr().err


def test_set_password_sets_it_and_ends_the_user_s_logins(cli_env, capsys, monkeypatch, add_demo_accounts):
    """`yibiaotong set-password USER` reads the password (a line of stdin when not at a terminal)."""
    from sqlalchemy import select

    from runtime import config
    from runtime.accounts.passwords import check_password
    from runtime.db import make_engine
    from runtime.models import User
    from web.cli import main as yibiaotong

    assert main(["init", "--quiet"]) == 0
    add_demo_accounts()
    monkeypatch.setattr("sys.stdin", io.StringIO("kurz\n"))
    assert yibiaotong(["set-password", "keeper"]) == 2
    assert "新密码至少需要 8 个字符，密码未修改" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("x\n"))
    assert yibiaotong(["set-password", "niemand"]) == 2
    assert "没有用户名为 niemand 的用户" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("neues-passwort-1\n"))
    assert yibiaotong(["set-password", "keeper"]) == 0
    assert "已为 keeper 设置新密码；其 0 个登录已退出" in capsys.readouterr().out
    engine = make_engine(config.database_url())
    with engine.connect() as conn:
        keeper = conn.execute(select(User).where(User.username == "keeper")).one()
    engine.dispose()
    assert check_password(keeper, "neues-passwort-1")


def test_instance_files_are_readable_by_their_owner_only(tmp_path, monkeypatch):
    """The instance folder is 0700; the secret key and the default SQLite database 0600."""
    from runtime import config

    monkeypatch.setenv("YIBIAOTONG_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("YIBIAOTONG_ADMIN_PASSWORD", "verwalter-2026")
    assert main(["init", "--quiet"]) == 0
    instance = tmp_path / "instance"
    assert instance.stat().st_mode & 0o777 == 0o700
    assert (instance / "yibiaotong.db").stat().st_mode & 0o777 == 0o600
    assert config.secret_key()
    assert (instance / "secret_key").stat().st_mode & 0o777 == 0o600


def test_cleanup_deletes_expired_files_and_nightly_runs_it_with_the_warnings(cli_env, capsys):
    """Exports and error reports older than FILE_RETENTION_DAYS go; their jobs say the file expired."""
    import os
    import time

    from sqlalchemy import insert, select

    from runtime import config
    from runtime.db import make_engine
    from runtime.models import Job
    from web.cli import main as yibiaotong

    assert main(["init", "--quiet"]) == 0
    folders = config.file_folders()
    folders["export"].mkdir()
    folders["report"].mkdir()
    old, new = folders["export"] / "old.csv", folders["export"] / "new.csv"
    report = folders["report"] / "old-错误报告.xlsx"
    for path in (old, new, report):
        path.write_text("x")
    week_ago = time.time() - 8 * 24 * 3600
    for path in (old, report):
        os.utime(path, (week_ago, week_ago))
    engine = make_engine(config.database_url())
    with engine.begin() as conn:
        conn.execute(
            insert(Job).values(
                kind="export",
                title="导出",
                status="done",
                done=0,
                total=0,
                message="",
                result={"path": str(old), "filename": "人员.csv"},
            )
        )
    assert main(["cleanup"]) == 0
    assert "已删除 2 个过期文件，1 个任务的下载已标记为过期" in capsys.readouterr().out
    assert not old.exists() and not report.exists() and new.exists()
    with engine.connect() as conn:
        assert conn.execute(select(Job.result)).scalar_one()["expired"] is True
    engine.dispose()
    assert yibiaotong(["nightly"]) == 0
    out = capsys.readouterr().out
    assert "已删除 0 个过期文件" in out


def test_a_department_exports_its_own_elements_in_clear(cli_env, capsys):
    """区残联's export of the person ledger: its 残疾类别 in clear, 区民政局's 救助类别 (有条件共享, not
    granted) not exported at all; and back."""
    main(["seed", "--scale", "tiny"])
    columns = {}
    for user in ("canlian", "minzheng"):
        path = cli_env / f"{user}.csv"
        assert main(["export-ledger", "person", str(path), "--user", user]) == 0
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        columns[user] = {
            title: {r[title] for r in rows if r[title]}
            for title in ("残疾类别", "救助类别")
            if title in rows[0]
        }
    assert columns["canlian"]["残疾类别"] and not any("*" in v for v in columns["canlian"]["残疾类别"])
    assert "救助类别" not in columns["canlian"]
    assert "低保" in columns["minzheng"]["救助类别"] and "残疾类别" not in columns["minzheng"]
