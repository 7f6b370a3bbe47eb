"""The package's import graph has no cycle (issue 37).

The graph is built from the source with :mod:`ast` (nothing is imported, no TensorFlow): every
``import``/``from`` statement that names a ``repose_tf`` module, relative imports resolved. An
import at module level (class bodies and ``try``/``if`` blocks included, ``if TYPE_CHECKING:``
excluded) runs when the module is imported; one inside a function runs later. Two checks:

* the module-level graph has no cycle (a cycle there is a partially-initialised-module error
  waiting for the right import order);
* the graph with the function-level edges added has no cycle either, so no import inside a
  function exists to dodge a circle. Function-level imports of the package stay allowed where
  they exist for start-up speed (TensorFlow/Keras loaded only when used); they just must not
  close a loop.

``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``.
Importing a submodule also runs its parent packages' ``__init__``; those implicit edges are
left out (Python initialises the parent first, so they never form a real circle), and the
``importlib`` lookups behind the lazy attributes of ``repose_tf`` and ``repose_tf.export``
(PEP 562 ``__getattr__``) are not import statements.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "repose_tf"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

#: Function-level edges allowed to close a cycle: {(importer, imported): reason}. Empty: none is.
ALLOWED_FUNCTION_EDGES: dict[tuple[str, str], str] = {}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    """Yield (node, at_module_level) for every import statement, skipping TYPE_CHECKING blocks."""

    def walk(node: ast.AST, module_level: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, module_level
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                yield from walk_list(child.orelse, module_level)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                yield from walk(child, False)
            else:
                yield from walk(child, module_level)

    def walk_list(nodes, module_level):
        for n in nodes:
            yield from walk(ast.Module(body=[n], type_ignores=[]), module_level)

    yield from walk(tree, True)


def import_targets(node: ast.AST, importer: str, is_package: bool, modules: set[str]) -> set[str]:
    """The package modules an import statement names (resolving relative imports)."""
    targets: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in modules:  # `import a.b.c` where c is an attribute
                name = name.rpartition(".")[0]
            if name:
                targets.add(name)
        return targets
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = importer if is_package else importer.rpartition(".")[0]
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        base = f"{base}.{node.module}" if node.module else base
    else:
        base = node.module or ""
    if base not in modules:
        return targets
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        targets.add(sub if sub in modules else base)
    return targets


def import_graph(root: Path = ROOT) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module-level edges, function-level edges) between the modules of the package."""
    files = package_modules(root)
    names = set(files)
    top: dict[str, set[str]] = {m: set() for m in names}
    inner: dict[str, set[str]] = {m: set() for m in names}
    for mod, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, module_level in _imports(tree):
            for target in import_targets(node, mod, path.name == "__init__.py", names):
                if target != mod:
                    (top if module_level else inner)[mod].add(target)
    return top, inner


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (iterative DFS, deterministic order)."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph.get(start, ()))))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(sorted(graph.get(nxt, ())))))
    return None


def _merge(top, inner, allowed=ALLOWED_FUNCTION_EDGES):
    return {m: top[m] | {t for t in inner[m] if (m, t) not in allowed} for m in top}


def test_the_graph_sees_the_package():
    top, inner = import_graph()
    assert "repose_tf.runtime" in top and "repose_tf.export.sidecar" in top
    assert "repose_tf.codec" in top["repose_tf.runtime"]  # `from repose_tf import codec`
    assert sum(map(len, top.values())) > 50


def test_no_import_cycle_at_module_level():
    top, _ = import_graph()
    cycle = find_cycle(top)
    assert cycle is None, "module-level import cycle: " + " -> ".join(cycle)


def test_no_import_cycle_through_function_level_imports():
    top, inner = import_graph()
    cycle = find_cycle(_merge(top, inner))
    assert cycle is None, (
        "import cycle through an import inside a function (move the shared code to a lower module): "
        + " -> ".join(cycle)
    )


def test_allow_list_names_real_edges():
    _, inner = import_graph()
    for (a, b), reason in ALLOWED_FUNCTION_EDGES.items():
        assert b in inner.get(a, ()), f"allow-listed edge {a} -> {b} no longer exists"
        assert reason


def test_checker_reports_a_synthetic_cycle(tmp_path):
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    # the same from source: a package whose module-level and function-level imports close loops
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("from ..c import X\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n"
        "X = 1\ndef f():\n    from pkg import a\n"
    )
    top, inner = import_graph(pkg)
    assert top == {
        "pkg": set(),
        "pkg.sub": set(),
        "pkg.a": {"pkg.sub.b"},
        "pkg.sub.b": {"pkg.c"},
        "pkg.c": set(),
    }
    assert inner["pkg.c"] == {"pkg.a"}
    assert find_cycle(top) is None
    assert find_cycle(_merge(top, inner, {})) == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    assert find_cycle(_merge(top, inner, {("pkg.c", "pkg.a"): "test"})) is None
    (pkg / "c.py").write_text("import pkg.a\nX = 1\n")
    top, _ = import_graph(pkg)
    assert find_cycle(top) == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]


#: Names that moved in issue 37, still importable from where users imported them (no TensorFlow).
MOVED_NAMES = {
    "repose_tf.runtime": [
        "KINDS",
        "ModelLoadError",
        "as_float32",
        "find_preset",
        "load_repose",
        "model_kind",
        "resolve_config",
    ],
    "repose_tf.export.sidecar": [
        "CROPS",
        "FORMAT",
        "QUANTIZE_MODES",
        "SidecarError",
        "make_sidecar",
        "read_sidecar",
        "sidecar_from_tflite",
        "sidecar_path",
        "validate_sidecar",
        "write_sidecar",
    ],
    "repose_tf.export.package": ["portable_path", "release_model", "sha256"],
    "repose_tf.evaluate": ["DATASET_METRIC", "THRESHOLDS", "curve", "score"],
    "repose_tf.training.initialise": ["compile_model"],
}


def test_moved_names_import_from_their_old_homes():
    import importlib
    import subprocess
    import sys

    for module, names in MOVED_NAMES.items():
        mod = importlib.import_module(module)
        missing = [n for n in names if not hasattr(mod, n)]
        assert not missing, f"{module} lost {missing}"
    # the new homes are the same objects
    from repose_tf import export, io, loading, runtime, sidecar
    from repose_tf.export import package
    from repose_tf.export import sidecar as export_sidecar

    assert runtime.load_repose is loading.load_repose and runtime.ModelLoadError is loading.ModelLoadError
    assert export_sidecar.read_sidecar is sidecar.read_sidecar and package.sha256 is io.sha256
    assert export.ExportError
    # and importing them stays light: no TensorFlow or Keras
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in MOVED_NAMES)
        + ("assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'\n")
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT.parent)
