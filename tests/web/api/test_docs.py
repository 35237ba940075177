"""The API's documentation page and document: public, complete, and within the Content Security Policy."""

from __future__ import annotations

import re

PROBLEM = "application/problem+json"
METHODS = ("get", "post", "put", "patch", "delete")


def _operations(doc):
    """Yield (method, path, operation) of the document (path items also hold shared parameters)."""
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def test_the_document_is_openapi_3_1_and_every_error_is_a_problem(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    responses = doc["components"]["responses"]
    for method, path, operation in _operations(doc):
        statuses = operation["responses"]
        assert {"400", "401", "429"} <= statuses.keys(), (method, path)
        for status, response in statuses.items():
            if int(status) >= 400:
                if "$ref" in response:
                    response = responses[response["$ref"].rsplit("/", 1)[-1]]
                assert list(response["content"]) == [PROBLEM], (method, path, status)


def test_the_docs_page_lists_every_operation_without_a_login(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for method, path, _operation in _operations(doc):
        assert f"<code>{path}</code>" in page
        assert f">{method.upper()}</span>" in page
    assert "Authorization: Bearer ybt_…" in page
    assert "Idempotency-Key" in page and "dry_run" in page and "Retry-After" in page
    # The Content Security Policy allows no inline script or style.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert " style=" not in page and "<style" not in page


def test_the_catalog_page_links_to_the_docs(client, auth):
    auth.login("canlian")
    assert 'href="/api/v1/docs"' in client.get("/catalog/").get_data(as_text=True)
