#!/usr/bin/env python3
"""Scale benchmarks of `psahost serve` (issue 14), driving the release binary as an operator runs it.

    scripts/scale_bench.py idle    [--connections 1000] [--schedule 15min] [--idle 60]
    scripts/scale_bench.py start   [--runs 11]
    scripts/scale_bench.py tenants --database-url URL [--connections 10000] [--replicas 3]

- idle: one replica (sled store), N connections of the ConnectWise connector against one
  simulator on loopback, each with a sync schedule. Waits for /ready, then for every
  connection's first sync (the daemon's metrics), then measures the process's RSS
  (/proc/PID/status, smaps_rollup) and its CPU time (utime + stime, /proc/PID/stat) over an
  idle window.
- start: the three bundled connectors (ConnectWise, Autotask, Kaseya BMS) already in the
  compilation cache: time from spawning `psahost serve` to `/ready` answering 200, several runs.
- tenants: R replicas over PostgreSQL (`[store] postgres`, `[cluster]`), N small tenants (one
  simulator, a few companies each): time from spawning the replicas to every connection's
  first completed sync (counted in the shared `runs` table), and each replica's share.

Python 3 standard library only; `psahost` from the release build (--bin). Every process the
script starts is stopped before it exits. Loopback only.
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
import urllib.error
import urllib.request

TOKEN = "scale-bench-token-0123456789"
SIM_SETTINGS = (
    'company-id = "psahost-demo", public-key = "demo-public", '
    'private-key = "demo-private", client-id = "psahost-demo-client"'
)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def http(url, token=True, timeout=30):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {TOKEN}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Processes:
    """Every child started, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self):
        self.children = []

    def start(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.children.append(p)
        return p

    def stop(self, p, timeout=60):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self):
        for p in reversed(self.children):
            self.stop(p)


