"""House rules about imports and timers, checked on the package source.

The sans-IO core (codec, session and its parts, connection, container, errors,
stats, user-code runner, origin policy, rooms) must load without Tornado, and
only ``periodic.py`` may set timers on the IOLoop.
"""

import ast
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tornadio2"

CORE_MODULES = [
    "tornadio2.proto",
    "tornadio2.session",
    "tornadio2.conn",
    "tornadio2.sessioncontainer",
    "tornadio2.exceptions",
    "tornadio2.stats",
    "tornadio2.sessiontypes",
    "tornadio2.packets",
    "tornadio2.endpoints",
    "tornadio2.usercode",
    "tornadio2.origin",
    "tornadio2.admission",
    "tornadio2.rooms",
    "tornadio2.framing",
    "tornadio2.broker",
    "tornadio2.wsframe",
]

TIMER_CALLS = {"call_later", "call_at", "add_timeout"}

# Run in a fresh interpreter; prints the tornado modules that got imported.
_IMPORT_SCRIPT = """
import json, sys, types
if {bare_package!r}:
    # Load the submodules without running tornadio2/__init__.py.
    package = types.ModuleType("tornadio2")
    package.__path__ = [{package_dir!r}]
    sys.modules["tornadio2"] = package
for name in {modules!r}:
    __import__(name)
print(json.dumps(sorted(m for m in sys.modules if m == "tornado" or m.startswith("tornado."))))
"""


def tornado_modules_after_import(modules, bare_package):
    """Import ``modules`` in a new interpreter; return the tornado modules it loaded."""
    script = _IMPORT_SCRIPT.format(
        bare_package=bare_package, package_dir=str(PACKAGE), modules=list(modules)
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=str(ROOT), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_source_imports_no_tornado(module):
    assert tornado_modules_after_import([module], bare_package=True) == []


def test_importing_core_modules_loads_no_tornado():
    assert tornado_modules_after_import(CORE_MODULES, bare_package=False) == []


def test_import_check_detects_tornado():
    # Guards the two tests above against passing vacuously.
    loaded = tornado_modules_after_import(["tornadio2.periodic"], bare_package=True)
    assert "tornado.ioloop" in loaded


def timer_uses(path):
    """Lines of ``path`` that set a timer other than through an injected scheduler."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in TIMER_CALLS:
                receiver = ast.unparse(node.func.value)
                # Session code schedules through the Scheduler it was given.
                if not receiver.lower().endswith("scheduler"):
                    found.append((node.lineno, ast.unparse(node.func)))
        if isinstance(node, ast.Name) and node.id == "PeriodicCallback":
            found.append((node.lineno, node.id))
        if isinstance(node, ast.Attribute) and node.attr == "PeriodicCallback":
            found.append((node.lineno, ast.unparse(node)))
        if isinstance(node, ast.alias) and node.name.split(".")[-1] == "PeriodicCallback":
            found.append((0, node.name))
    return found


def package_sources():
    return sorted(PACKAGE.glob("*.py"))


def test_only_periodic_module_sets_ioloop_timers():
    offenders = {
        path.name: uses
        for path in package_sources()
        if path.name != "periodic.py"
        for uses in [timer_uses(path)]
        if uses
    }
    assert offenders == {}


def test_timer_scan_finds_the_calls_in_periodic_module():
    # Guards the test above against passing vacuously.
    assert any(call.endswith(".call_later") for _, call in timer_uses(PACKAGE / "periodic.py"))


def test_only_periodic_module_mentions_periodic_callback():
    mentions = [
        path.name for path in package_sources()
        if path.name != "periodic.py"
        and "PeriodicCallback" in path.read_text(encoding="utf-8")
    ]
    assert mentions == []
