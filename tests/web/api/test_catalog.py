"""GET /api/v1/catalog: the ledgers and their elements as the calling client's department sees them."""

from __future__ import annotations


def test_the_catalog_says_what_the_client_owns_and_how_it_sees_the_rest(api_as):
    response = api_as("canlian").get("/api/v1/catalog")
    assert response.status_code == 200
    body = response.get_json()
    assert body["department"] == "区残联"
    person = {f["element"]: f for f in next(x for x in body["ledgers"] if x["code"] == "person")["fields"]}
    # 区残联 owns the disability category: it writes it and reads it in clear.
    assert (person["person.disability_category"]["write"], person["person.disability_category"]["sight"]) == (
        "own",
        "clear",
    )
    # The ID number belongs to 区公安分局: pushed values become proposals; it is read masked.
    assert person["person.id_number"]["write"] == "propose"
    assert person["person.id_number"]["sight"] == "masked"


def test_no_token_or_a_wrong_one_is_a_problem_401(api_as, client):
    for headers in ({}, {"Authorization": "Bearer ybt_not-a-token"}, {"Authorization": "Basic eDp5"}):
        response = client.get("/api/v1/catalog", headers=headers)
        assert response.status_code == 401
        assert response.content_type == "application/problem+json"
        assert response.get_json()["code"] in ("token_missing", "token_invalid")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
