#!/usr/bin/env python3
"""Run the Socket.IO 0.9 benchmark matrix: tornadio2 vs raw Tornado vs native socket.io.

For every row (scenario and client count), every run and every server it
starts a fresh server pinned to one core (``taskset -c 0``) and the Node load
generator (``loadgen.js``) pinned to the other (``taskset -c 1``), collects the
generator's JSON result, stops the server, and appends one JSON line per
(row, server, run) to ``bench/results/``. At the end it prints the medians per
row and server, the ratios tornadio2/raw-Tornado and tornadio2/node, and the
details (sent/received, errors, CPU shares, flags). Exit status 1 when any
run lost a message or had an error, or when tornadio2 or raw Tornado did not
run.

    python bench/run.py                      # full matrix, 3 runs per row
    python bench/run.py --quick              # a few seconds per server (CI)
    python bench/run.py --rows ws_echo_c100 --servers tornadio2,raw --runs 1
    python bench/run.py --profile ws_echo_c100   # tornadio2 under cProfile
    python bench/run.py --summarize bench/results/FILE.jsonl

This script needs only the standard library; the Python servers run under
``--python`` (or ``$BENCH_PYTHON``; default: the project's ``.venv`` if it
exists, else this interpreter), which must have Tornado.
"""

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
LOADGEN = BENCH / "loadgen.js"
SERVERS_DIR = BENCH / "servers"

#: Seconds a server gets to print its ``{"listening": PORT}`` line.
SERVER_START_TIMEOUT = 20
#: Seconds a server gets to exit after SIGTERM before it is killed.
SERVER_STOP_TIMEOUT = 10
#: Seconds the orchestrator waits beyond the generator's own deadline.
GENERATOR_GRACE = 15
#: A generator using this share of its core or more may have limited the result.
GEN_SATURATED = 0.9
#: Other processes using this share of a pinned core make a run "contended".
CONTENDED = 0.15


@dataclass
class Row:
    """One line of the matrix: a loadgen scenario with its parameters."""

    key: str
    title: str
    scenario: str
    params: Dict[str, Any]
    heartbeat: float = 0  # server heartbeat interval; 0: none during the run

    def clients_needed(self) -> int:
        """Sockets the generator (and the server) hold at once, roughly."""
        return int(self.params.get("clients", 1)) + int(self.params.get("warmSessions", 10))

    @property
    def metric(self) -> str:
        return {"idle": "setup/s", "idle_xhr": "setup/s", "broadcast": "deliveries/s",
                "rooms": "deliveries/s"}.get(self.scenario, "msg/s")


def full_rows() -> List[Row]:
    """The matrix of issue 4."""
    return [
        Row("ws_echo_c1", "websocket echo C=1", "echo", {"clients": 1}),
        Row("ws_echo_c10", "websocket echo C=10", "echo", {"clients": 10}),
        Row("ws_echo_c100", "websocket echo C=100", "echo", {"clients": 100}),
        Row("ws_pipelined_c10", "websocket echo C=10, 16 in flight", "echo",
            {"clients": 10, "inflight": 16}),
        Row("events_c100", "events ping->pong C=100", "events", {"clients": 100}),
        Row("xhr_echo_c10", "xhr-polling echo C=10", "xhr_echo", {"clients": 10}),
        Row("xhr_echo_c100", "xhr-polling echo C=100", "xhr_echo", {"clients": 100}),
        Row("idle_n1000", "idle websockets N=1,000", "idle",
            {"clients": 1000, "hold": 12, "settle": 1}, heartbeat=5),
        Row("idle_n10000", "idle websockets N=10,000", "idle",
            {"clients": 10000, "hold": 12, "settle": 1, "setupTimeout": 180}, heartbeat=5),
        Row("idle_xhr_n5000", "idle xhr-polling N=5,000", "idle_xhr",
            {"clients": 5000, "hold": 12, "settle": 1, "setupTimeout": 180}),
        Row("broadcast_n1000", "broadcast to N=1,000", "broadcast",
            {"clients": 1000, "rounds": 5000}),
        Row("room_emit_n1000", "room emit to 1,000 members", "rooms",
            {"clients": 1000, "roomSize": 1000, "rounds": 5000}),
        Row("rooms_100x10", "100 rooms of 10, every room each round", "rooms",
            {"clients": 1000, "roomSize": 10, "rounds": 5000}),
    ]


