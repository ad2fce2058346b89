"""The package's layers (CONTRIBUTING.md, "The library's layers"): lower never imports higher,
and no modules import one another in a circle.

Every import counts, also those inside functions and under ``TYPE_CHECKING``: a lazy import
hides a dependency from the import machinery, not from a reader.
"""

from __future__ import annotations

import ast

from conftest import ROOT

PACKAGE = ROOT / "rnncourse"
# stage -> the stages it may import (besides itself). The commands (cli, info, __main__) and the
# package's own __init__ sit on top and may import anything.
MAY_IMPORT = {
    "runtime": set(),
    "data": {"runtime"},
    "plot": {"runtime"},
    "nn": {"runtime"},
    "train": {"runtime", "data", "plot", "nn"},
    "deploy": {"runtime", "data", "nn"},
    "grading": {"runtime"},
}
TOP = {"cli", "info", "__main__", "__init__", "_moved"}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _imports(name: str, path) -> set[str]:
    """The rnncourse modules that ``name`` imports (``from X import y`` counts y when it is a module)."""
    known = {n for n, _ in _modules()}
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found |= {t for t in targets if t.split(".")[0] == "rnncourse" and t in known and t != name}
    return found


def _stage(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def test_lower_layers_never_import_higher_ones():
    wrong = []
    for name, path in _modules():
        stage = _stage(name)
        if stage in TOP:
            continue
        assert stage in MAY_IMPORT, f"{name}: stage {stage!r} is not in the layering (add it to MAY_IMPORT and CONTRIBUTING.md)"
        for target in _imports(name, path):
            other = _stage(target)
            if other != stage and other != "__init__" and other not in MAY_IMPORT[stage]:
                wrong.append(f"{name} imports {target} ({stage} may import only {sorted(MAY_IMPORT[stage]) or 'nothing'})")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle():
    graph = {name: _imports(name, path) for name, path in _modules()}
    # a package's __init__ importing its own submodules is how packages work, not a circle
    graph = {n: {t for t in ts if not (t.startswith(n + ".") and (PACKAGE / "/".join(n.split(".")[1:]) / "__init__.py").exists())}
             for n, ts in graph.items()}
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not circles, f"modules that import one another: {circles}"


def test_modules_and_functions_are_short_enough_to_read():
    long = []
    for name, path in _modules():
        text = path.read_text()
        lines = text.count("\n")
        if lines > MAX_MODULE_LINES:
            long.append(f"{name}: {lines} lines (at most {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {length} lines (at most {MAX_FUNCTION_LINES})")
    assert not long, "split into named steps:\n" + "\n".join(long)