def start_sim(procs, bin, records, log_dir):
    port = free_port()
    log = open(os.path.join(log_dir, f"sim-{port}.log"), "w")
    procs.start(
        [bin, "sim", "--dialect", "connectwise", "--records", str(records), "--bind", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_port(port)
    return f"http://127.0.0.1:{port}"


def connection_toml(cid, origin, schedule):
    text = (
        f"\n[connections.{cid}]\nplugin = \"cw\"\n"
        f"settings = {{ site = \"{origin}\", {SIM_SETTINGS} }}\n"
        f"grant = {{ hosts = [\"{origin}\"] }}\n"
    )
    if schedule:
        text += f"schedule = {{ companies = \"{schedule}\" }}\n"
    return text


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def rollup_kb(pid, field):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory(pid):
    return {
        "rss_mb": status_kb(pid, "VmRSS") / 1024,
        "hwm_mb": status_kb(pid, "VmHWM") / 1024,
        "anon_mb": (status_kb(pid, "RssAnon") or 0) / 1024,
        "file_mb": (status_kb(pid, "RssFile") or 0) / 1024,
        "pss_mb": (rollup_kb(pid, "Pss") or 0) / 1024,
        "threads": status_kb(pid, "Threads"),
    }


def serve(procs, bin, config, log_path, env=None):
    """Starts `psahost serve`; returns (process, API base URL, spawn time)."""
    log = open(log_path, "w")
    spawned = time.monotonic()
    p = procs.start(
        [bin, "--config", config, "serve"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "PSAHOST_LOG": "warn", **(env or {})},
    )
    # The first line starting so (a profiler wrapping the binary may print before it).
    for _ in range(20):
        line = p.stdout.readline()
        if not line or line.startswith("listening on "):
            break
    if not line.startswith("listening on "):
        raise SystemExit(f"psahost serve did not start: {line!r}; see {log_path}")
    return p, line.strip().removeprefix("listening on "), spawned


def wait_ready(base, timeout=600, poll=0.002):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, _ = http(base + "/ready", token=False, timeout=5)
            if status == 200:
                return time.monotonic()
        except OSError:
            pass
        time.sleep(poll)
    raise SystemExit(f"{base}/ready not 200 after {timeout}s")


def completed_connections(base):
    """Connections with at least one completed sync run, from the daemon's metrics."""
    status, text = http(base + "/metrics", timeout=120)
    assert status == 200, text[:200]
    done = set()
    for line in text.splitlines():
        if line.startswith("psahost_sync_runs_total{") and 'outcome="completed"' in line:
            labels, value = line.rsplit(" ", 1)
            if float(value) >= 1:
                done.add(labels.split('connection="', 1)[1].split('"', 1)[0])
    return done


def cmd_idle(args):
    procs = Processes()
    work = tempfile.mkdtemp(prefix="psahost-idle-")
    data = args.data_dir or work + "/data"
    # A kept data directory that synced before: the schedule's first runs are not due yet.
    fresh = not os.path.exists(data)
    try:
        origin = start_sim(procs, args.bin, args.records, work)
        text = (
            f"[runtime]\ndata-dir = {json.dumps(data)}\n"
            f"cache-dir = {json.dumps(args.cache_dir)}\n"
            f"\n[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n"
            "\n[plugins.cw]\nbuiltin = \"connectwise-manage\"\n"
        )
        for i in range(args.connections):
            text += connection_toml(f"tenant-{i}", origin, args.schedule)
        config = os.path.join(work, "psahost.toml")
        with open(config, "w") as f:
            f.write(text)
        p, base, spawned = serve(procs, args.bin, config, os.path.join(work, "serve.log"))
        ready = wait_ready(base)
        print(f"ready {ready - spawned:.2f} s after spawn; {json.dumps(memory(p.pid))}", flush=True)
        n = args.connections
        while fresh:
            done = len(completed_connections(base))
            if done >= n:
                break
            time.sleep(1)
        synced = time.monotonic()
        print(f"every connection's first sync done {synced - spawned:.1f} s after spawn; {json.dumps(memory(p.pid))}", flush=True)
        # Let the sync tasks settle, then the idle window.
        time.sleep(args.settle)
        before = cpu_seconds(p.pid)
        t0 = time.monotonic()
        time.sleep(args.idle)
        cpu = cpu_seconds(p.pid) - before
        elapsed = time.monotonic() - t0
        mem = memory(p.pid)
        print(
            f"RESULT idle connections={n} schedule={args.schedule} rss_mb={mem['rss_mb']:.1f} "
            f"pss_mb={mem['pss_mb']:.1f} anon_mb={mem['anon_mb']:.1f} file_mb={mem['file_mb']:.1f} "
            f"hwm_mb={mem['hwm_mb']:.1f} threads={mem['threads']} "
            f"cpu_s_per_min={cpu * 60 / elapsed:.3f} ({cpu:.2f} s over {elapsed:.1f} s)",
            flush=True,
        )
        if args.hold:
            print(f"holding: pid {p.pid}, {base}; Ctrl-C to stop", flush=True)
            try:
                time.sleep(args.hold)
            except KeyboardInterrupt:
                pass
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)


def cmd_start(args):
    procs = Processes()
    work = tempfile.mkdtemp(prefix="psahost-start-")
    try:
        origin = start_sim(procs, args.bin, 5, work)
        text = (
            f"[runtime]\ndata-dir = {json.dumps(work + '/data')}\n"
            f"cache-dir = {json.dumps(args.cache_dir)}\n"
            f"\n[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n"
            "\n[plugins.cw]\nbuiltin = \"connectwise-manage\"\n"
            "\n[plugins.at]\nbuiltin = \"autotask\"\n"
            "\n[plugins.bms]\nbuiltin = \"kaseya-bms\"\n"
        )
        text += connection_toml("acme", origin, None)
        config = os.path.join(work, "psahost.toml")
        with open(config, "w") as f:
            f.write(text)
        times = []
        for run in range(args.runs + 1):
            p, base, spawned = serve(procs, args.bin, config, os.path.join(work, f"serve-{run}.log"))
            ready = wait_ready(base, timeout=900)
            procs.stop(p)
            ms = (ready - spawned) * 1000
            # The first run fills the cache (if it was empty) and warms the page cache.
            print(f"run {run}: ready after {ms:.1f} ms{' (warm-up, not counted)' if run == 0 else ''}", flush=True)
            if run > 0:
                times.append(ms)
        times.sort()
        print(
            f"RESULT start runs={len(times)} median_ms={statistics.median(times):.1f} "
            f"min_ms={times[0]:.1f} max_ms={times[-1]:.1f} all={[round(t, 1) for t in times]}",
            flush=True,
        )
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)


def psql(url, sql):
    out = subprocess.run(["psql", url, "-AtXq", "-c", sql], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"psql: {out.stderr.strip()}")
    return out.stdout.strip()


