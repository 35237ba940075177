"""An example client system of 一表通's exchange API: mirror what a department may read, push what it owns.

Uses only httpx and the standard library. The token is read from the environment (YIBIAOTONG_TOKEN),
never from the command line, where other users of the machine could see it in the process list.

    export YIBIAOTONG_TOKEN=ybt_…
    python examples/mirror_client.py --base https://ybt.example.gov.cn mirror --db canlian.db
    python examples/mirror_client.py --base https://ybt.example.gov.cn push 残疾信息.csv

`mirror` copies the person fields the token's department may read (those the catalog does not list
as hidden) into a local SQLite file through the changes cursor; the cursor is kept in the same file,
in the same transaction as the rows it brought, so a run that stops half-way resumes where it left off
and never applies a change twice. The first run reads from the beginning.

`push` sends a CSV of the department's own elements (and the natural key): first as a dry run, which
writes nothing and reports every row, then for real when the dry run rejected nothing. Each request
carries an Idempotency-Key that its retries reuse, so a retry after a lost answer changes nothing
and returns the first result.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

API = "/api/v1"
LEDGER = "person"
#: Statuses worth retrying (with the same Idempotency-Key): rate limited, or the server not reached.
RETRY = {429, 502, 503, 504}


class ApiError(Exception):
    """The API refused a request: its problem (status, code, Chinese detail)."""

    def __init__(self, problem: dict[str, Any]):
        """Keep the problem and say it."""
        self.problem = problem
        super().__init__(f"{problem.get('status')} {problem.get('code')}: {problem.get('detail')}")


def connect(base: str, token: str, timeout: float = 60) -> httpx.Client:
    """Return an HTTP client of the API that sends the token with every request."""
    return httpx.Client(
        base_url=base.rstrip("/") + API,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=timeout,
    )


def call(client: httpx.Client, method: str, path: str, attempts: int = 5, **kwargs: Any) -> dict[str, Any]:
    """Send a request, waiting out rate limits and retrying lost answers; return the JSON answer."""
    for attempt in range(attempts):
        try:
            response = client.request(method, path, **kwargs)
        except httpx.TransportError:
            if attempt == attempts - 1:
                raise
            time.sleep(2**attempt)
            continue
        if response.status_code in RETRY and attempt < attempts - 1:
            time.sleep(float(response.headers.get("Retry-After") or 2**attempt))
            continue
        if response.status_code >= 400:
            try:
                raise ApiError(response.json())
            except ValueError:
                raise ApiError({"status": response.status_code, "detail": response.text[:200]}) from None
        return response.json()
    raise AssertionError("unreachable")


def person_ledger(catalog: dict[str, Any]) -> dict[str, Any]:
    """Return the person ledger of the catalog."""
    return next(ledger for ledger in catalog["ledgers"] if ledger["code"] == LEDGER)


def readable_fields(catalog: dict[str, Any]) -> list[str]:
    """Return the person fields the caller may read in some form (clear, masked or partly clear)."""
    return [f["name"] for f in person_ledger(catalog)["fields"] if f["sight"] != "hidden"]


def own_fields(catalog: dict[str, Any]) -> list[str]:
    """Return the person fields the caller's department owns (a push writes them directly)."""
    return [f["name"] for f in person_ledger(catalog)["fields"] if f["write"] == "own"]


# -- mirror ------------------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def open_mirror(path: str | Path, fields: list[str]) -> sqlite3.Connection:
    """Open (or create) the local mirror with a column per field; columns the catalog added are added."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE IF NOT EXISTS sync_state (name TEXT PRIMARY KEY, value TEXT)")
    # Rows are keyed by the record's id: the natural key (ID number) may reach us masked.
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {LEDGER} "
        "(id INTEGER PRIMARY KEY, key TEXT, township TEXT, version INTEGER NOT NULL, at TEXT, source TEXT)"
    )
    have = {row[1] for row in db.execute(f"PRAGMA table_info({LEDGER})")}
    for name in fields:
        if name not in have:
            db.execute(f"ALTER TABLE {LEDGER} ADD COLUMN {_quote(name)}")
    db.commit()
    return db


def saved_cursor(db: sqlite3.Connection) -> str | None:
    """Return the cursor the last run stopped at, or None to start from the beginning."""
    row = db.execute("SELECT value FROM sync_state WHERE name = 'cursor'").fetchone()
    return row[0] if row else None


def _cell(value: Any) -> Any:
    """Return a value as SQLite keeps it (lists, such as multiple choices, as JSON text)."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def _apply(db: sqlite3.Connection, changes: list[dict[str, Any]], columns: set[str]) -> None:
    """Write a page of changes: each sets the fields it carries (masked values stay as the API sent them)."""
    for change in changes:
        values = {k: v for k, v in (change.get("values") or {}).items() if k in columns}
        names = ["id", "key", "township", "version", "at", "source", *values]
        row = [change["id"], change.get("key"), change.get("township"), change["version"]]
        row += [change.get("at"), change.get("source")]
        row += [
            json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for v in values.values()
        ]
        updates = ", ".join(f"{_quote(n)} = excluded.{_quote(n)}" for n in names[1:])
        db.execute(
            f"INSERT INTO {LEDGER} ({', '.join(map(_quote, names))}) VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT (id) DO UPDATE SET {updates} WHERE excluded.version > {LEDGER}.version",
            row,
        )