def quick_rows() -> List[Row]:
    """Small versions of every scenario: correctness under load, not speed."""
    return [
        Row("ws_echo_c10", "websocket echo C=10", "echo", {"clients": 10}),
        Row("ws_pipelined_c10", "websocket echo C=10, 16 in flight", "echo",
            {"clients": 10, "inflight": 16}),
        Row("events_c10", "events ping->pong C=10", "events", {"clients": 10}),
        Row("xhr_echo_c10", "xhr-polling echo C=10", "xhr_echo", {"clients": 10}),
        Row("idle_n200", "idle websockets N=200", "idle",
            {"clients": 200, "hold": 2.5, "settle": 0.2, "warmSessions": 5}, heartbeat=1),
        Row("idle_xhr_n200", "idle xhr-polling N=200", "idle_xhr",
            {"clients": 200, "hold": 2.5, "settle": 0.2, "warmSessions": 5}),
        Row("broadcast_n100", "broadcast to N=100", "broadcast",
            {"clients": 100, "rounds": 500}),
        Row("room_emit_n100", "room emit to 100 members", "rooms",
            {"clients": 100, "roomSize": 100, "rounds": 500}),
        Row("rooms_10x10", "10 rooms of 10, every room each round", "rooms",
            {"clients": 100, "roomSize": 10, "rounds": 500}),
    ]


SERVER_TITLES = {"tornadio2": "tornadio2", "raw": "raw Tornado", "native": "native 0.9.19"}
SERVER_NAMES = list(SERVER_TITLES)
#: tornadio2 at another commit (``--baseline REF``), for before/after comparisons.
BASELINE = "baseline"
SERVER_TITLES[BASELINE] = "tornadio2 (baseline)"
#: tornadio2 with its Prometheus metrics on (``--metrics``), to measure what they cost.
METRICS = "tornadio2+metrics"
SERVER_TITLES[METRICS] = "tornadio2 + metrics"
#: Servers that must run: without them the comparison means nothing.
REQUIRED_SERVERS = ("tornadio2", "raw")


# -- processes ------------------------------------------------------------------------

