#!/usr/bin/env python3
"""Every query of deploy/grafana/metricsd-host.json returns data from a real Prometheus.

Usage: dashboard_queries_test.py <metricsd binary> <fake libnvidia-ml.so> [dashboard.json]

Checks the dashboard's structure, then runs metricsd (1 s interval, GPU through the fake NVML
library, one scrape target served here, a prometheus_remote_write shipper) against Prometheus
as a remote write receiver, substitutes the template variables as Grafana would and runs each
expression as an instant query: an error or an empty result fails. Exits 77 (skipped) without
a prometheus binary.
"""
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DASHBOARD = os.path.join(HERE, "..", "..", "deploy", "grafana", "metricsd-host.json")

# Grafana's built-in interval variables, as a 1 s collection interval makes them.
BUILTINS = {
    "__rate_interval": "30s",
    "__interval": "15s",
    "__interval_ms": "15000",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}

NVML_SCRIPT = """count=1
gpu0.name=Tesla T4
gpu0.uuid=GPU-dash-0
gpu0.util_gpu=42
gpu0.util_mem=7
gpu0.mem_total=16000000000
gpu0.mem_used=1000000000
gpu0.mem_free=15000000000
gpu0.mem_reserved=300000000
gpu0.temp=55
gpu0.power_mw=70000
gpu0.power_limit_mw=70000
gpu0.energy_mj=1000000
gpu0.fan=30
gpu0.clock_sm=1590
gpu0.clock_mem=5000
gpu0.ecc_corrected=0
gpu0.ecc_uncorrected=0
gpu0.pcie_tx=100
gpu0.pcie_rx=200
gpu0.throttle=1
gpu0.procs=1234:1000000
"""

# Everything the dashboard shows arrives by remote write, metricsd's own metrics included
# (ship_self_metrics): the Prometheus here scrapes nothing.
INSTANCE = "metricsd-dashboard-test"
PROM_CONFIG = """global:
  scrape_interval: 1h
"""

TARGET_BODY = b"""# TYPE demo_requests_total counter
demo_requests_total{path="/"} 7
# TYPE demo_temperature_celsius gauge
demo_temperature_celsius 21.5
"""


def all_panels(panels):
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []))


def check_structure(dash):
    """Returns a list of problems with the dashboard's shape."""
    problems = []
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    inst = variables.get("instance")
    if inst is None:
        problems.append("no 'instance' template variable")
    elif inst.get("multi") or inst.get("includeAll"):
        problems.append("'instance' must be single-select")
    ds = variables.get("datasource")
    if ds is None or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.append("no 'datasource' variable of type datasource for prometheus")
    ids = {}
    for p in all_panels(dash.get("panels", [])):
        title = p.get("title", "?")
        if "id" not in p:
            problems.append(f"panel {title!r} has no id")
        elif p["id"] in ids:
            problems.append(f"panel id {p['id']} used by {ids[p['id']]!r} and {title!r}")
        else:
            ids[p["id"]] = title
        if p.get("type") == "row":
            continue
        if not p.get("datasource"):
            problems.append(f"panel {title!r} has no datasource")
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"panel {title!r} has no targets")
        for t in targets:
            expr = t.get("expr", "")
            if not expr.strip():
                problems.append(f"panel {title!r} target {t.get('refId')} has no expr")
            # Each query follows the instance picker, or two hosts' series would mix.
            elif "$instance" not in expr and "${instance}" not in expr:
                problems.append(f"panel {title!r} target {t.get('refId')} ignores $instance: {expr}")
    return problems


def queries(dash):
    """(where, expr) for every panel target and every query variable."""
    out = []
    for p in all_panels(dash.get("panels", [])):
        for t in p.get("targets") or []:
            if t.get("expr"):
                out.append((f"panel {p.get('title')!r} {t.get('refId')}", t["expr"]))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        out.append((f"variable {v['name']!r}", q))
    return out


def substitute(expr, values):
    def repl(m):
        name = m.group(1) or m.group(2)
        if name not in values:
            raise KeyError(name)
        return values[name]
    # $name, ${name} and ${name:format}
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", repl, expr)


def to_promql(expr):
    """label_values(m, l) is Grafana's; its data comes from the series of m."""
    m = re.fullmatch(r"\s*label_values\(\s*(.*?)\s*,\s*(\w+)\s*\)\s*", expr, re.S)
    if m:
        return f"count by ({m.group(2)}) ({m.group(1)})"
    m = re.fullmatch(r"\s*label_values\(\s*(\w+)\s*\)\s*", expr)
    if m:
        raise ValueError("label_values(label) without a metric is not checked")
    return expr


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def query(base, promql):
    """(result list, error text or None)."""
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        _, body = http_get(url, timeout=10)
    except urllib.error.HTTPError as e:
        try:
            return None, json.loads(e.read()).get("error", str(e))
        except ValueError:
            return None, str(e)
    except OSError as e:
        return None, str(e)
    data = json.loads(body)
    if data.get("status") != "success":
        return None, data.get("error", "query failed")
    return data["data"]["result"], None


