"""The shape of the package: layers, import direction, sizes (docs/architecture.rst).

Read from the source with :mod:`ast`, not by importing it: these tests check what
``docs/architecture.rst`` promises, so that the house stays one way through.

- every module belongs to one layer, and imports only from the layers below it
  (analyses never import the store, a renderer, a workflow or a face; nothing imports
  the command line);
- no import cycle among the package's modules (lazy imports inside functions count);
- no private name (``_name``) is imported or used across modules, and a private module
  of a sub-package is used only inside that sub-package;
- no module is longer than :data:`MAX_MODULE_LINES` lines and no function longer than
  :data:`MAX_FUNCTION_LINES` lines of code (docstring, comments and blank lines not
  counted).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kosovo_cmr"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

#: Layers from the floor up; see docs/architecture.rst. A module may import from its own
#: layer and from the layers listed for it.
LAYERS: dict[str, tuple[str, ...]] = {
    "floor": ("floor",),
    "sources": ("floor", "sources"),
    "store": ("floor", "store"),
    "importer": ("floor", "sources", "store", "importer"),
    "analysis": ("floor", "analysis"),
    "renderers": ("floor", "renderers"),
    "workflows": ("floor", "sources", "store", "importer", "analysis", "renderers", "workflows"),
    "faces": (
        "floor",
        "sources",
        "store",
        "importer",
        "analysis",
        "renderers",
        "workflows",
        "faces",
    ),
}

#: Analyses a renderer may import (vocabulary it draws, not results it would recompute).
RENDERERS_MAY_USE: frozenset[str] = frozenset(
    {
        # the turning-point table of one polygon: field sheets print it and GPX writes it
        # as waypoints; a pure function of the geometry being drawn, like a projection
        "kosovo_cmr.analysis.turning_points",
    }
)


def _assert_none(found: list[tuple[str, str]], what: str) -> None:
    assert not found, f"{what}:\n" + "\n".join(text for _, text in found)


def layer_of(module: str) -> str:
    """The layer of a module of the package (see docs/architecture.rst)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if module == "kosovo_cmr" or top in ("cli", "qgis", "__main__"):
        return "faces"
    if top in ("workflows", "demo", "synthetic"):
        return "workflows"
    if top == "outputs" or (top == "report" and len(parts) > 2 and parts[2].startswith("render")):
        return "renderers"
    if top in ("analysis", "report"):
        return "analysis"
    if top == "store":
        return "store"
    if top == "sources":
        return "sources"
    if top.lstrip("_").startswith("import"):
        return "importer"
    return "floor"


@cache
def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


@cache
def tree(module: str) -> ast.Module:
    return ast.parse(modules()[module].read_text(encoding="utf-8"))


def _resolve(module: str, node: ast.ImportFrom) -> str | None:
    if node.level:
        base = module.split(".")
        if not modules()[module].name == "__init__.py":
            base = base[:-1]
        base = base[: len(base) - node.level + 1]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module