def _die_with_parent() -> None:
    """In the child: get SIGTERM if this script dies without cleaning up (Linux)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Processes:
    """Children started by this script, so that every exit path stops them."""

    def __init__(self) -> None:
        self.live: List[subprocess.Popen] = []

    def start(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen:
        proc = subprocess.Popen(list(argv), preexec_fn=_die_with_parent, **kwargs)
        self.live.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = SERVER_STOP_TIMEOUT) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if proc in self.live:
            self.live.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.live):
            self.stop(proc, timeout=3)


PROCESSES = Processes()


def _on_signal(signum: int, frame: Any) -> None:
    PROCESSES.stop_all()
    sys.exit(128 + signum)


@dataclass
class Env:
    """How to start things: interpreters, pinning, limits."""

    python: str
    node: str
    pin: Optional[Tuple[int, int]]  # (server core, generator core)
    clk_tck: int = field(default_factory=lambda: os.sysconf("SC_CLK_TCK"))
    nofile: int = 1024
    baseline: Optional[Path] = None  # checkout of --baseline REF
    baseline_ref: str = ""

    def pinned(self, argv: List[str], which: int) -> List[str]:
        if self.pin is None:
            return argv
        return ["taskset", "-c", str(self.pin[which])] + argv


def server_argv(env: Env, server: str, heartbeat: float,
                profile: Optional[str] = None) -> List[str]:
    """The command line of one benchmark server."""
    args = ["--port", "0", "--heartbeat", "%g" % heartbeat]
    if server == "native":
        return [env.node, str(SERVERS_DIR / "native_app.js")] + args
    if profile:
        args += ["--profile", profile]
    if server == METRICS:
        return [env.python, str(SERVERS_DIR / "tornadio2_app.py")] + args + ["--metrics"]
    if server == BASELINE:
        assert env.baseline is not None, "the baseline server needs --baseline REF"
        # The baseline checkout's own app, which imports its own package.
        return [env.python, str(env.baseline / "bench" / "servers" / "tornadio2_app.py")] + args
    script = {"tornadio2": "tornadio2_app.py", "raw": "raw_tornado.py"}[server]
    return [env.python, str(SERVERS_DIR / script)] + args


def checkout_baseline(ref: str, into: Path) -> Path:
    """The package and bench servers of commit ``ref``, unpacked under ``into``."""
    folder = into / "baseline"
    folder.mkdir()
    archive = subprocess.run(["git", "archive", ref, "tornadio2", "bench/servers"],
                             cwd=str(ROOT), capture_output=True, timeout=60)
    if archive.returncode != 0:
        raise SystemExit("--baseline %s: %s" % (ref, archive.stderr.decode(errors="replace")))
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True,
                   timeout=60)
    return folder


class ServerFailed(Exception):
    """A server did not start."""


def start_server(env: Env, server: str, heartbeat: float, log: Path,
                 profile: Optional[str] = None) -> Tuple[subprocess.Popen, int]:
    """Start a server, wait for its port; its stderr goes to ``log``."""
    with open(log, "wb") as err:
        proc = PROCESSES.start(env.pinned(server_argv(env, server, heartbeat, profile), 0),
                               stdout=subprocess.PIPE, stderr=err, cwd=str(ROOT))
    assert proc.stdout is not None
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    os.set_blocking(proc.stdout.fileno(), False)
    buffered = b""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        chunk = proc.stdout.read()
        if chunk:
            buffered += chunk
            line = buffered.split(b"\n", 1)[0]
            if b"\n" in buffered:
                try:
                    return proc, int(json.loads(line)["listening"])
                except (ValueError, KeyError, TypeError):
                    break
        time.sleep(0.02)
    PROCESSES.stop(proc)
    tail = log.read_text(errors="replace")[-600:]
    raise ServerFailed("%s did not start (%r): %s" % (server, buffered[:200], tail))


def run_generator(env: Env, row: Row, base: Dict[str, Any], port: int,
                  server_pid: int) -> Dict[str, Any]:
    """Run loadgen.js for one row against ``port``; its JSON result."""
    config = dict(base)
    config.update(row.params)
    config.update(scenario=row.scenario, port=port, serverPid=server_pid,
                  clkTck=env.clk_tck, heartbeat=row.heartbeat,
                  cores=list(env.pin) if env.pin else None)
    budget = generator_budget(config)
    config["timeout"] = budget
    argv = env.pinned([env.node, str(LOADGEN), json.dumps(config)], 1)
    proc = PROCESSES.start(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(ROOT))
    try:
        out, err = proc.communicate(timeout=budget + GENERATOR_GRACE)
    except subprocess.TimeoutExpired:
        PROCESSES.stop(proc, timeout=3)
        return {"ok": False, "errors": 1, "error_samples": ["generator hung"], "sent": 0,
                "received": 0}
    finally:
        if proc in PROCESSES.live:
            PROCESSES.live.remove(proc)
    lines = [line for line in out.decode(errors="replace").splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"ok": False, "errors": 1, "sent": 0, "received": 0,
                "error_samples": ["generator exited %s: %s" % (
                    proc.returncode, err.decode(errors="replace")[-500:])]}
    return dict(json.loads(lines[-1]))


def generator_budget(config: Dict[str, Any]) -> float:
    """Seconds the whole generator run may take (its global deadline)."""
    return round(config.get("setupTimeout", 60) + config.get("warmup", 1)
                 + config.get("duration", 5) + config.get("drain", 5)
                 + config.get("hold", 0) + config.get("settle", 0) + 10, 1)


def server_log_errors(log: Path, upto: int) -> List[str]:
    """WARNING/ERROR lines the server wrote to stderr before the generator finished."""
    try:
        with open(log, "rb") as f:
            text = f.read(upto).decode(errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines()
            if line.startswith(("WARNING", "ERROR", "CRITICAL", "Traceback"))]


def tornadio2_version() -> str:
    """The checkout's commit and a hash of the package's sources (they may differ)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=str(ROOT),
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        head = ""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "tornadio2").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return "%s+%s" % (head or "?", digest.hexdigest()[:10])


