"""The package's shape: imports run one way, modules and functions stay small.

Read from the source with :mod:`ast`, so nothing here depends on what a
module does when imported. Imports made only for type checkers count too:
a circle of annotations is still a circle a reader has to untangle.
"""

import ast
import pathlib
from typing import Dict, List, Set

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "tornadio2"

#: Longest module, in lines.
MAX_MODULE_LINES = 450
#: Longest function or method, in lines (decorators and docstring included).
MAX_FUNCTION_LINES = 45
#: Public API that happens to start with an underscore (named tuples').
PUBLIC_UNDERSCORE_NAMES = {"_make", "_replace", "_asdict", "_fields"}


def _module_name(path: pathlib.Path, folder: pathlib.Path) -> str:
    parts = list(path.relative_to(folder).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["tornadio2"] + parts)


def package_sources(folder: pathlib.Path = PACKAGE) -> List[pathlib.Path]:
    """Every module of the package, subpackages included."""
    return sorted(folder.rglob("*.py"))


def _imports_of(tree: ast.AST, package: Set[str]) -> Set[str]:
    """The package's modules imported anywhere in ``tree`` (``TYPE_CHECKING`` blocks too)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from tornadio2 import proto" names a module; "from tornadio2.x import y" the module x.
            names = [node.module] + ["%s.%s" % (node.module, alias.name) for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in package)
    return found


def import_graph(folder: pathlib.Path = PACKAGE) -> Dict[str, Set[str]]:
    """Module -> the package modules it imports (the package's ``__init__`` left out)."""
    sources = {_module_name(path, folder): path for path in package_sources(folder)}
    modules = set(sources) - {"tornadio2"}
    graph = {}
    for name in modules:
        tree = ast.parse(sources[name].read_text(encoding="utf-8"))
        graph[name] = _imports_of(tree, modules) - {name}
    return graph


def import_circles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Every import circle, each as the path that closes it (a depth-first search)."""
    circles: List[List[str]] = []
    done: Set[str] = set()

    def visit(node: str, path: List[str]) -> None:
        if node in path:
            circles.append(path[path.index(node):] + [node])
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            visit(target, path + [node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])
    return circles


def test_package_has_no_import_circle():
    assert import_circles(import_graph()) == []


def test_circle_search_finds_a_circle():
    # Guards the test above against passing vacuously.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_circles(graph) == [["a", "b", "c", "a"]]


def test_import_scan_sees_imports_under_type_checking(tmp_path):
    (tmp_path / "one.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tornadio2.two import X\n")
    (tmp_path / "two.py").write_text("from tornadio2 import one\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "__init__.py").write_text("")
    (tmp_path / "sub" / "three.py").write_text("from tornadio2.sub.four import Y\n")
    (tmp_path / "sub" / "four.py").write_text("from tornadio2.sub import three\n")
    graph = import_graph(tmp_path)
    assert graph["tornadio2.one"] == {"tornadio2.two"}
    assert graph["tornadio2.two"] == {"tornadio2.one"}
    assert graph["tornadio2.sub.three"] == {"tornadio2.sub.four"}
    assert len(import_circles(graph)) == 2


@pytest.mark.parametrize("path", package_sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_is_short(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES


def test_functions_are_short():
    long_ones = []
    for path in package_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                length = node.end_lineno - first + 1
                if length > MAX_FUNCTION_LINES:
                    long_ones.append("%s:%s (%d lines)" % (path.relative_to(PACKAGE), node.name,
                                                           length))
    assert long_ones == []


def _private_names_defined(tree: ast.AST) -> Set[str]:
    """``_names`` a module's own classes define (methods, class attributes, ``self._x``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)  # __slots__ entries
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def foreign_private_uses(source: str) -> List[str]:
    """``obj._name`` reads where ``obj`` is not ``self``/``cls`` and no class here defines ``_name``."""
    tree = ast.parse(source)
    own = _private_names_defined(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__") or node.attr in own or node.attr in PUBLIC_UNDERSCORE_NAMES:
            continue
        base = node.value
        if isinstance(base, ast.Name) and base.id in ("self", "cls"):
            continue  # an attribute of this very object, maybe inherited
        found.append("%d: %s" % (node.lineno, ast.unparse(node)))
    return found


def test_no_module_touches_private_attributes_of_another_modules_classes():
    offenders = {}
    for path in package_sources():
        uses = foreign_private_uses(path.read_text(encoding="utf-8"))
        if uses:
            offenders[str(path.relative_to(PACKAGE))] = uses
    assert offenders == {}


def test_private_attribute_scan_finds_a_foreign_use():
    # Guards the test above against passing vacuously.
    source = "class A:\n    def f(self, conn):\n        self._own = 1\n        conn._hold()\n"
    assert foreign_private_uses(source) == ["4: conn._hold"]
