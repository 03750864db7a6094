"""The tree reads as the pipeline: stages import only the stages below them, and no module imports itself back.

Checked from the source with ``ast`` (lazy imports inside functions count too):

    cli -> preflight -> report -> engine -> rulepack -> model
    drgn_plugin ------/        \\        \\-> ingest  -> model
                                \\-> vmcore -> model

(preflight and fleet sit above report: they may use everything below, only cli imports them; the drgn plugin
sits beside the CLI: drgn imports it through its entry point, nothing else does)
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "triage"

#: what each stage may import (besides itself); errors and paths are leaves everybody may use
ALLOWED = {
    "model": set(),
    "errors": set(),
    "paths": set(),
    "ingest": {"model", "errors", "paths"},
    "rulepack": {"model", "errors", "paths"},
    "vmcore": {"model", "errors", "paths"},
    "engine": {"rulepack", "ingest", "model", "errors", "paths"},
    "report": {"engine", "rulepack", "ingest", "vmcore", "model", "errors", "paths"},
    "preflight": {"report", "engine", "rulepack", "ingest", "model", "errors", "paths"},
    "drgn_plugin": {"report", "vmcore", "model", "errors", "paths"},
    # fleet triage sits above the report stage: it diagnoses with it, nothing but the CLI imports it
    "fleet": {"report", "engine", "rulepack", "ingest", "model", "errors", "paths", "__init__"},
    "cli": {"preflight", "fleet", "report", "engine", "rulepack", "ingest", "vmcore", "model", "errors", "paths",
            "__init__"},
    "__init__": {"report", "engine", "rulepack", "ingest", "vmcore", "model", "errors", "paths"},
    "__main__": {"cli"},
}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """Fully qualified triage modules imported by one module (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("triage"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith("triage"):
                continue
            submodules = {f"{module}.{alias.name}" for alias in node.names} & set(_modules())
            # "from .. import vmcore" imports the module vmcore, not what the package's __init__ holds
            found.update(submodules if submodules and node.module is None else {module} | submodules)
    modules = _modules()
    return {m for m in found if m in modules and m != name}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_stages_import_only_the_stages_below_them():
    wrong = []
    for name, path in _modules().items():
        stage = _stage(name)
        for target in _imports(name, path):
            other = _stage(target)
            if other != stage and other not in ALLOWED[stage]:
                wrong.append(f"{name} imports {target} ({stage} -> {other})")
    assert wrong == []


def test_no_import_cycles():
    graph = {name: _imports(name, path) for name, path in _modules().items()}
    # a package's __init__ re-exporting its modules is not a cycle of the code
    for name in list(graph):
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize("name", sorted(_modules()))
def test_every_module_says_what_it_holds_and_stays_small(name):
    path = _modules()[name]
    text = path.read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(text))
    assert doc, f"{name} has no module docstring"
    lines = text.count("\n")
    assert lines <= MAX_LINES or "longer than 400 lines" in doc, f"{name}: {lines} lines and no reason given"
