"""The package's import graph: arrows point down the layers, and nothing imports in a circle.

Every import counts, also those inside functions (they hide cycles from Python, not from a reader).
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "contradict"

# lower layers never import higher ones; the facade (contradict/__init__) sits just below the front ends
LAYERS = {
    "contradict.errors": 0, "contradict.labels": 0, "contradict.defaults": 0, "contradict.files": 0,
    "contradict.nli": 1,
    "contradict.pipeline": 2,
    "contradict.evaluation": 3, "contradict.jobs": 3, "contradict.report": 3,
    "contradict.training": 4,
    "contradict": 5,
    "contradict.cli": 6, "contradict.server": 6,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (PACKAGE.parent / relative.with_suffix(".py")).is_file() or (PACKAGE.parent / relative / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "contradict"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "contradict":
                continue
            submodules = {f"{target}.{alias.name}" for alias in node.names if _is_module(f"{target}.{alias.name}")}
            found |= submodules or {target}
    return found - {module}


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    while module not in LAYERS:
        module = module.rpartition(".")[0]
        assert module, "every module belongs to a layer"
    return LAYERS[module]


def test_the_graph_is_read():
    graph = _graph()
    assert len(graph) > 30
    assert "contradict.nli.scorer" in graph["contradict.pipeline.detector"]  # a plain import is seen
    assert "contradict.nli.encoder" in graph["contradict.pipeline.detector"]  # so is one inside a function


def test_imports_point_down_the_layers():
    upward = [(a, b) for a, targets in _graph().items() for b in targets if _layer(b) > _layer(a)]
    assert upward == []


def test_nothing_below_the_front_ends_imports_them():
    front = ("contradict.cli", "contradict.server")
    offenders = [(a, b) for a, targets in _graph().items() if not a.startswith(front)
                 for b in targets if b.startswith(front)]
    assert offenders == []


def test_no_import_cycles():
    graph = _graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize("source, expected", [
    ("from ..errors import ContradictError", {"contradict.errors"}),
    ("from . import datasets", {"contradict.evaluation.datasets"}),
    ("import contradict.labels as labels", {"contradict.labels"}),
    ("def f():\n    from ..nli.scorer import NLIScorer", {"contradict.nli.scorer"}),
])
def test_relative_and_lazy_imports_resolve(tmp_path, monkeypatch, source, expected):
    fake = PACKAGE / "evaluation" / "_probe_for_test.py"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source if self == fake else
                        Path.open(self, encoding=encoding).read())
    assert _imports(fake) == expected
