"""Runtime refusals are coded: every message comes from `ErrorCode`, filled at the raise site."""

import ast
import pickle
import re
from pathlib import Path

import pytest

from runtime.errors import ErrorCode, InvalidRequest, NotAllowed, NotFound, OperationRefused
from runtime.reports.store import ReportError

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = sorted((ROOT / "runtime").rglob("*.py"))
#: Chinese characters (not the punctuation "、" or "；" that joins a list into a parameter).
HAN = re.compile(r"[\u4e00-\u9fff]")


def _raised_calls() -> list[tuple[str, ast.Call]]:
    """Return every `raise Something(...)` call in runtime/, with where it is."""
    found = []
    for path in RUNTIME:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.exc))
    return found


def _code_named(node: ast.expr) -> ErrorCode | None:
    """Return the ErrorCode a node spells as `ErrorCode.NAME`, or None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ErrorCode":
        return ErrorCode[node.attr]
    return None


@pytest.mark.parametrize("error", list(ErrorCode), ids=lambda e: e.code)
def test_every_code_formats_with_its_params(error):
    message = error.format(**{name: f"<{name}>" for name in error.params})
    for name in error.params:
        assert f"<{name}>" in message
    assert "{" not in message and "}" not in message
    assert all(name.isidentifier() for name in error.params)  # named fields only, never {} or {0}


def test_codes_are_stable_snake_case_and_unique():
    codes = [e.code for e in ErrorCode]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]+", c) for c in codes)
    assert all(e.code == e.name.lower() for e in ErrorCode)


def test_a_missing_param_is_an_error_not_a_hole():
    with pytest.raises(KeyError):
        ErrorCode.REPORT_CODE_TAKEN.format()


def test_the_exception_carries_the_code_and_the_filled_message():
    exc = ReportError(ErrorCode.REPORT_CODE_TAKEN, code="r1")
    assert str(exc) == "报表编码“r1”已被使用，请换一个"
    assert (exc.code, exc.error, exc.params) == (
        "report_code_taken",
        ErrorCode.REPORT_CODE_TAKEN,
        {"code": "r1"},
    )
    assert isinstance(exc, OperationRefused)


@pytest.mark.parametrize(
    "cls, builtin", [(NotAllowed, PermissionError), (InvalidRequest, ValueError), (NotFound, LookupError)]
)
def test_refusals_are_still_the_builtin_errors_callers_catch(cls, builtin):
    with pytest.raises(builtin) as caught:
        raise cls(ErrorCode.USER_NOT_FOUND, user="ab")
    assert str(caught.value) == "用户 ab 不存在" and caught.value.code == "user_not_found"


def test_refusals_survive_pickling():
    from runtime.tasks.submission import TaskInvalid

    for exc in (NotAllowed(ErrorCode.PLAINTEXT_NOT_ALLOWED), TaskInvalid([], 3)):
        back = pickle.loads(pickle.dumps(exc))
        assert (type(back), str(back), back.code) == (type(exc), str(exc), exc.code)


def _spelled(call: ast.Call) -> list[ast.AST]:
    """Return the parts of a raise call that may spell a message (not builder's file-problem params)."""
    if isinstance(call.func, ast.Name) and call.func.id == "ImportRefused":
        return call.args  # its params fill builder's `FileProblem` templates ("JSON 报表规格" as a kind)
    return [call]


def test_no_runtime_raise_spells_its_chinese_message_inline():
    inline = [
        where
        for where, call in _raised_calls()
        for part in _spelled(call)
        for node in ast.walk(part)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and HAN.search(node.value)
    ]
    assert inline == []


def test_every_raise_site_gives_exactly_the_params_of_its_code():
    checked, wrong = 0, []
    for where, call in _raised_calls():
        error = next((e for e in map(_code_named, call.args) if e is not None), None)
        if error is None or any(k.arg is None for k in call.keywords):  # none named, or **params
            continue
        checked += 1
        given = {k.arg for k in call.keywords}
        if given != error.params:
            wrong.append((where, error.name, sorted(given), sorted(error.params)))
    assert wrong == []
    assert checked > 40