def measure(env: Env, row: Row, server: str, base: Dict[str, Any], run: int,
            tmp: Path) -> Dict[str, Any]:
    """One (row, server, run): fresh server, generator, record."""
    record: Dict[str, Any] = {"row": row.key, "title": row.title, "server": server, "run": run,
                              "scenario": row.scenario, "metric": row.metric,
                              "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                              "loadavg": list(os.getloadavg()), "pinned": env.pin}
    if server in ("tornadio2", METRICS):
        record["tornadio2"] = tornadio2_version()
    elif server == BASELINE:
        record["baseline"] = env.baseline_ref
    log = tmp / ("%s-%s-%d.log" % (server, row.key, run))
    try:
        proc, port = start_server(env, server, row.heartbeat, log)
    except ServerFailed as exc:
        record.update(skipped=str(exc))
        return record
    try:
        result = run_generator(env, row, base, port, proc.pid)
        logged = log.stat().st_size
    finally:
        PROCESSES.stop(proc)
    record.update(result)
    record["server_log"] = server_log_errors(log, logged)[:5]
    return record


# -- summary ------------------------------------------------------------------------

def _median(values: List[Optional[float]]) -> Optional[float]:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize(records: List[Dict[str, Any]]) -> Dict[Tuple[str, str], Dict[str, Any]]:
    """Medians (value, p50, p99, CPU) and totals (sent, received, errors) per row and server."""
    groups: Dict[Tuple[str, str], List[Dict[str, Any]]] = {}
    for rec in records:
        groups.setdefault((rec["row"], rec["server"]), []).append(rec)
    summary = {}
    for key, recs in groups.items():
        ran = [r for r in recs if "skipped" not in r]
        extra = [r.get("extra", {}) for r in ran]
        summary[key] = {
            "title": recs[0]["title"], "metric": recs[0]["metric"],
            "scenario": recs[0]["scenario"], "runs": len(ran),
            "skipped": [r["skipped"] for r in recs if "skipped" in r],
            "value": _median([r.get("rate") for r in ran]),
            "p50": _median([r.get("p50_ms") for r in ran]),
            "p99": _median([r.get("p99_ms") for r in ran]),
            "server_cpu": _median([r.get("server_cpu") for r in ran]),
            "gen_cpu_max": max([r.get("gen_cpu") or 0 for r in ran], default=None),
            "other_cpu_max": max([max(r.get("other_cpu") or [0]) for r in ran], default=None),
            "mem_kib": _median([e.get("mem_per_session_kib") for e in extra]),
            "heartbeats_per_s": _median([e.get("heartbeats_per_s") for e in extra]),
            "hold_server_cpu": _median([e.get("hold_server_cpu") for e in extra]),
            "sent": sum(r.get("sent", 0) for r in ran),
            "received": sum(r.get("received", 0) for r in ran),
            "errors": sum(r.get("errors", 0) for r in ran),
            "ok": bool(ran) and all(r.get("ok") for r in ran),
            "error_samples": [s for r in ran for s in r.get("error_samples", [])][:3],
            "server_log": [s for r in ran for s in r.get("server_log", [])][:3],
            "pinned": all(r.get("pinned") for r in ran),
        }
    return summary


def _fmt(value: Optional[float], digits: int = 0) -> str:
    if value is None:
        return "-"
    return "{:,.{}f}".format(value, digits)


def _ratio(a: Optional[float], b: Optional[float]) -> str:
    return "-" if not a or not b else "%.2f" % (a / b)


def flags(s: Dict[str, Any]) -> str:
    """Why a result may not mean what it seems to."""
    out = []
    if s["runs"] and s["sent"] != s["received"]:
        out.append("LOSS %d" % (s["sent"] - s["received"]))
    if s["errors"]:
        out.append("ERRORS %d" % s["errors"])
    if s["skipped"]:
        out.append("SKIPPED")
    if (s["gen_cpu_max"] or 0) >= GEN_SATURATED:
        out.append("GEN-SATURATED")
    if (s["other_cpu_max"] or 0) >= CONTENDED:
        out.append("CONTENDED")
    if s["runs"] and not s["pinned"]:
        out.append("UNPINNED")
    if s["server_log"]:
        out.append("SERVER-LOG")
    return " ".join(out)


def tables(summary: Dict[Tuple[str, str], Dict[str, Any]], rows: List[str],
           versions: Sequence[str] = ()) -> str:
    """The comparison table and the details table, in Markdown.

    ``versions``: the tornadio2 sources the records were made with (commit+hash).
    """
    lines = ["| scenario | metric | tornadio2 | raw Tornado | native 0.9.19 "
             "| t2/raw | t2/node |", "|---|---|---:|---:|---:|---:|---:|"]
    for key in rows:
        per = {srv: summary.get((key, srv)) for srv in SERVER_NAMES}
        first = next((s for s in per.values() if s), None)
        if first is None:
            continue

        def cell(srv: str, name: str) -> Optional[float]:
            s = per[srv]
            return s[name] if s and s["runs"] else None

        def line(metric: str, name: str, digits: int, title: str = "") -> None:
            values = [cell(srv, name) for srv in SERVER_NAMES]
            lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                title, metric, *(_fmt(v, digits) for v in values),
                _ratio(values[0], values[1]), _ratio(values[0], values[2])))

        line(first["metric"], "value", 0, first["title"])
        if first["scenario"] in ("idle", "idle_xhr"):
            line("KiB/session", "mem_kib", 1)
            line("heartbeats/s held", "heartbeats_per_s", 0)
        else:
            line("p50 ms", "p50", 2)
            line("p99 ms", "p99", 2)
    lines += ["", "| scenario | server | runs | median | sent | received | errors "
              "| server CPU | gen CPU (max) | other CPU (max) | flags |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for key in rows:
        for srv in SERVER_NAMES + [BASELINE, METRICS]:
            s = summary.get((key, srv))
            if s is None:
                continue
            lines.append("| %s | %s | %d | %s | %s | %s | %d | %s | %s | %s | %s |" % (
                key, SERVER_TITLES[srv], s["runs"], _fmt(s["value"]), _fmt(s["sent"]),
                _fmt(s["received"]), s["errors"], _fmt(s["server_cpu"], 2),
                _fmt(s["gen_cpu_max"], 2), _fmt(s["other_cpu_max"], 2), flags(s)))
    problems = []
    if len(versions) > 1:
        problems.append("* tornadio2 changed during the run: %s" % ", ".join(versions))
    for (key, srv), s in sorted(summary.items()):
        for sample in s["error_samples"] + s["server_log"] + s["skipped"]:
            problems.append("* %s / %s: %s" % (key, srv, sample.replace("\n", " ")[:300]))
    if problems:
        lines += ["", "Problems:"] + problems
    return "\n".join(lines)


def paired_ratios(records: List[Dict[str, Any]], row: str, server: str,
                  against: str = "raw") -> List[float]:
    """``server``'s rate / ``against``'s rate in the same run, for each run."""
    rates: Dict[Tuple[str, int], float] = {
        (r["server"], r["run"]): r["rate"] for r in records
        if r["row"] == row and r.get("rate") and "skipped" not in r}
    return [rate / rates[(against, run)] for (srv, run), rate in sorted(rates.items())
            if srv == server and (against, run) in rates]


def paired_ratio(records: List[Dict[str, Any]], row: str, server: str,
                 against: str = "raw") -> Optional[float]:
    """Median over runs of ``server``'s rate / ``against``'s rate in the same run."""
    ratios = paired_ratios(records, row, server, against)
    return statistics.median(ratios) if ratios else None


def metrics_table(records: List[Dict[str, Any]], rows: List[str]) -> str:
    """tornadio2 with metrics on beside off: rates, their ratio, and the ratio per run."""
    summary = summarize(records)
    lines = ["| scenario | metric | tornadio2 | tornadio2 + metrics | raw Tornado "
             "| metrics/off | metrics/off per run (median) |", "|---|---|---:|---:|---:|---:|---|"]
    for key in rows:
        cells = [summary.get((key, srv)) for srv in ("tornadio2", METRICS, "raw")]
        if not cells[0] or not cells[1]:
            continue
        off, on, raw = (c["value"] if c and c["runs"] else None for c in cells)
        per_run = paired_ratios(records, key, METRICS, "tornadio2")
        lines.append("| %s | %s | %s | %s | %s | %s | %s (%s) |" % (
            cells[0]["title"], cells[0]["metric"], _fmt(off), _fmt(on), _fmt(raw),
            _ratio(on, off), " ".join("%.3f" % r for r in per_run),
            _fmt(statistics.median(per_run), 3) if per_run else "-"))
    return "\n".join(lines)


def baseline_table(records: List[Dict[str, Any]], rows: List[str]) -> str:
    """Before (baseline) and after (this checkout), each against raw Tornado of the same run."""
    summary = summarize(records)
    refs = sorted({r["baseline"] for r in records if r.get("baseline")})
    lines = ["Baseline %s vs this checkout %s; ratios to raw Tornado: of the medians, "
             "and (paired) the median of each run's ratio." % (
                 ", ".join(refs) or "?", ", ".join(versions_of(records)) or "?"), "",
             "| scenario | metric | baseline | tornadio2 | raw Tornado | base/raw | t2/raw "
             "| base/raw paired | t2/raw paired | change |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key in rows:
        cells = [summary.get((key, srv)) for srv in (BASELINE, "tornadio2", "raw")]
        if not all(cells):
            continue
        base, after, raw = (c["value"] if c["runs"] else None for c in cells)  # type: ignore[index]
        paired = [paired_ratio(records, key, srv) for srv in (BASELINE, "tornadio2")]
        change = "-" if not paired[0] or not paired[1] else "%+.2f" % (paired[1] - paired[0])
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            cells[0]["title"], cells[0]["metric"], _fmt(base), _fmt(after), _fmt(raw),  # type: ignore[index]
            _ratio(base, raw), _ratio(after, raw), _fmt(paired[0], 2), _fmt(paired[1], 2),
            change))
    return "\n".join(lines)


