"""Fixtures for the documentation tests.

``built_docs`` builds ``docs/`` once per test session with Sphinx, warnings as
errors, into a temporary directory. Without Sphinx installed the tests that
need it are skipped, except with ``CI=true``, where they fail: the test
command installs the ``docs`` extra.
"""

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict

import pytest

from tests.docs.lab import Lab
from tests.docs.snippets import DOCS, CodeBlock, executed_blocks

#: Seconds the whole Sphinx build may take.
BUILD_TIMEOUT = 180


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(reason: str) -> None:
    """Skip for a missing prerequisite, but fail on CI, where it must be there."""
    if on_ci():
        pytest.fail("documentation test prerequisite missing on CI: " + reason, pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class BuiltDocs:
    """The outcome of one ``sphinx-build`` run."""

    returncode: int
    output: str
    html: Path


@pytest.fixture(scope="session")
def built_docs(tmp_path_factory: pytest.TempPathFactory) -> BuiltDocs:
    if importlib.util.find_spec("sphinx") is None:
        unavailable("Sphinx is not installed (pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("docs")
    html = out / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q",
               "-b", "html", "-d", str(out / "doctrees"), str(DOCS), str(html)]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=BUILD_TIMEOUT, check=False)
    return BuiltDocs(done.returncode, done.stdout, html)


@pytest.fixture(scope="session")
def blocks() -> Dict[str, CodeBlock]:
    """The documentation's executed code blocks, by name."""
    return executed_blocks()


@pytest.fixture
def lab(blocks: Dict[str, CodeBlock], tmp_path: Path) -> Lab:
    return Lab(blocks, tmp_path)
