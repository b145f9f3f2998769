"""Citations of the wire notes (``docs/wire-notes.rst``) lead to a section that exists.

Tests, benchmarks and docs cite a section of the wire notes as
``wire-notes#<name>``; the page gives that section the label ``wire-<name>``,
which is also its anchor in the built HTML.
"""

import re
from pathlib import Path
from typing import Dict, List

from tests.docs.conftest import BuiltDocs
from tests.docs.snippets import DOCS, ROOT

WIRE_NOTES = DOCS / "wire-notes.rst"
#: Where citations may appear.
CITING = ["tests", "bench", "docs", "examples", "README.rst"]
SUFFIXES = {".py", ".js", ".md", ".rst", ".html"}
CITATION = re.compile(r"wire-notes((?:#[a-z0-9-]+(?:,? and |, |/)?)+)")


def _labels() -> List[str]:
    text = WIRE_NOTES.read_text(encoding="utf-8")
    return re.findall(r"^\.\. _wire-([a-z0-9-]+):$", text, re.MULTILINE)


def _citations() -> Dict[str, List[str]]:
    """Section names cited, by the file (relative to the root) citing them."""
    found: Dict[str, List[str]] = {}
    for entry in CITING:
        path = ROOT / entry
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            if file.suffix not in SUFFIXES or "node_modules" in file.parts:
                continue
            for match in CITATION.finditer(file.read_text(encoding="utf-8", errors="replace")):
                names = re.findall(r"#([a-z0-9-]+)", match.group(1))
                found.setdefault(str(file.relative_to(ROOT)), []).extend(names)
    return found


def test_every_cited_section_of_the_wire_notes_exists() -> None:
    labels = set(_labels())
    citations = _citations()
    assert citations, "nothing cites the wire notes any more"
    missing = {where: sorted(set(names) - labels) for where, names in citations.items()
               if set(names) - labels}
    assert missing == {}, missing


def test_every_section_of_the_wire_notes_has_a_label(built_docs: BuiltDocs) -> None:
    text = WIRE_NOTES.read_text(encoding="utf-8")
    # A label line, a blank line, then the title underlined with '-'.
    titled = re.findall(r"^\.\. _wire-[a-z0-9-]+:\n\n[^\n]+\n-+$", text, re.MULTILINE)
    sections = re.findall(r"^[^\n]+\n-{3,}$", text, re.MULTILINE)
    assert len(titled) == len(sections) > 0
    assert built_docs.returncode == 0, built_docs.output
    page = (built_docs.html / "wire-notes.html").read_text(encoding="utf-8")
    for label in _labels():
        assert 'id="wire-%s"' % label in page, label


def test_the_wire_notes_page_is_in_the_table_of_contents() -> None:
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    assert re.search(r"^   wire-notes$", index, re.MULTILINE)
    assert Path(WIRE_NOTES).is_file()