def wait_for(pred, seconds, step=0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def tail(path, n=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


class Target(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(TARGET_BODY)))
        self.end_headers()
        self.wfile.write(TARGET_BODY)

    def log_message(self, *args):
        pass


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, nvml = sys.argv[1], sys.argv[2]
    path = sys.argv[3] if len(sys.argv) > 3 else DEFAULT_DASHBOARD
    with open(path) as f:
        dash = json.load(f)
    problems = check_structure(dash)
    for p in problems:
        print("FAIL:", p)
    if problems:
        return 1
    exprs = queries(dash)
    print(f"dashboard ok: {sum(1 for p in all_panels(dash['panels']) if p.get('type') != 'row')} panels, "
          f"{len(exprs)} queries")

    prometheus = shutil.which("prometheus")
    if prometheus is None:
        print("SKIP: no prometheus binary")
        return SKIP

    tmp = tempfile.mkdtemp(prefix="metricsd-dash-")
    prom = daemon = server = None
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Target)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        target_port = server.server_address[1]

        port = free_port()
        prom_port = free_port()
        prom_base = f"http://127.0.0.1:{prom_port}"
        with open(os.path.join(tmp, "prom.yml"), "w") as f:
            f.write(PROM_CONFIG)
        prom_log = os.path.join(tmp, "prometheus.log")
        with open(prom_log, "w") as log:
            prom = subprocess.Popen(
                [prometheus, "--config.file=" + os.path.join(tmp, "prom.yml"),
                 f"--web.listen-address=127.0.0.1:{prom_port}",
                 "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
                 "--web.enable-remote-write-receiver"],
                stdout=log, stderr=subprocess.STDOUT, cwd=tmp)

        def prom_ready():
            try:
                return http_get(prom_base + "/-/ready", timeout=2)[0] == 200
            except OSError:
                return False
        if not wait_for(prom_ready, 60) or prom.poll() is not None:
            print("FAIL: prometheus did not get ready\n" + tail(prom_log))
            return 1

        with open(os.path.join(tmp, "nvml.script"), "w") as f:
            f.write(NVML_SCRIPT)
        config = {
            "server": {"host": "127.0.0.1", "port": port},
            "collector": {"interval_seconds": 1, "enable_cpu": True, "enable_memory": True,
                          "enable_disk": True, "enable_network": True, "enable_host": True,
                          "enable_pressure": True, "enable_gpu": True,
                          "gpu": {"nvml_library": os.path.abspath(nvml)}},
            "data_dir": os.path.join(tmp, "data"),
            "instance": INSTANCE,
            "endpoints": [{"name": "demo", "url": f"http://127.0.0.1:{target_port}/metrics"}],
            "shipper": {"type": "prometheus_remote_write",
                        "endpoint": prom_base + "/api/v1/write"},
        }
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(config, f)
        # The environment overrides the file (MC_*); none of the caller's may leak in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("MC_")}
        env["METRICSD_FAKE_NVML_SCRIPT"] = os.path.join(tmp, "nvml.script")
        daemon_log = os.path.join(tmp, "metricsd.log")
        with open(daemon_log, "w") as log:
            daemon = subprocess.Popen([os.path.abspath(binary), "-config", "config.json"],
                                      stdout=log, stderr=subprocess.STDOUT, cwd=tmp, env=env)

        # The instance variable's value, found as Grafana finds it.
        instance = [None]

        def have_instance():
            result, _ = query(prom_base, "count by (instance) (system_cpu_count)")
            if result:
                instance[0] = result[0]["metric"].get("instance")
            return instance[0] is not None
        if not wait_for(have_instance, 60, step=1) or daemon.poll() is not None:
            print("FAIL: no system_cpu_count{instance} reached prometheus\n" + tail(daemon_log))
            return 1
        values = dict(BUILTINS, instance=instance[0])
        print(f"instance={instance[0]!r}")

        def run_all():
            failures = []
            for where, expr in exprs:
                try:
                    promql = to_promql(substitute(expr, values))
                except KeyError as e:
                    failures.append((where, expr, f"unknown variable ${e.args[0]}"))
                    continue
                except ValueError as e:
                    failures.append((where, expr, str(e)))
                    continue
                result, error = query(prom_base, promql)
                if error:
                    failures.append((where, promql, "error: " + error))
                elif not result:
                    failures.append((where, promql, "empty result"))
            return failures

        # Rates need two samples in their window and every collector a cycle or two; a query
        # that still has nothing after a minute and a half is the dashboard's fault.
        deadline = time.monotonic() + 90
        failures = run_all()
        while failures and time.monotonic() < deadline and daemon.poll() is None:
            time.sleep(5)
            failures = run_all()
        if daemon.poll() is not None:
            print(f"FAIL: metricsd exited with {daemon.returncode}\n" + tail(daemon_log))
            return 1
        for where, expr, why in failures:
            print(f"FAIL: {where}: {why}\n      {expr}")
        if failures:
            print(f"{len(failures)} of {len(exprs)} queries failed")
            return 1
        print(f"all {len(exprs)} queries returned data")
        return 0
    finally:
        # A second SIGTERM must not cut the cleanup short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop(daemon)
        stop(prom)
        if server is not None:
            server.shutdown()
            server.server_close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    # A ctest timeout sends SIGTERM: unwind so the finally block stops what was started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
