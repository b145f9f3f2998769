"""bench/session_micro.py keeps running: each case goes through a real session.

Asserts what the script reports and that the packets it feeds really reach
the application and come back out, never a speed.
"""

import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "session_micro.py"


def test_each_case_is_answered_by_the_application():
    micro = runpy.run_path(str(SCRIPT))  # its names, without running main()
    sent = []
    session = micro["make_session"]()
    session.transport.send_messages = sent.extend
    for packet in micro["CASES"].values():
        session.receive_frame(packet)
    assert sent == ["3:::hello world 12345", '5:::{"name":"pong","args":[1]}']
    assert not session.is_closed


def test_script_reports_every_case():
    done = subprocess.run([sys.executable, str(SCRIPT), "--count", "2000", "--repeat", "1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["echo", "event"]
    assert all("us per packet" in line for line in lines)


def test_handler_mode_goes_through_the_websocket_transport_and_counts_bytes():
    micro = runpy.run_path(str(SCRIPT))
    receive = micro["make_handler_receiver"](True)
    handler = receive.__self__
    written = []
    handler.write_message = lambda message, binary=False: written.append(message)
    receive("3:::hello")
    assert written == ["3:::hello"]
    traffic = handler.server.stats.traffic["websocket"]
    assert (traffic.packets_in, traffic.bytes_in, traffic.packets_out, traffic.bytes_out) == (
        1, 9, 2, 12)  # 1:: went out at attach
