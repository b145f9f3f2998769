#!/usr/bin/env python3
"""Scale-out rows: tornadio2 on two processes sharing Redis, beside one process.

For every row and run it starts fresh servers and runs the same Node load
generator (``loadgen.js``) as ``run.py``, in two modes:

* ``single``: one tornadio2 process, no broker; ``broadcast`` is
  ``self.to_all().emit`` (the same code path as with a broker);
* ``two``: two tornadio2 processes (``--broker``, node ids ``a1``/``b2``)
  and a ``redis-server`` of its own (no persistence); the generator's
  clients alternate between the two ports, so every round crosses processes.

Server CPU is the sum of every server process and redis-server over the
measured window (``utime+stime``), and the table gives CPU seconds per
1,000 deliveries beside the rate and the latencies. Nothing is pinned:
three or four processes share the cores with the generator, so rates are
floors and CPU per delivery is the figure to compare. Exit status 1 on any
loss or error.

    python3 bench/scaleout.py                 # 3 runs per row and mode
    python3 bench/scaleout.py --quick         # small rows, ~1 s windows (a test runs it)
    python3 bench/scaleout.py --runs 5 --rows broadcast_n1000
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LOADGEN = BENCH / "loadgen.js"
APP = BENCH / "servers" / "tornadio2_app.py"
RESULTS = BENCH / "results"
MODES = ("single", "two")
#: Seconds a server or redis-server gets to start.
START_TIMEOUT = 20


def rows(quick: bool) -> Dict[str, Dict[str, Any]]:
    """Row key -> loadgen parameters (``portPlan``: which mode port each client uses)."""
    if quick:
        return {
            "broadcast_n100": {"scenario": "broadcast", "clients": 100, "rounds": 300},
            "room_emit_n100": {"scenario": "rooms", "clients": 100, "roomSize": 100,
                               "rounds": 300},
            "cross_room_emit_c10": {"scenario": "rooms", "clients": 10, "roomSize": 10,
                                    "rounds": 300, "roundsInFlight": 1,
                                    "setupConcurrency": 1, "portPlan": "sender-apart"},
        }
    return {
        "broadcast_n1000": {"scenario": "broadcast", "clients": 1000, "rounds": 5000},
        "room_emit_n1000": {"scenario": "rooms", "clients": 1000, "roomSize": 1000,
                            "rounds": 5000},
        # the sender (client 0) on a1, the nine others on b2: the latency of a
        # room emit that crosses processes (one round at a time)
        "cross_room_emit_c10": {"scenario": "rooms", "clients": 10, "roomSize": 10,
                                "rounds": 5000, "roundsInFlight": 1, "setupConcurrency": 1,
                                "portPlan": "sender-apart"},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Children:
    """Processes this script started; stopped by pid on every exit path."""

    def __init__(self) -> None:
        self.live: List["subprocess.Popen[bytes]"] = []

    def start(self, argv: List[str], **kwargs: Any) -> "subprocess.Popen[bytes]":
        proc = subprocess.Popen(argv, **kwargs)
        self.live.append(proc)
        return proc

    def stop(self, proc: "subprocess.Popen[bytes]") -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if proc in self.live:
            self.live.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.live):
            self.stop(proc)


CHILDREN = Children()


def start_redis(binary: str, folder: Path) -> Tuple["subprocess.Popen[bytes]", str]:
    port = free_port()
    proc = CHILDREN.start([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", str(folder)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, "redis://127.0.0.1:%d/0" % port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def start_app(python: str, log: Path, extra: List[str]) -> Tuple["subprocess.Popen[bytes]", int]:
    with log.open("wb") as err:
        proc = CHILDREN.start([python, str(APP), "--port", "0", "--heartbeat", "0"] + extra,
                              stdout=subprocess.PIPE, stderr=err, cwd=str(ROOT))
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the app prints its port once it serves, or exits
    if not line:
        raise SystemExit("server did not start: " + log.read_text(errors="replace")[-800:])
    return proc, int(json.loads(line)["listening"])


def measure(mode: str, key: str, params: Dict[str, Any], args: argparse.Namespace,
            tmp: Path, run: int) -> Dict[str, Any]:
    """Fresh servers (and Redis) for one mode, one generator run; the record."""
    procs: List["subprocess.Popen[bytes]"] = []
    try:
        if mode == "single":
            proc, port = start_app(args.python, tmp / ("%s-%s-%d.log" % (mode, key, run)),
                                   ["--to-all"])
            procs, ports = [proc], [port]
        else:
            redis, url = start_redis(args.redis, tmp)
            procs, ports = [redis], []
            for node in ("a1", "b2"):
                proc, port = start_app(args.python, tmp / ("%s-%s-%s-%d.log" % (
                    mode, key, node, run)), ["--broker", url, "--node", node])
                procs.append(proc)
                ports.append(port)
        config = {k: v for k, v in params.items() if k != "portPlan"}
        if params.get("portPlan") == "sender-apart" and len(ports) == 2:
            config["ports"] = [ports[0]] + [ports[1]] * (params["clients"] - 1)
        else:
            config["ports"] = ports
        config.update(port=ports[0], serverPids=[p.pid for p in procs], serverPid=procs[0].pid,
                      clkTck=os.sysconf("SC_CLK_TCK"), warmup=args.warmup,
                      duration=args.duration, timeout=60 + args.warmup + args.duration)
        gen = subprocess.run([args.node, str(LOADGEN), json.dumps(config)], cwd=str(ROOT),
                             capture_output=True, timeout=120 + args.warmup + args.duration)
        lines = [l for l in gen.stdout.decode(errors="replace").splitlines() if l.startswith("{")]
        result = json.loads(lines[-1]) if lines else {
            "ok": False, "errors": 1, "error_samples": [gen.stderr.decode()[-400:]]}
    finally:
        for proc in procs:
            CHILDREN.stop(proc)
    record = {"row": key, "mode": mode, "run": run, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "loadavg": list(os.getloadavg())}
    record.update(result)
    rate, cpu = record.get("rate"), record.get("server_cpu")
    record["cpu_s_per_1000"] = cpu / rate * 1000 if rate and cpu is not None else None
    return record


def _median(values: List[Optional[float]]) -> Optional[float]:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def table(records: List[Dict[str, Any]], keys: List[str]) -> str:
    lines = ["| row | mode | runs | deliveries/s | p50 ms | p99 ms | server CPU (cores) "
             "| CPU s / 1,000 deliveries | sent | received | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key in keys:
        per_mode = {}
        for mode in MODES:
            recs = [r for r in records if r["row"] == key and r["mode"] == mode]
            if not recs:
                continue
            med = {name: _median([r.get(name) for r in recs])
                   for name in ("rate", "p50_ms", "p99_ms", "server_cpu", "cpu_s_per_1000")}
            per_mode[mode] = med
            lines.append("| %s | %s | %d | %s | %s | %s | %s | %s | %d | %d | %d |" % (
                key, mode, len(recs), _fmt(med["rate"], 0), _fmt(med["p50_ms"], 2),
                _fmt(med["p99_ms"], 2), _fmt(med["server_cpu"], 2),
                _fmt(med["cpu_s_per_1000"], 4), sum(r.get("sent", 0) for r in recs),
                sum(r.get("received", 0) for r in recs), sum(r.get("errors", 0) for r in recs)))
        if len(per_mode) == 2 and per_mode["single"]["cpu_s_per_1000"]:
            ratio = per_mode["two"]["cpu_s_per_1000"] / per_mode["single"]["cpu_s_per_1000"]
            lines.append("| %s | two/single CPU per delivery | | | | | | %.2f | | | |"
                         % (key, ratio))
    return "\n".join(lines)


def _fmt(value: Optional[float], digits: int) -> str:
    return "-" if value is None else "{:,.{}f}".format(value, digits)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", help="comma-separated row keys")
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--python", default=os.environ.get("BENCH_PYTHON") or (
        str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable))
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.warmup, args.duration = 1, 0.3, 0.8
    all_rows = rows(args.quick)
    keys = args.rows.split(",") if args.rows else list(all_rows)
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.out) if args.out else RESULTS / time.strftime("scaleout-%Y%m%d-%H%M%S.jsonl")
    signal.signal(signal.SIGTERM, lambda *_: (CHILDREN.stop_all(), sys.exit(143)))
    records = []
    try:
        with tempfile.TemporaryDirectory(prefix="t2-scaleout-") as tmp:
            for key in keys:
                for run in range(args.runs):
                    order = MODES if run % 2 == 0 else MODES[::-1]  # interleaved
                    for mode in order:
                        record = measure(mode, key, all_rows[key], args, Path(tmp), run)
                        records.append(record)
                        with out.open("a") as f:
                            f.write(json.dumps(record) + "\n")
                        print("%-22s %-6s run %d: %s/s, p50 %s ms, CPU %s, lost %d, errors %d" % (
                            key, mode, run, record.get("rate"), record.get("p50_ms"),
                            record.get("server_cpu"),
                            record.get("sent", 0) - record.get("received", 0),
                            record.get("errors", 0)), file=sys.stderr, flush=True)
    finally:
        CHILDREN.stop_all()
    print(table(records, keys))
    print("\nrecords: %s" % out)
    bad = [r for r in records if not r.get("ok") or r.get("sent") != r.get("received")
           or r.get("errors")]
    for r in bad:
        print("PROBLEM %s/%s run %d: %s" % (r["row"], r["mode"], r["run"],
                                            r.get("error_samples")), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
