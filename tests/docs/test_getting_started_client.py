"""What getting started says about the browser client, checked with its own first app.

The page says the router serves the client's browser build at
``/socket.io/socket.io.js`` when ``node_modules/socket.io-client/dist`` is in
the server's working directory or one of its parents. The ``first-app``
snippet is run from a subfolder of a project folder holding ``node_modules``.
"""

import asyncio
import os

from tests.docs.conftest import unavailable
from tests.docs.lab import Lab
from tests.docs.snippets import DOCS, ROOT

DIST = ROOT / "node_modules" / "socket.io-client" / "dist"


def test_the_page_names_the_client_url_and_the_quiet_npm_command() -> None:
    text = (DOCS / "getting-started.rst").read_text(encoding="utf-8")
    assert "``npm install --ignore-scripts socket.io-client@0.9.16``" in text
    assert "/socket.io/socket.io.js" in text and "``client_path``" in text


def test_first_app_serves_the_browser_client_found_in_a_parent_folder(lab: Lab) -> None:
    if not (DIST / "socket.io.js").is_file():
        unavailable("node_modules/socket.io-client is missing (npm install --ignore-scripts)")
    project = lab.tmp_path / "project"
    server_folder = project / "server"
    server_folder.mkdir(parents=True)
    os.symlink(ROOT / "node_modules", project / "node_modules")

    async def scenario() -> None:
        async with lab.serve("first-app", cwd=server_folder) as server:
            for name in ("socket.io.js", "socket.io.min.js"):
                response = await server.client.get("/socket.io/" + name)
                assert response.code == 200, (name, response.code)
                assert response.body == (DIST / name).read_bytes(), name

    asyncio.run(asyncio.wait_for(scenario(), 60))