def mirror(client: httpx.Client, path: str | Path, limit: int | None = None) -> dict[str, int]:
    """Bring the local mirror up to date through the changes cursor; return pages and changes read."""
    fields = readable_fields(call(client, "GET", "/catalog"))
    db = open_mirror(path, fields)
    columns = set(fields)
    pages = changes = 0
    try:
        while True:
            params: dict[str, Any] = {}
            if (cursor := saved_cursor(db)) is not None:
                params["cursor"] = cursor
            if limit:
                params["limit"] = limit
            page = call(client, "GET", f"/ledgers/{LEDGER}/changes", params=params)
            with db:  # the page's rows and the cursor after them commit together
                _apply(db, page["changes"], columns)
                if page.get("next_cursor"):
                    db.execute(
                        "INSERT INTO sync_state (name, value) VALUES ('cursor', ?) "
                        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        (page["next_cursor"],),
                    )
            pages += 1
            changes += len(page["changes"])
            if not page.get("more"):
                return {"pages": pages, "changes": changes}
    finally:
        db.close()


# -- push --------------------------------------------------------------------------------------------


def check_columns(catalog: dict[str, Any], header: list[str]) -> list[str]:
    """Return the CSV's columns that are neither the natural key nor the caller's own elements.

    Such values are not written: they become proposals for the owning department to accept.
    """
    ledger = person_ledger(catalog)
    allowed = {ledger["key"], *own_fields(catalog)}
    return [name for name in header if name not in allowed]


def push(
    client: httpx.Client, csv_path: str | Path, *, mode: str | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """Push a CSV file of person rows once (as a dry run when asked); return the import summary."""
    body = Path(csv_path).read_bytes()
    params: dict[str, Any] = {"dry_run": "true" if dry_run else "false"}
    if mode:
        params["mode"] = mode
    headers = {"Content-Type": "text/csv; charset=utf-8", "Idempotency-Key": str(uuid.uuid4())}
    return call(client, "POST", f"/ledgers/{LEDGER}/records", params=params, content=body, headers=headers)


def push_checked(client: httpx.Client, csv_path: str | Path, *, mode: str | None = None) -> dict[str, Any]:
    """Dry-run the CSV, and push it for real only when the dry run rejected no row."""
    trial = push(client, csv_path, mode=mode, dry_run=True)
    if trial["summary"]["rejected"]:
        return trial
    return push(client, csv_path, mode=mode)


def _read_header(csv_path: str | Path) -> list[str]:
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle), [])


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(description="一表通数据交换接口示例客户端")
    parser.add_argument("--base", required=True, help="一表通的地址，如 https://ybt.example.gov.cn")
    commands = parser.add_subparsers(dest="command", required=True)
    mirror_cmd = commands.add_parser("mirror", help="把可读的人口数据项增量同步到本地 SQLite")
    mirror_cmd.add_argument("--db", default="mirror.db")
    push_cmd = commands.add_parser("push", help="推送本部门数据项的 CSV（先试运行）")
    push_cmd.add_argument("csv")
    push_cmd.add_argument(
        "--mode", choices=("per_row", "all_or_nothing"), help="逐行生效（默认）或全部成功才生效"
    )
    args = parser.parse_args(argv)
    token = os.environ.get("YIBIAOTONG_TOKEN")
    if not token:
        parser.error("请把令牌放在环境变量 YIBIAOTONG_TOKEN 中")
    with connect(args.base, token) as client:
        try:
            if args.command == "mirror":
                result = mirror(client, args.db)
                print(f"读取 {result['pages']} 页，{result['changes']} 条变更")
                return 0
            if others := check_columns(call(client, "GET", "/catalog"), _read_header(args.csv)):
                print(f"注意：{'、'.join(others)} 不归本部门所有，推送后成为交权威部门审核的变更")
            result = push_checked(client, args.csv, mode=args.mode)
        except ApiError as exc:
            print(f"接口拒绝了请求：{exc}", file=sys.stderr)
            return 1
    print(json.dumps(result["summary"], ensure_ascii=False))
    return 0 if not result["summary"]["rejected"] else 2


if __name__ == "__main__":
    sys.exit(main())
