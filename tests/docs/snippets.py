"""Find the code blocks of the documentation, the way ``tests/docs`` checks them.

A block is a ``.. code-block:: LANGUAGE`` directive of an ``.rst`` file under
``docs/``. Its ``:class:`` option says what the tests do with it:

* ``runnable``: executed (Python in its own process, JavaScript with Node.js),
  and checked by the scenario of the same ``:name:`` in ``test_snippets.py``;
* ``legacy``: TornadIO2-era code the page says no longer runs; executed too,
  and expected to fail the way the page says.

Blocks without either class are illustrations (configuration files, wire
transcripts, fragments) and are only rendered.
"""

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. code-block::\s*(?P<language>\S+)\s*$")
_OPTION = re.compile(r"^ +:(?P<key>[\w-]+):(?: +(?P<value>.*))?$")


@dataclass(frozen=True)
class CodeBlock:
    """One ``code-block`` directive: where it is, its options and its code."""

    path: Path
    line: int
    end: int
    language: str
    options: Tuple[Tuple[str, str], ...]
    code: str

    @property
    def name(self) -> str:
        return dict(self.options).get("name", "")

    @property
    def classes(self) -> Tuple[str, ...]:
        return tuple(dict(self.options).get("class", "").split())

    @property
    def caption(self) -> str:
        return dict(self.options).get("caption", "")

    @property
    def where(self) -> str:
        return "%s:%d" % (self.path.relative_to(ROOT), self.line)


def code_blocks(path: Path) -> List[CodeBlock]:
    """Every ``code-block`` directive in one ``.rst`` file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        if match is None:
            i += 1
            continue
        start, indent = i + 1, len(match.group("indent"))
        options = []
        i += 1
        while i < len(lines):
            option = _OPTION.match(lines[i])
            if option is None:
                break
            options.append((option.group("key"), (option.group("value") or "").strip()))
            i += 1
        body = []
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
            body.append(lines[i])
            i += 1
        code = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        blocks.append(CodeBlock(path, start, i, match.group("language"), tuple(options), code))
    return blocks


def all_code_blocks() -> List[CodeBlock]:
    """The code blocks of every page under ``docs/``."""
    blocks = []
    for path in sorted(DOCS.rglob("*.rst")):
        if "_build" not in path.parts:
            blocks.extend(code_blocks(path))
    return blocks


def executed_blocks() -> Dict[str, CodeBlock]:
    """Blocks marked ``runnable`` or ``legacy``, by ``:name:``."""
    found: Dict[str, CodeBlock] = {}
    for block in all_code_blocks():
        if {"runnable", "legacy"} & set(block.classes):
            if not block.name:
                raise AssertionError("%s: an executed block needs a :name:" % block.where)
            if block.name in found:
                raise AssertionError("%s: :name: %s is used twice" % (block.where, block.name))
            found[block.name] = block
    return found


def literal_block_markers(path: Path) -> List[int]:
    """Line numbers of paragraphs ending in ``::``, whose literal block no test runs."""
    inside = {n for block in code_blocks(path) for n in range(block.line, block.end + 1)}
    hits = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if number in inside:
            continue
        if stripped.startswith(".. ") or stripped.startswith(":"):
            continue
        if stripped.endswith("::") and not stripped.endswith(":::"):
            hits.append(number)
    return hits


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))
