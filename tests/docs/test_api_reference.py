"""Every public name of every module is documented and appears in the API reference.

"Public" means listed in the module's ``__all__``. Classes and functions need a
docstring of their own. The public methods a class defines need one too, or
inherit one from a tornadio2 base class; overrides of Tornado hooks (``get``,
``prepare`` ...) are exempt, and the reference leaves them out. Everything must be in the built site's object inventory
(``objects.inv``): for a constant that means a ``#:`` doc comment, since
autodoc only documents module data that has one.
"""

import importlib
import inspect
import re
import zlib
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from tests.docs.conftest import BuiltDocs
from tests.docs.snippets import DOCS, ROOT

#: Module name (under ``tornadio2``) -> its page under ``docs/api/``.
PUBLIC_MODULES = [
    "proto", "conn", "session", "router", "server", "stats", "gen", "periodic",
    "sessioncontainer", "exceptions", "flashserver", "hixie76", "preflight",
    "polling", "persistent", "sessiontypes", "packets", "sessioncompat", "endpoints", "usercode",
    "origin", "handlers", "clientfiles", "rooms", "pending", "framing", "metrics", "peerlog",
    "admission", "accept", "broker", "redisbroker", "emitter",
    "testing", "testing.client", "testing.endpoint", "testing.errors", "testing.inbound", "testing.server",
    "testing.transports", "wsframe", "leanws", "socketside",
]


def _module(name: str) -> Any:
    return importlib.import_module("tornadio2." + name if name else "tornadio2")


def _defined_here(obj: Any, module: Any) -> bool:
    return getattr(obj, "__module__", None) == module.__name__


def _overrides_tornado(cls: type, name: str) -> bool:
    return any(vars(base).get(name) is not None and base.__module__.startswith("tornado.")
               for base in cls.__mro__[1:])


def _public_methods(cls: type) -> Iterator[Tuple[str, Any]]:
    for name, value in vars(cls).items():
        if name.startswith("_") or _overrides_tornado(cls, name):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if inspect.isroutine(value) or isinstance(value, property):
            yield name, value


def _public_objects() -> Iterator[Tuple[str, str, Any]]:
    """(module name, public name, object) for every name in every ``__all__``."""
    for short in [""] + PUBLIC_MODULES:
        module = _module(short)
        for name in module.__all__:
            yield module.__name__, name, getattr(module, name)


def _read_inventory(path: Path) -> Dict[str, str]:
    """``objects.inv`` as {object name: domain:role}."""
    with path.open("rb") as handle:
        header = [handle.readline() for _ in range(4)]
        assert header[0].startswith(b"# Sphinx inventory version 2"), header
        body = zlib.decompress(handle.read()).decode("utf-8")
    entries = {}
    for line in body.splitlines():
        match = re.match(r"(.+?)\s+(\S+:\S+)\s+-?\d+\s", line)
        assert match, line
        entries[match.group(1)] = match.group(2)
    return entries


@pytest.fixture(scope="module")
def inventory(built_docs: BuiltDocs) -> Dict[str, str]:
    assert built_docs.returncode == 0, built_docs.output
    return _read_inventory(built_docs.html / "objects.inv")


def _package_modules() -> List[str]:
    """Module names under ``tornadio2``, subpackages (``testing``) and theirs included."""
    package = ROOT / "tornadio2"
    found = [p.stem for p in package.glob("*.py") if p.stem != "__init__"]
    for init in package.glob("*/__init__.py"):
        sub = init.parent.name
        found.append(sub)
        found.extend("%s.%s" % (sub, p.stem) for p in init.parent.glob("*.py")
                     if p.stem != "__init__")
    return found


def test_every_module_of_the_package_has_a_reference_page() -> None:
    assert sorted(_package_modules()) == sorted(PUBLIC_MODULES)
    for short in PUBLIC_MODULES:
        # A subpackage and its modules share one page.
        page = (DOCS / "api" / (short.split(".")[0] + ".rst")).read_text(encoding="utf-8")
        assert ".. automodule:: tornadio2.%s\n" % short in page, short
    package_page = (DOCS / "api" / "tornadio2.rst").read_text(encoding="utf-8")
    assert ".. automodule:: tornadio2\n" in package_page


@pytest.mark.parametrize("short", [""] + PUBLIC_MODULES)
def test_module_and_its_classes_and_functions_have_docstrings(short: str) -> None:
    module = _module(short)
    assert inspect.getdoc(module), module.__name__
    missing: List[str] = []
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if inspect.isclass(obj) and _defined_here(obj, module):
            missing.extend("%s.%s" % (name, method) for method, value in _public_methods(obj)
                           if not (inspect.getdoc(value) or "").strip())
    assert not missing, "%s: no docstring for %s" % (module.__name__, ", ".join(missing))


def test_every_public_name_is_in_the_api_reference(inventory: Dict[str, str]) -> None:
    missing: List[str] = []
    for module_name, name, obj in _public_objects():
        if inspect.isclass(obj) or inspect.isroutine(obj):
            # Re-exports (tornadio2.SocketConnection) are documented where defined.
            target = "%s.%s" % (obj.__module__, obj.__qualname__)
        else:
            target = "%s.%s" % (module_name, name)
        if target not in inventory:
            missing.append(target)
    assert not missing, "not in the API reference: %s" % ", ".join(missing)


def test_every_documented_method_is_in_the_api_reference(inventory: Dict[str, str]) -> None:
    # A method without a docstring of its own overrides one of a tornadio2 base
    # class (the docstring test makes sure of that), which is listed there.
    missing: List[str] = []
    for module_name, name, obj in _public_objects():
        if inspect.isclass(obj) and obj.__module__ == module_name:
            missing.extend("%s.%s.%s" % (module_name, name, method)
                           for method, value in _public_methods(obj)
                           if (value.__doc__ or "").strip()
                           and "%s.%s.%s" % (module_name, name, method) not in inventory)
    assert not missing, "not in the API reference: %s" % ", ".join(missing)


def test_every_public_module_is_in_the_api_reference(inventory: Dict[str, str]) -> None:
    expected = {"tornadio2"} | {"tornadio2." + short for short in PUBLIC_MODULES}
    assert expected <= {name for name, role in inventory.items() if role == "py:module"}
