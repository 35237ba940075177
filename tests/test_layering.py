"""The dependency direction web → runtime → builder holds in every module."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Package → top-level modules it must never import.
FORBIDDEN = {
    "builder": {"runtime", "web", "flask", "flask_htmx", "flask_login", "flask_wtf", "wtforms", "sqlalchemy"},
    "runtime": {"web", "flask", "flask_htmx", "flask_login", "flask_wtf", "wtforms"},
}


def imported(path: Path) -> set[str]:
    """Return the top-level names of every module a file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_against_the_direction(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {p: names for p, names in offenders.items() if names} == {}


#: The one module that names the spec folder in code: the configuration, whose default is the
#: project's form_specs/ (YIBIAOTONG_SPECS overrides it). Everything else is handed the path.
CONFIGURATION = "runtime/config.py"
#: A path to the spec folder written in code ("form_specs", "../form_specs/meta"), not prose naming it.
SPEC_PATH = re.compile(r"^(?:[\w.]*/)*form_specs(?:/|$)")


def code_strings(path: Path) -> set[str]:
    """Return the string constants of a file's code (docstrings left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


def test_form_specs_is_reached_through_the_configured_path_only():
    """No module builds the spec folder's path from its own location (`__file__`) or by name."""
    offenders = sorted(
        str(path.relative_to(ROOT))
        for package in ("builder", "runtime", "web")
        for path in (ROOT / package).rglob("*.py")
        if str(path.relative_to(ROOT)) != CONFIGURATION
        and any(SPEC_PATH.match(text) for text in code_strings(path))
    )
    assert offenders == []
