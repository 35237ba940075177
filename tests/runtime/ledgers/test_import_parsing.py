"""Parsing an upload in worker processes gives exactly what parsing in-process gives."""

import csv
import io

import pytest

from builder.problems import ImportRefused
from runtime.ledgers.import_parsing import Chunk, Header, Job, parsed
from runtime.ledgers.store import Scope

HEADER = ["身份证号码", "姓名", "性别", "出生日期", "所属镇街", "所属村（社区）", "户编号", "与户主关系"]


def sheet(people):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for p in people:
        writer.writerow(
            [
                p["id_number"],
                p["name"],
                p["gender"],
                p["birth_date"],
                "中山路街道",
                p["village_code"],
                p["household_no"],
                p["relation_to_head"],
            ]
        )
    return out.getvalue().encode("utf-8")


def collect(job, workers_from_bytes):
    events = list(parsed(job, workers_from_bytes=workers_from_bytes))
    header, chunks = events[0], events[1:]
    assert isinstance(header, Header) and all(isinstance(c, Chunk) for c in chunks)
    valid = [(line, row[0]) for c in chunks for line, row in zip(c.lines, c.valid, strict=True)]
    rejected = [(line, errors) for c in chunks for line, _cells, errors in c.rejected]
    return valid, rejected


def test_workers_parse_like_one_process_and_catch_repeats_across_chunks(specs, make_person):
    people = [make_person() for _ in range(7)]
    people.insert(5, dict(people[1]))  # line 7 repeats line 3, two chunks later
    people.insert(2, make_person(gender="雄"))  # an invalid row
    job = Job(
        sheet(people),
        "p.csv",
        specs.ledgers["person"],
        list(specs.org_units.values()),
        Scope(),
        max_bytes=10_000_000,
        chunk=2,
    )
    in_process = collect(job, workers_from_bytes=10**9)
    in_workers = collect(job, workers_from_bytes=0)
    assert in_workers == in_process
    valid, rejected = in_workers
    assert [line for line, _key in valid] == [2, 3, 5, 6, 7, 9, 10]
    assert [line for line, _errors in rejected] == [4, 8]
    assert "与第 3 行重复" in rejected[1][1]["id_number"]


def test_a_bad_file_is_refused_from_a_worker_too(specs):
    job = Job(
        b"%PDF-1.4 not a sheet" * 10, "x.pdf", specs.ledgers["person"], [], Scope(), max_bytes=10_000_000
    )
    with pytest.raises(ImportRefused):
        list(parsed(job, workers_from_bytes=0))
