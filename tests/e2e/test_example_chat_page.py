"""End to end: the chat example's page in headless Chromium.

The page asks for the nick in the page (no ``prompt()``, which would block it)
unless ``?nick=`` gives one. One tab types its nick into the page, the other
comes with ``?nick=``; each says a line and must see it come back from the
room. Skips when Node.js, node_modules or Chromium are missing, except under
CI=true.
"""

from typing import Any, Dict, List

import pytest
from test_examples import chromium, run_browser, running, tab_values  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e

LINES = "[...document.querySelectorAll('#log li')].map(li => li.textContent)"


def _says(name: str, url: str, nick: str, line: str, before: List[Dict[str, Any]]
          ) -> Dict[str, Any]:
    return {"name": name, "steps": [{"goto": url}] + before + [
        {"wait": "document.body.dataset.state === 'connected'"},
        {"eval": "document.getElementById('join').hidden", "as": "joinHidden"},
        {"fill": "#text", "value": line},
        {"click": "#form button"},
        {"wait": "%s.includes(%r)" % (LINES, "%s: %s" % (nick, line))},
        {"eval": LINES, "as": "log"},
    ]}


def test_chat_page_asks_for_the_nick_in_the_page_or_takes_it_from_the_query(
        node, chromium, tmp_path):  # noqa: F811 - the imported fixture
    with running("chat", tmp_path) as example:
        typed = _says("typed", example.url + "/", "ann", "hello from ann", [
            {"eval": "getComputedStyle(document.getElementById('join')).display",
             "as": "joinDisplay"},
            {"eval": "document.getElementById('text').disabled", "as": "textDisabled"},
            {"fill": "#nick", "value": "ann"},
            {"click": "#join button"},
        ])
        query = _says("query", example.url + "/?nick=bob", "bob", "hello from bob", [])
        reports = run_browser(node, chromium, [typed, query])
    ann = tab_values(reports, "typed")
    assert ann["joinDisplay"] != "none" and ann["textDisabled"] is True, ann
    assert ann["joinHidden"] is True
    assert ann["log"][0] == "* ann joined", ann["log"]
    bob = tab_values(reports, "query")
    assert bob["joinHidden"] is True
    assert bob["log"][0] == "* bob joined", bob["log"]


def test_chat_page_starts_in_the_room_of_the_query_and_switches_rooms(
        node, chromium, tmp_path):  # noqa: F811 - the imported fixture
    with running("chat", tmp_path) as example:
        tab = {"name": "switch", "steps": [
            {"goto": example.url + "/?nick=dee&room=attic"},
            {"wait": "document.body.dataset.state === 'connected'"},
            {"eval": "document.body.dataset.room", "as": "before"},
            {"eval": "document.getElementById('switch').hidden", "as": "switchHidden"},
            {"fill": "#new-room", "value": "lobby"},
            {"click": "#switch button"},
            {"wait": "document.body.dataset.room === 'lobby'"},
            {"fill": "#text", "value": "hi lobby"},
            {"click": "#form button"},
            {"wait": "%s.includes('dee: hi lobby')" % LINES},
            {"eval": "document.getElementById('status').textContent", "as": "status"},
            {"eval": LINES, "as": "log"},
        ]}
        reports = run_browser(node, chromium, [tab])
    dee = tab_values(reports, "switch")
    assert dee["before"] == "attic" and dee["switchHidden"] is False, dee
    assert dee["status"].startswith("in lobby, connected over "), dee
    # joined the attic, then the lobby (the ACK of join follows the notice)
    assert dee["log"] == ["* dee joined", "* dee joined", "* you are in lobby",
                          "dee: hi lobby"], dee["log"]