def cmd_tenants(args):
    procs = Processes()
    work = tempfile.mkdtemp(prefix="psahost-tenants-")
    schema = f"scale_{os.getpid()}_{int(time.time())}"
    try:
        origins = [start_sim(procs, args.bin, args.records, work) for _ in range(args.simulators)]
        conns = "".join(
            connection_toml(f"tenant-{i}", origins[i % len(origins)], args.schedule)
            for i in range(args.connections)
        )
        configs = []
        for r in range(args.replicas):
            text = (
                f"[runtime]\ndata-dir = {json.dumps(f'{work}/data-{r}')}\n"
                f"cache-dir = {json.dumps(args.cache_dir)}\n"
                f"\n[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n"
                f"\n[store]\npostgres = {json.dumps(args.database_url)}\nschema = \"{schema}\"\n"
                f"\n[cluster]\nreplica = \"replica-{r}\"\nlease = \"{args.lease}\"\nadvertise = \"listen\"\n"
                f"\n[sync]\nmax-concurrent = {args.max_concurrent}\n"
                "\n[plugins.cw]\nbuiltin = \"connectwise-manage\"\n"
            )
            path = os.path.join(work, f"replica-{r}.toml")
            with open(path, "w") as f:
                f.write(text + conns)
            configs.append(path)
        # Migrate the schema once before timing (as an operator's first start would), with
        # no connection (so nothing syncs yet).
        migrate_config = os.path.join(work, "migrate.toml")
        with open(migrate_config, "w") as f:
            f.write(
                f"[runtime]\ndata-dir = {json.dumps(f'{work}/data-migrate')}\n"
                f"\n[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n"
                f"\n[store]\npostgres = {json.dumps(args.database_url)}\nschema = \"{schema}\"\n"
            )
        migrate, _, _ = serve(procs, args.bin, migrate_config, os.path.join(work, "migrate.log"))
        procs.stop(migrate)
        replicas = []
        t0 = time.monotonic()
        for r, path in enumerate(configs):
            p, base, _ = serve(procs, args.bin, path, os.path.join(work, f"replica-{r}.log"))
            replicas.append((p, base))
        n = args.connections
        last_print = 0
        while True:
            done = int(psql(args.database_url, f"SELECT count(DISTINCT connection) FROM \"{schema}\".runs WHERE status = 'completed'"))
            now = time.monotonic()
            if done >= n:
                break
            if now - last_print > 10:
                print(f"  {now - t0:.0f} s: {done} of {n} connections synced", flush=True)
                last_print = now
            if now - t0 > args.timeout:
                raise SystemExit(f"timed out: {done} of {n} connections synced after {args.timeout} s")
            time.sleep(0.5)
        elapsed = time.monotonic() - t0
        leases = psql(args.database_url, f"SELECT owner || '=' || count(*) FROM \"{schema}\".leases WHERE expires_at > now() GROUP BY owner ORDER BY owner")
        runs = []
        for p, base in replicas:
            total = 0
            status, text = http(base + "/metrics", timeout=120)
            for line in text.splitlines():
                if line.startswith("psahost_sync_runs_total{") and 'outcome="completed"' in line:
                    total += float(line.rsplit(" ", 1)[1])
            runs.append(int(total))
        mems = [round(memory(p.pid)["rss_mb"], 1) for p, _ in replicas]
        idle = ""
        if args.then_idle > 0:
            # What the replicas hold once the burst is over (pooled HTTP connections close 30 s
            # after their last request; `psahost serve` trims the heap once a minute).
            time.sleep(args.then_idle)
            later = [round(memory(p.pid)["rss_mb"], 1) for p, _ in replicas]
            idle = f" rss_mb_after_{args.then_idle:.0f}s={later}"
        print(
            f"RESULT tenants connections={n} replicas={args.replicas} simulators={args.simulators} "
            f"first_sync_all_s={elapsed:.1f} per_s={n / elapsed:.0f} leases=[{' '.join(leases.split())}] "
            f"completed_runs_per_replica={runs} rss_mb={mems}{idle}",
            flush=True,
        )
    finally:
        procs.stop_all()
        if not args.keep_schema:
            try:
                psql(args.database_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            except SystemExit as e:
                print(f"schema {schema} not dropped: {e}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="/work/release-target/release/psahost", help="the psahost binary (release)")
    parser.add_argument("--cache-dir", default="/tmp/psahost-bench-cache", help="wasmtime's compilation cache, kept between runs")
    sub = parser.add_subparsers(dest="cmd", required=True)
    idle = sub.add_parser("idle")
    idle.add_argument("--connections", type=int, default=1000)
    idle.add_argument("--records", type=int, default=5, help="companies of the simulator")
    idle.add_argument("--schedule", default="15min", help="companies' sync interval")
    idle.add_argument("--settle", type=float, default=5, help="seconds between the first syncs and the window")
    idle.add_argument("--idle", type=float, default=60, help="seconds of the measured window")
    idle.add_argument("--data-dir", help="the daemon's data directory, kept (default: a new one, removed)")
    idle.add_argument("--hold", type=float, default=0, help="keep the daemon running this long after (profiling)")
    start = sub.add_parser("start")
    start.add_argument("--runs", type=int, default=11)
    tenants = sub.add_parser("tenants")
    tenants.add_argument("--database-url", required=True)
    tenants.add_argument("--connections", type=int, default=10000)
    tenants.add_argument("--replicas", type=int, default=3)
    tenants.add_argument("--simulators", type=int, default=1)
    tenants.add_argument("--records", type=int, default=5, help="companies of each simulator")
    tenants.add_argument("--schedule", default="1h")
    tenants.add_argument("--lease", default="30s")
    tenants.add_argument("--max-concurrent", type=int, default=4, help="[sync] max-concurrent of each replica")
    tenants.add_argument("--timeout", type=float, default=3600)
    tenants.add_argument("--keep-schema", action="store_true")
    tenants.add_argument("--then-idle", type=float, default=0, help="seconds to wait after every first sync, then read the replicas' resident memory again")
    args = parser.parse_args()
    if not os.path.exists(args.bin):
        raise SystemExit(f"{args.bin} does not exist: build it with `CARGO_TARGET_DIR=/work/release-target cargo build --release -p psahost`")
    {"idle": cmd_idle, "start": cmd_start, "tenants": cmd_tenants}[args.cmd](args)


if __name__ == "__main__":
    main()
