"""The package's shape (issue 9): imports follow the pipeline without a circle, and
Whoosh is imported only inside the embedded backend."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "searchapp"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module a file imports (anywhere in it), relative imports resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {m for m in imports(path) if m in files and m != name} for name, path in files.items()
    }


def test_whoosh_is_imported_only_inside_the_embedded_backend():
    outside = {
        module_name(p)
        for p in PACKAGE.rglob("*.py")
        if "embedded" not in p.relative_to(PACKAGE).parts
        and any(m == "whoosh" or m.startswith("whoosh.") for m in imports(p))
    }
    assert outside == set()
    inside = [
        p
        for p in (PACKAGE / "embedded").rglob("*.py")
        if any(m.startswith("whoosh") for m in imports(p))
    ]
    assert inside  # the check looks at real imports


def test_the_package_imports_without_a_circle():
    edges = graph()
    # a package's __init__ re-exporting its own modules is not a circle of the pipeline
    edges = {
        name: {m for m in targets if not (name.startswith(m + ".") and m in edges)}
        for name, targets in edges.items()
    }
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for target in sorted(edges[name]):
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name)
    assert len(edges) > 20  # the whole package was read
