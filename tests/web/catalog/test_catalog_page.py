"""The data catalog page: owner, sharing type and how the reader sees each element."""

import re


def _rows(page: str) -> dict[str, dict[str, str]]:
    """Return element code → {column label: cell text} of the catalog tables."""
    found = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S):
        cells = dict(re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', row, re.S))
        if cells:
            code = re.search(r"<small[^>]*>([a-z_]+\.[a-z_0-9]+)</small>", cells["数据项"]).group(1)
            found[code] = {k: re.sub(r"<[^>]+>", " ", v).split() for k, v in cells.items()}
    return found


def test_a_department_sees_whose_each_element_is_and_how_it_reads_it(client, auth):
    auth.login("canlian")
    rows = _rows(client.get("/catalog/").get_data(as_text=True))
    assert rows["person.disability_grade"]["所有者部门"] == ["区残联", "本部门"]
    assert rows["person.disability_grade"]["您看到的"] == ["明文"]
    assert rows["person.assistance_type"]["所有者部门"] == ["区民政局"]
    assert rows["person.assistance_type"]["共享类型"] == ["有条件共享"]
    assert rows["person.assistance_type"]["您看到的"] == ["不可见"], "有条件共享, not granted"
    assert rows["person.name"]["您看到的"] == ["脱敏"], "无条件共享, personal"
    assert rows["person.bank_account"]["您看到的"] == ["不可见"], "不予共享"
    assert rows["land.parcel_code"]["您看到的"] == ["明文"] and "household.size" in rows


def test_the_catalog_filters_by_owner_and_sharing_type(client, auth):
    auth.login("keeper")
    owned = _rows(client.get("/catalog/", query_string={"owner": "区民政局"}).get_data(as_text=True))
    assert owned and {v["所有者部门"][0] for v in owned.values()} == {"区民政局"}
    assert "person.assistance_type" in owned and "person.name" not in owned
    never = _rows(client.get("/catalog/", query_string={"sharing": "不予共享"}).get_data(as_text=True))
    assert list(never) == ["person.bank_account"]
    unknown = _rows(client.get("/catalog/", query_string={"owner": "区档案馆"}).get_data(as_text=True))
    assert len(unknown) > 80, "an owner not in the list shows the whole catalog"
