"""The dependency direction web → runtime → builder holds in every module."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("builder", "runtime", "web")
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


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Return every module of our packages by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def import_graph(found: dict[str, Path]) -> tuple[dict[str, set[str]], list[str]]:
    """Return module → modules it imports (anywhere in the file), and the private names taken."""
    edges: dict[str, set[str]] = {name: set() for name in found}
    private = []
    for name, path in found.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges[name].update(a.name for a in node.names if a.name in found and a.name != name)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    target = full if full in found else base if base in found else None
                    if target and target != name:
                        edges[name].add(target)
                    if target == base and alias.name.startswith("_") and not alias.name.startswith("__"):
                        private.append(f"{name} imports {base}.{alias.name}")
    return edges, private


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected groups of more than one module (Tarjan), but a package with its own
    submodules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in edges:
        if v not in index:
            visit(v)
    return [g for g in groups if not all(m.startswith(min(g, key=len)) for m in g)]


def test_no_module_takes_another_module_s_private_names():
    assert import_graph(modules())[1] == []


def test_no_import_circles_even_inside_functions():
    assert circles(import_graph(modules())[0]) == []


def test_the_checks_see_circles_and_private_names(tmp_path):
    """A circle through an import inside a function, and a private name taken, are both found."""
    (tmp_path / "runtime").mkdir()
    (tmp_path / "runtime" / "a.py").write_text("from runtime.b import _helper\n")
    (tmp_path / "runtime" / "b.py").write_text("def f():\n    from runtime import a\n")
    edges, private = import_graph(modules(tmp_path))
    assert private == ["runtime.a imports runtime.b._helper"]
    assert circles(edges) == [["runtime.a", "runtime.b"]]
