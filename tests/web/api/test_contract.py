"""The API keeps its published contract: schemathesis fuzzes every operation of the live document.

The real app runs on a fresh tiny district (demo reports and grants) behind a real HTTP server in a
thread; the document is read from its own /api/v1/openapi.json, so an endpoint added to the API is
covered without being named here. Each operation gets property-based cases (valid and invalid
parameters and bodies) sent with a token of 区残联; every answer must not be a server error, must
have a documented status code and content type, and must conform to the documented schema.

The operations are fuzzed one by one from the loaded document rather than through schemathesis'
pytest plugin: its lazy `from_fixture` schema (needed because the server exists only once a fixture
ran) rewrites `node._nodeid`, which pytest 9 no longer has. Every operation is tried and all
failures are reported together, each with the curl line that reproduces it.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import close_app, demo_district, make_test_app
from tests.web.api.conftest import make_token, served

#: What every answer is held to.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def live_api(specs, tmp_path_factory):
    """Serve the app on a fresh demo district over real HTTP; yield (base URL, token of 区残联)."""
    folder = tmp_path_factory.mktemp("contract")
    url, engine = demo_district(specs, folder, "contract")
    token = make_token(engine, "canlian", "区残联 契约测试")
    engine.dispose()
    # Fuzzing sends hundreds of requests a minute: the rate limit is not what is under test here.
    app = make_test_app(url, folder, API_RATE_LIMIT="100000 per minute")
    with served(app) as base:
        yield base, token
    close_app(app)


@pytest.fixture(scope="module")
def api_schema(live_api):
    """Load the API document from the live app."""
    base, _token = live_api
    return schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")


def _pinned(drawn):
    """Return a case with its `ledger` and `code` path parameters set to real ones when drawn."""
    case, ledger, report = drawn
    if ledger is not None and "ledger" in (case.path_parameters or {}):
        case.path_parameters["ledger"] = ledger
    if report is not None and "code" in (case.path_parameters or {}):
        case.path_parameters["code"] = report
    return case


def _fuzz(
    operation,
    mode: GenerationMode,
    base: str,
    token: str,
    examples: int,
    ledgers: list[str],
    reports: list[str],
) -> None:
    """Send `examples` generated cases of one mode to one operation, checking every answer.

    Most cases name a real ledger or report: a random string in the path would only ever reach the 404.
    """
    cases = st.tuples(
        operation.as_strategy(generation_mode=mode),
        st.sampled_from([None, *ledgers, *ledgers]),
        st.sampled_from([None, *reports, *reports]),
    )

    @given(case=cases.map(_pinned))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,  # the same run on every machine: no examples remembered between runs
        derandomize=True,
        # Generating from a schema rejects some draws by design; the server is not per-example.
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def run(case):
        case.call_and_validate(base_url=base, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    run()


def test_every_operation_keeps_the_documented_contract(live_api, api_schema):
    base, token = live_api
    operations, failures = [], []
    for result in api_schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:
            failures.append(f"文档中的接口定义无效：{result.err()}")
    assert any(op.path == "/api/v1/catalog" for op in operations)
    catalog = httpx.get(f"{base}/api/v1/catalog", headers={"Authorization": f"Bearer {token}"}).json()
    ledgers = [ledger["code"] for ledger in catalog["ledgers"]]
    listed = httpx.get(f"{base}/api/v1/reports", headers={"Authorization": f"Bearer {token}"}).json()
    reports = [report["code"] for report in listed["reports"]]
    for operation in operations:
        for mode, examples in ((GenerationMode.POSITIVE, 20), (GenerationMode.NEGATIVE, 15)):
            try:
                _fuzz(operation, mode, base, token, examples, ledgers, reports)
            except Exception as exc:  # noqa: BLE001 - every operation is tried, all failures reported
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
