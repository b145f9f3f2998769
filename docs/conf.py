"""Sphinx configuration for the tornadio2 documentation.

Built by ``tests/docs/test_sphinx_build.py`` with warnings as errors; build it
by hand with ``python -m sphinx -W -b html docs build/docs`` (``build/`` is
ignored by git) after ``pip install -e '.[docs]'``.
"""

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# autodoc documents the checkout next to this file, not some installed copy.
sys.path.insert(0, str(ROOT))


def _version() -> str:
    source = (ROOT / "tornadio2" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", source, re.MULTILINE)
    if match is None:
        raise RuntimeError("tornadio2/__init__.py does not define __version__")
    return match.group(1)


project = "tornadio2"
author = "the tornadio2 authors"
copyright = "the tornadio2 authors, MIT licence"  # noqa: A001 - Sphinx's name
release = version = _version()

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

root_doc = "index"
exclude_patterns = ["_build", "build"]
default_role = "literal"
pygments_style = "sphinx"
highlight_language = "python3"

# -- autodoc -----------------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
}
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"


def _skip_undocumented_class_members(app, what, name, obj, skip, options):
    """Keep every name of a module's ``__all__``, but only documented methods.

    ``undoc-members`` is on so that constants listed in ``__all__`` appear even
    without a doc comment; inside classes it would also list every override of
    a Tornado hook (``get``, ``prepare`` ...), which says nothing to a reader.
    """
    if what == "class" and not skip and not getattr(obj, "__doc__", None):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_undocumented_class_members)


# -- HTML --------------------------------------------------------------------

html_theme = "alabaster"
html_title = "tornadio2 %s" % release
html_theme_options = {
    "description": "Socket.IO 0.7-0.9 server for Tornado 6 on Python 3",
    "fixed_sidebar": True,
    "page_width": "1160px",  # room for 90-column code without scrolling
}
html_static_path = []
html_show_sourcelink = False
