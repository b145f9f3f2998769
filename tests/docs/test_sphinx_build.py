"""The documentation builds with Sphinx, warnings as errors, and covers every setting."""

import ast
import re

from tests.docs.conftest import BuiltDocs
from tests.docs.snippets import DOCS
from tornadio2.router import DEFAULT_SETTINGS


def test_docs_build_with_warnings_as_errors(built_docs: BuiltDocs) -> None:
    assert built_docs.returncode == 0, built_docs.output
    assert "WARNING" not in built_docs.output, built_docs.output
    assert (built_docs.html / "index.html").is_file()


def test_every_page_is_built(built_docs: BuiltDocs) -> None:
    assert built_docs.returncode == 0, built_docs.output
    for source in DOCS.rglob("*.rst"):
        page = built_docs.html / source.relative_to(DOCS).with_suffix(".html")
        assert page.is_file(), page


def test_settings_guide_gives_every_router_setting_with_its_default() -> None:
    text = (DOCS / "guide" / "settings.rst").read_text(encoding="utf-8")
    documented = {
        name: ast.literal_eval(default)
        for name, default in re.findall(r"^``(\w+)``\n   Default: ``(.+)``$", text, re.MULTILINE)
    }
    assert documented == DEFAULT_SETTINGS
