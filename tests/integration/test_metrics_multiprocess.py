"""The metrics of several processes, added up through PROMETHEUS_MULTIPROC_DIR.

``prometheus_client`` picks its multiprocess mode when it is first imported,
so each "server process" here is a real child process with the variable
set: it counts into a router's collector, mirrors it (``ProcessMirror.sync``)
and exits. The parent then reads the folder as :class:`MetricsHandler` does
in that mode, and finds the sums.
"""

import subprocess
import sys
import textwrap

from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import CollectorRegistry

CHILD = textwrap.dedent("""
    import sys
    from tornadio2 import SocketConnection, TornadioRouter
    from tornadio2.metrics import ProcessMirror

    sessions, packets = int(sys.argv[1]), int(sys.argv[2])
    router = TornadioRouter(SocketConnection, {"client_path": None})
    process_mirror = ProcessMirror(router)
    router.stats.traffic["websocket"].packets_out += 1
    process_mirror.sync()
    for _ in range(sessions):
        router.stats.session_opened()
    router.stats.traffic["websocket"].packets_out += packets - 1
    process_mirror.sync()
    process_mirror.sync()  # nothing new: nothing added twice
""")


def run_child(folder, sessions, packets):
    env = {"PROMETHEUS_MULTIPROC_DIR": str(folder), "PATH": ""}
    subprocess.run([sys.executable, "-W", "error", "-c", CHILD, str(sessions), str(packets)],
                   env=env, check=True, timeout=60)


def test_counters_and_gauges_of_every_process_are_added_up(tmp_path):
    run_child(tmp_path, sessions=2, packets=5)
    run_child(tmp_path, sessions=3, packets=7)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
    }
    assert samples[("tornadio2_sessions_started_total", ())] == 5
    assert samples[("tornadio2_sent_packets_total", (("transport", "websocket"),))] == 12
    assert samples[("tornadio2_sent_packets_total", (("transport", "xhr-polling"),))] == 0
    # Gauges add up the processes whose files are there (nobody marked these dead).
    assert samples[("tornadio2_sessions_active", (("transport", "none"),))] == 5
    assert samples[("tornadio2_acks_pending", ())] == 0