def versions_of(records: List[Dict[str, Any]]) -> List[str]:
    """The distinct tornadio2 versions in ``records``, in order of appearance."""
    return list(dict.fromkeys(r["tornadio2"] for r in records if r.get("tornadio2")))


def verdict(summary: Dict[Tuple[str, str], Dict[str, Any]]) -> List[str]:
    """Reasons to fail the run: loss, errors, a required server that never ran."""
    reasons = []
    for (key, srv), s in sorted(summary.items()):
        if s["runs"] and not s["ok"]:
            reasons.append("%s/%s: sent %d received %d errors %d" % (
                key, srv, s["sent"], s["received"], s["errors"]))
        if srv in REQUIRED_SERVERS and not s["runs"]:
            reasons.append("%s/%s did not run: %s" % (key, srv, "; ".join(s["skipped"])))
    return reasons


# -- profile --------------------------------------------------------------------------

def profile(env: Env, row: Row, base: Dict[str, Any], tmp: Path, top: int,
            sampler: str) -> int:
    """Run ``row`` once against tornadio2 under a profiler; print the top entries.

    ``cprofile`` runs the server under cProfile (exact call counts, but the
    overhead slows it down several times); ``py-spy`` samples it from outside
    (a ``py-spy`` executable next to the server's Python or on PATH).
    """
    log = tmp / "profile.log"
    if sampler == "cprofile":
        prof = tmp / "tornadio2.prof"
        proc, port = start_server(env, "tornadio2", row.heartbeat, log, profile=str(prof))
    else:
        spy = shutil.which("py-spy", path=str(Path(env.python).parent)) or shutil.which("py-spy")
        if spy is None:
            print("py-spy not found (pip install py-spy)", file=sys.stderr)
            return 3
        proc, port = start_server(env, "tornadio2", row.heartbeat, log)
        stacks = tmp / "stacks.txt"
        sampling = PROCESSES.start([spy, "record", "--pid", str(proc.pid), "--format", "raw",
                                    "--rate", "200", "--output", str(stacks)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1)  # let py-spy attach before the load starts
    try:
        result = run_generator(env, row, base, port, proc.pid)
    finally:
        if sampler != "cprofile":
            sampling.send_signal(signal.SIGINT)
            try:
                sampling.wait(SERVER_STOP_TIMEOUT)
            finally:
                PROCESSES.stop(sampling)
        PROCESSES.stop(proc)
    print("%s under %s: %s %s, sent %s received %s errors %s, server CPU %s" % (
        row.key, sampler, result.get("rate"), row.metric, result.get("sent"),
        result.get("received"), result.get("errors"), result.get("server_cpu")))
    if sampler != "cprofile":
        print(collapsed_top(stacks.read_text(), top))
        return 0
    code = ("import pstats, sys\n"
            "top = int(sys.argv[2])\n"
            "own = pstats.Stats(sys.argv[1])\n"
            "stats = pstats.Stats(sys.argv[1])\n"
            "stats.strip_dirs()\n"
            "for key in ('cumulative', 'tottime'):\n"
            "    print('==== top %d by %s' % (top, key))\n"
            "    stats.sort_stats(key).print_stats(top)\n"
            "print('==== tornadio2 functions only, top %d by tottime' % top)\n"
            "own.sort_stats('tottime').print_stats('/tornadio2/', top)\n")
    return subprocess.call([env.python, "-c", code, str(prof), str(top)])


def collapsed_top(text: str, top: int) -> str:
    """Self and total shares per function from py-spy's collapsed stacks."""
    own: Dict[str, int] = {}
    total: Dict[str, int] = {}
    samples = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = [_function_of(frame) for frame in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for name in set(frames):
            total[name] = total.get(name, 0) + count
    out = ["%d samples (busy only)" % samples]
    for title, table in (("self", own), ("total (cumulative)", total)):
        out.append("==== top %d by %s" % (top, title))
        for name, count in sorted(table.items(), key=lambda kv: -kv[1])[:top]:
            out.append("%6.2f%%  %s" % (100.0 * count / max(samples, 1), name))
    return "\n".join(out)


def _function_of(frame: str) -> str:
    """``func (path/file.py:12)`` -> ``func (file.py)``: one entry per function."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    return "%s (%s)" % (name, "/".join(where.split("/")[-2:])) if where else name


# -- main -----------------------------------------------------------------------------

def default_python() -> str:
    if os.environ.get("BENCH_PYTHON"):
        return os.environ["BENCH_PYTHON"]
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def choose_pinning(cores: str, pin: bool) -> Optional[Tuple[int, int]]:
    if not pin or shutil.which("taskset") is None:
        return None
    server, generator = (int(c) for c in cores.split(","))
    allowed = os.sched_getaffinity(0)
    if server not in allowed or generator not in allowed or server == generator:
        return None
    return server, generator


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def check_prerequisites(env: Env) -> List[str]:
    """What is missing to run at all (node, ws 8, Tornado for the Python servers)."""
    missing = []
    if shutil.which(env.node) is None:
        return ["node (%s) not found" % env.node]
    probe = subprocess.run([env.node, "-e", "process.stdout.write(require('ws/package.json').version)"],
                           cwd=str(BENCH), capture_output=True, timeout=30)
    version = probe.stdout.decode().strip()
    if probe.returncode != 0 or not version.startswith("8."):
        missing.append("npm package ws@8 (found %r); run `npm install --ignore-scripts` in %s"
                       % (version, ROOT))
    probe = subprocess.run([env.python, "-c", "import tornado"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        missing.append("Tornado in %s (set --python or BENCH_PYTHON)" % env.python)
    return missing


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small rows, a second or two each (CI)")
    parser.add_argument("--runs", type=int, help="runs per row and server (default 3, quick 1)")
    parser.add_argument("--rows", help="comma-separated row keys (default: all)")
    parser.add_argument("--servers", default=",".join(SERVER_NAMES),
                        help="comma-separated servers among %s" % ",".join(
                            SERVER_NAMES + [METRICS]))
    parser.add_argument("--baseline", metavar="REF",
                        help="also run tornadio2 as of git REF (server 'baseline'), interleaved, "
                             "and print a before/after table")
    parser.add_argument("--duration", type=float,
                        help="seconds of each measured window (default 10, quick 0.8)")
    parser.add_argument("--warmup", type=float, help="seconds before it (default 2, quick 0.3)")
    parser.add_argument("--python", default=default_python(),
                        help="interpreter of the Python servers (env BENCH_PYTHON)")
    parser.add_argument("--node", default=os.environ.get("NODE", "node"))
    parser.add_argument("--cores", default="0,1", help="server core,generator core (default 0,1)")
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    parser.add_argument("--out", help="JSON lines file (default bench/results/<time>.jsonl)")
    parser.add_argument("--summarize", metavar="JSONL", help="only print the tables of a file")
    parser.add_argument("--profile", metavar="ROW",
                        help="run ROW once on tornadio2 under cProfile and print the top entries")
    parser.add_argument("--sampler", choices=["cprofile", "py-spy"], default="cprofile",
                        help="profiler of --profile (default cprofile)")
    parser.add_argument("--top", type=int, default=25, help="entries shown by --profile")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.summarize:
        records = [json.loads(line) for line in Path(args.summarize).read_text().splitlines()
                   if line.strip()]
        keys = list(dict.fromkeys(r["row"] for r in records))
        summary = summarize(records)
        print(tables(summary, keys, versions_of(records)))
        if any(r["server"] == BASELINE for r in records):
            print()
            print(baseline_table(records, keys))
        if any(r["server"] == METRICS for r in records):
            print()
            print(metrics_table(records, keys))
        return 1 if verdict(summary) else 0

    rows = quick_rows() if args.quick else full_rows()
    if args.profile:
        rows = [r for r in full_rows() + quick_rows() if r.key == args.profile][:1]
    elif args.rows:
        wanted = args.rows.split(",")
        rows = [r for r in full_rows() + quick_rows() if r.key in wanted]
        rows = list({r.key: r for r in rows}.values())
    if not rows:
        print("no such row; rows are: %s" % ", ".join(
            dict.fromkeys(r.key for r in full_rows() + quick_rows())), file=sys.stderr)
        return 2
    servers = [s for s in args.servers.split(",") if s]
    if args.baseline and BASELINE not in servers:
        servers.insert(1 if "tornadio2" in servers else 0, BASELINE)
    unknown = set(servers) - set(SERVER_NAMES) - {METRICS} - (
        {BASELINE} if args.baseline else set())
    if unknown:
        print("unknown servers: %s" % ", ".join(sorted(unknown)), file=sys.stderr)
        return 2
    runs = args.runs or (1 if args.quick else 3)
    base = {"warmup": args.warmup if args.warmup is not None else (0.3 if args.quick else 2),
            "duration": args.duration if args.duration is not None else (0.8 if args.quick else 10),
            "drain": 3 if args.quick else 5}

    env = Env(python=args.python, node=args.node,
              pin=choose_pinning(args.cores, not args.no_pin))
    env.nofile = raise_nofile()
    missing = check_prerequisites(env)
    if missing:
        print("cannot run: " + "; ".join(missing), file=sys.stderr)
        return 3
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    with tempfile.TemporaryDirectory(prefix="tornadio2-bench-") as tmpdir:
        tmp = Path(tmpdir)
        if args.baseline:
            env.baseline = checkout_baseline(args.baseline, tmp)
            env.baseline_ref = args.baseline
        try:
            if args.profile:
                return profile(env, rows[0], base, tmp, args.top, args.sampler)
            return run_matrix(args, env, rows, servers, runs, base, tmp)
        finally:
            PROCESSES.stop_all()


def run_matrix(args: argparse.Namespace, env: Env, rows: List[Row], servers: List[str],
               runs: int, base: Dict[str, Any], tmp: Path) -> int:
    """Every run of every row on every server, interleaved so drift hits all alike."""
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.out) if args.out else RESULTS / (
        time.strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else "") + ".jsonl")
    print("# %s, runs %d, pinned %s, python %s, tornadio2 %s, loadavg %s -> %s" % (
        "quick" if args.quick else "full", runs, env.pin, env.python, tornadio2_version(),
        " ".join("%.2f" % x for x in os.getloadavg()), out), flush=True)
    records = []
    dead: Dict[str, str] = {}  # server -> why it is not started again
    with open(out, "a") as sink:
        for run in range(1, runs + 1):
            for row in rows:
                if row.clients_needed() + 200 > env.nofile:
                    print("skip %s: open files limit %d" % (row.key, env.nofile), flush=True)
                    continue
                for server in rotated(servers, run - 1):
                    if server in dead:
                        record: Dict[str, Any] = {"row": row.key, "title": row.title, "server": server,
                                  "run": run, "scenario": row.scenario, "metric": row.metric,
                                  "skipped": dead[server]}
                    else:
                        record = measure(env, row, server, base, run, tmp)
                        if "skipped" in record:
                            dead[server] = str(record["skipped"])
                    records.append(record)
                    sink.write(json.dumps(record) + "\n")
                    sink.flush()
                    print(progress_line(record), flush=True)
    summary = summarize(records)
    print()
    print(tables(summary, [r.key for r in rows], versions_of(records)))
    if BASELINE in servers:
        print()
        print(baseline_table(records, [r.key for r in rows]))
    if METRICS in servers:
        print()
        print(metrics_table(records, [r.key for r in rows]))
    reasons = verdict(summary)
    for reason in reasons:
        print("FAIL " + reason)
    return 1 if reasons else 0


def rotated(servers: List[str], shift: int) -> List[str]:
    """``servers`` started ``shift`` places on: each run starts with another server.

    The machine's speed drifts from one minute to the next, and a server that
    always runs first (after the previous row's last server) could be met by
    a drift the others are not; rotating the order spreads it.
    """
    shift %= max(len(servers), 1)
    return servers[shift:] + servers[:shift]


def progress_line(rec: Dict[str, Any]) -> str:
    if "skipped" in rec:
        return "%-18s %-10s run %d: skipped (%s)" % (rec["row"], rec["server"], rec["run"],
                                                     rec["skipped"][:120])
    return ("%-18s %-10s run %d: %12s %-12s p50 %s p99 %s sent %s recv %s err %s "
            "cpu srv %s gen %s other %s%s" % (
                rec["row"], rec["server"], rec["run"], _fmt(rec.get("rate")), rec["metric"],
                rec.get("p50_ms"), rec.get("p99_ms"), rec.get("sent"), rec.get("received"),
                rec.get("errors"), rec.get("server_cpu"), rec.get("gen_cpu"),
                rec.get("other_cpu"),
                "" if not rec.get("error_samples") else " " + rec["error_samples"][0][:160]))


if __name__ == "__main__":
    sys.exit(main())