def imports(module: str) -> list[tuple[str, str, int]]:
    """(imported module, imported name or "", line) for every import of the package."""
    out = []
    for node in ast.walk(tree(module)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("kosovo_cmr"):
                    out.append((alias.name, "", node.lineno))
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            if not source or not source.startswith("kosovo_cmr"):
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in modules():
                    out.append((sub, "", node.lineno))
                else:
                    out.append((source, alias.name, node.lineno))
    return out


def layering_findings() -> list[tuple[str, str]]:
    bad = []
    for module in modules():
        mine = layer_of(module)
        for target, _name, line in imports(module):
            if target not in modules():
                continue
            theirs = layer_of(target)
            if theirs not in LAYERS[mine]:
                if mine == "renderers" and theirs == "analysis" and target in RENDERERS_MAY_USE:
                    continue
                text = f"{module}:{line} ({mine}) imports {target} ({theirs})"
                bad.append((f"{module} -> {target}", text))
    return bad


def test_nothing_imports_the_faces():
    bad = []
    for module in modules():
        if layer_of(module) == "faces" and module != "kosovo_cmr":
            continue
        for target, _, line in imports(module):
            top = target.split(".")[1] if "." in target else ""
            if top in ("cli", "qgis"):
                bad.append(f"{module}:{line} imports {target}")
    assert not bad, "\n".join(bad)


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for module in modules():
        for target, _, _ in imports(module):
            if target in modules() and target != module:
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    graph = _graph()
    # a package's __init__ re-exporting its own modules is not a cycle of concepts
    for module in graph:
        if modules()[module].name == "__init__.py":
            graph[module] = {t for t in graph[module] if not t.startswith(module + ".")}
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _package(module: str) -> str:
    return module if modules()[module].name == "__init__.py" else module.rsplit(".", 1)[0]


def private_findings() -> list[tuple[str, str]]:
    bad = []
    for module in modules():
        bound = {}
        for target, name, line in imports(module):
            if name and _is_private(name) and target != module:
                bad.append(
                    (
                        f"{module} -> {target}.{name}",
                        f"{module}:{line} imports private {target}.{name}",
                    )
                )
            last = target.rsplit(".", 1)[1]
            if not name and _is_private(last):
                owner = target.rsplit(".", 1)[0]
                if owner != "kosovo_cmr" and not module.startswith(owner):
                    bad.append(
                        (
                            f"{module} -> {target}",
                            f"{module}:{line} imports private module {target}",
                        )
                    )
        for node in ast.walk(tree(module)):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(module, node)
                for alias in node.names:
                    if source and f"{source}.{alias.name}" in modules():
                        bound[alias.asname or alias.name] = f"{source}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and alias.name in modules():
                        bound[alias.asname] = alias.name
        for node in ast.walk(tree(module)):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in bound
                and _is_private(node.attr)
            ):
                key = f"{module} -> {bound[node.value.id]}.{node.attr}"
                bad.append((key, f"{module}:{node.lineno} uses private {key.split(' -> ')[1]}"))
    return bad


def test_imports_follow_the_layers_and_keep_private_names_private():
    _assert_none(layering_findings() + private_findings(), "imports")


def _code_lines(node: ast.AST, lines: list[str]) -> int:
    body = node.body
    skip = set()
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            skip = set(range(body[0].lineno, body[0].end_lineno + 1))
    count = 0
    for n in range(node.lineno, node.end_lineno + 1):
        text = lines[n - 1].strip()
        if n in skip or not text or text.startswith("#"):
            continue
        count += 1
    return count


def long_functions() -> dict[str, int]:
    out = {}
    for module, path in modules().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(tree(module)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = _code_lines(node, lines)
                if n > MAX_FUNCTION_LINES:
                    out[f"{module}.{node.name}"] = n
    return out


def test_functions_are_short():
    found = [(k, f"{k} ({v} lines)") for k, v in sorted(long_functions().items())]
    _assert_none(found, f"functions over {MAX_FUNCTION_LINES} lines of code")


def test_modules_are_short():
    found = []
    for module, path in modules().items():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE_LINES:
            found.append((module, f"{module} ({n} lines)"))
    _assert_none(found, f"modules over {MAX_MODULE_LINES} lines")


@pytest.mark.parametrize(
    "module, layer",
    [
        ("kosovo_cmr.settings", "floor"),
        ("kosovo_cmr.analysis.fadeout", "analysis"),
        ("kosovo_cmr.report.tables", "analysis"),
        ("kosovo_cmr.report.render", "renderers"),
        ("kosovo_cmr.outputs.maps", "renderers"),
        ("kosovo_cmr.workflows", "workflows"),
        ("kosovo_cmr.demo", "workflows"),
        ("kosovo_cmr.cli.main", "faces"),
        ("kosovo_cmr.store.gpkg", "store"),
        ("kosovo_cmr.importer", "importer"),
    ],
)
def test_layer_of(module, layer):
    assert layer_of(module) == layer
