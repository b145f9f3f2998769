"""``import tornadio2`` reaches every module TornadIO2's did, in a fresh interpreter."""

import subprocess
import sys

import pytest

ORIGINAL_MODULES = [
    "conn", "flashserver", "gen", "periodic", "persistent", "polling", "preflight", "proto",
    "router", "server", "session", "sessioncontainer", "stats",
]


@pytest.mark.parametrize("module", ORIGINAL_MODULES)
def test_submodule_is_an_attribute_after_import_tornadio2(module):
    script = "import tornadio2, types; assert isinstance(tornadio2.%s, types.ModuleType)" % module
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


def test_original_top_level_names_are_there():
    import tornadio2

    for name in ("SocketConnection", "event", "TornadioRouter", "SocketServer", "__version__"):
        assert hasattr(tornadio2, name), name
