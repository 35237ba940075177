"""The district's name on the login page and in the header comes from the org-unit data."""

from __future__ import annotations

import json
import shutil

from runtime.demo.accounts import DEMO_PASSWORD
from tests.conftest import SPECS_ROOT, close_app, make_test_app


def test_the_district_name_is_the_root_org_unit_s(engine, tmp_path):
    """With the root org unit renamed in a copy of form_specs, the pages name the renamed district."""
    specs = tmp_path / "form_specs"
    shutil.copytree(SPECS_ROOT, specs)
    tree = specs / "org_units" / "500118.json"
    root = json.loads(tree.read_text(encoding="utf-8"))
    root["name"] = "测试区"
    tree.write_text(json.dumps(root, ensure_ascii=False), encoding="utf-8")

    app = make_test_app(engine.url.render_as_string(hide_password=False), tmp_path, SPECS_PATH=str(specs))
    try:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        assert "测试区基层报表“一表通”" in page and "永川区" not in page
        # A district user has no org unit of her own: the header names the district.
        client.post("/login", data={"username": "keeper", "password": DEMO_PASSWORD})
        page = client.get("/ledgers").get_data(as_text=True)
        assert "数据管理岗 刘敏" in page and "· 测试区" in page and "永川区" not in page
    finally:
        close_app(app)


def test_the_standard_login_page_names_the_district_of_the_specs(client, specs):
    """The login page of the standard specs names their root org unit."""
    page = client.get("/login").get_data(as_text=True)
    assert f"{specs.district().name}基层报表“一表通”" in page
