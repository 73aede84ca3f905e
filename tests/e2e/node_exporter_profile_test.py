#!/usr/bin/env python3
"""Cross-check of the node_exporter profile against the real node_exporter on this machine.

Starts Debian's prometheus-node-exporter with exactly the collectors the profile covers (and
upstream 1.5's default filters, which Debian's package changes), and metricsd with
collector.naming=node_exporter and the same textfile directory. Then:
  - the sets of (name, labels) must be equal, apart from the documented intended differences;
  - every family's type must be equal;
  - every value must agree: exactly where nothing moves between the reads, and for what moves,
    within the bracket of two metricsd reads taken before and after node_exporter's (with the
    slack stated per metric below).
Prints every difference, so that a failure says what to fix.

Also: every node_* metric that deploy/prometheus/node-exporter-profile.rules.yml queries is
served by metricsd in this profile.

usage: node_exporter_profile_test.py METRICSD_BINARY [RULES_FILE]
Exit 77 (skipped) where node_exporter is not installed.
"""
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

NODE_EXPORTER_CANDIDATES = ["/usr/bin/prometheus-node-exporter", "/usr/local/bin/node_exporter"]
COLLECTORS = ["cpu", "meminfo", "loadavg", "stat", "filesystem", "diskstats", "netdev",
              "pressure", "uname", "time", "os", "vmstat", "textfile"]
# node_exporter 1.5's own defaults (Debian's package patches them).
UPSTREAM_FLAGS = [
    "--collector.filesystem.mount-points-exclude="
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)",
    "--collector.filesystem.fs-types-exclude="
    "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
    "iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|"
    "sysfs|tracefs)$",
    "--collector.diskstats.device-exclude=^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$",
    "--collector.netdev.device-exclude=",
]

# Intended differences (docs/node-exporter.md): node_exporter's reports about itself, and
# metricsd's own self-metrics.
def intended_difference(name):
    return (name.startswith(("node_scrape_collector_", "node_exporter_", "promhttp_", "go_",
                              "process_", "metricsd_"))
            or name in ("node_textfile_scrape_error_details",))

# Values that cannot move between the reads: compared exactly.
STATIC = re.compile(
    r"^(node_boot_time_seconds|node_memory_(MemTotal|SwapTotal|Hugepagesize|HugePages_Total|"
    r"VmallocTotal|CommitLimit)(_bytes)?|node_filesystem_(size_bytes|files|readonly|device_error)"
    r"|node_disk_info|node_disk_filesystem_info|node_disk_device_mapper_info|node_disk_ata_.*"
    r"|node_uname_info|node_os_info|node_os_version|node_time_zone_offset_seconds"
    r"|node_time_clocksource_.*|node_textfile_.*|textfile_.*)$")


def gauge_slack(name):
    """How far a moving gauge may lie outside the bracket of metricsd's two reads."""
    if name.endswith("_bytes"):
        return 64 * 1024 * 1024  # memory and free space move with other work on the machine
    if name.startswith("node_load"):
        return 0.5
    if name in ("node_procs_running", "node_procs_blocked", "node_disk_io_now"):
        return 16
    if name == "node_time_seconds":
        return 1.0
    if name.startswith("node_filesystem_files_free"):
        return 100000
    if name.startswith("node_memory_"):
        return 65536  # counts such as HugePages_Free
    return 0


def counter_slack(name):
    # node_exporter starts its own "never backwards" memory at its first read, metricsd at its
    # own; per-CPU idle and iowait jump back by a tick now and then on NO_HZ kernels.
    return 0.05 if name.startswith("node_cpu_") else 0


LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def parse(text):
    """{(name, frozenset(labels))): value}, {family: type}. Empty label values are dropped."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(" ", 3)
            types[family] = kind.strip()
            continue
        if not line or line.startswith("#"):
            continue
        brace = line.find("{")
        if brace >= 0:
            name = line[:brace]
            close = line.rfind("}")
            labels = {}
            for m in LABEL.finditer(line[brace + 1:close]):
                value = m.group(2).encode().decode("unicode_escape") if "\\" in m.group(2) else m.group(2)
                if value != "":
                    labels[m.group(1)] = value
            rest = line[close + 1:].split()
        else:
            parts = line.split()
            name, rest = parts[0], parts[1:]
            labels = {}
        samples[(name, frozenset(labels.items()))] = float(rest[0])
    return samples, types


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_ready(url, proc, what, deadline_s=20):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            return get(url)
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not answer {url} within {deadline_s} s")


def fmt_labels(labels):
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels)) + "}"


def compare_once(md_url, ne_port, rules_file):
    """One comparison: (problems, a line of counts)."""
    # metricsd serves the snapshot of its last cycle: `before` was collected before
    # node_exporter's read, and after a 1.5 s wait `after` was collected after it.
    before, _ = parse(get(md_url))
    ne_samples, ne_types = parse(get(f"http://127.0.0.1:{ne_port}/metrics"))
    time.sleep(1.5)
    after_text = get(md_url)
    after, md_types = parse(after_text)

    problems = []
    ne_keys = {k for k in ne_samples if not intended_difference(k[0])}
    md_keys = {k for k in after if not intended_difference(k[0])}
    for name, labels in sorted(ne_keys - md_keys, key=str):
        problems.append(f"only in node_exporter: {name}{fmt_labels(labels)}")
    for name, labels in sorted(md_keys - ne_keys, key=str):
        problems.append(f"only in metricsd:      {name}{fmt_labels(labels)}")

    for family, kind in sorted(ne_types.items()):
        if intended_difference(family) or family not in md_types:
            continue
        if md_types[family] != kind:
            problems.append(f"type of {family}: node_exporter {kind}, metricsd {md_types[family]}")

    compared = 0
    for key in sorted(ne_keys & md_keys, key=str):
        name, labels = key
        value = ne_samples[key]
        a, c = before.get(key, math.nan), after[key]
        family_type = ne_types.get(name, "untyped")
        if STATIC.match(name):
            ok = value == c
            rule = "exact"
        elif family_type in ("counter", "untyped"):
            slack = counter_slack(name)
            ok = (a - slack) <= value <= (c + slack) if not math.isnan(a) else value <= c + slack
            rule = f"bracket [{a}, {c}] +-{slack}"
        else:
            slack = gauge_slack(name)
            lo = min(a, c) if not math.isnan(a) else c
            hi = max(a, c) if not math.isnan(a) else c
            ok = lo - slack <= value <= hi + slack
            rule = f"bracket [{lo}, {hi}] +-{slack}"
        compared += 1
        if not ok:
            problems.append(f"value of {name}{fmt_labels(labels)}: node_exporter {value}, "
                            f"metricsd {c} ({rule})")

    if rules_file:
        with open(rules_file) as f:
            # Metric names, not the word "node_exporter" in comments and annotations.
            wanted = set(re.findall(r"\bnode_[a-zA-Z0-9_]+", f.read())) - {"node_exporter"}
        served = {name for name, _ in after}
        for name in sorted(wanted - served):
            problems.append(f"{os.path.basename(rules_file)} queries {name}, which metricsd "
                            "does not serve in this profile")

    return problems, (f"{len(ne_keys)} node_exporter series, {len(md_keys)} metricsd series, "
                      f"{compared} values compared")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    metricsd = os.path.abspath(sys.argv[1])
    rules_file = sys.argv[2] if len(sys.argv) == 3 else None
    node_exporter = next((c for c in NODE_EXPORTER_CANDIDATES if os.access(c, os.X_OK)), None)
    if node_exporter is None:
        print("SKIP: prometheus-node-exporter is not installed")
        return 77

    work = tempfile.mkdtemp(prefix="metricsd-ne-profile-")
    procs = []
    try:
        textfile_dir = os.path.join(work, "textfile")
        os.mkdir(textfile_dir)
        with open(os.path.join(textfile_dir, "backup.prom"), "w") as f:
            f.write("# HELP backup_last_success_seconds Last good backup.\n"
                    "# TYPE backup_last_success_seconds gauge\n"
                    'backup_last_success_seconds{job="db"} 1700000000\n'
                    'backup_bytes{job="db",kind="full"} 12345\n')
        with open(os.path.join(textfile_dir, "broken.prom"), "w") as f:
            f.write("this is { not a metric\n")
        with open(os.path.join(textfile_dir, "ignored.txt"), "w") as f:
            f.write("ignored_metric 1\n")

        ne_port, md_port = free_port(), free_port()
        ne_cmd = [node_exporter, f"--web.listen-address=127.0.0.1:{ne_port}",
                  "--collector.disable-defaults", "--web.disable-exporter-metrics",
                  f"--collector.textfile.directory={textfile_dir}"]
        ne_cmd += [f"--collector.{c}" for c in COLLECTORS] + UPSTREAM_FLAGS
        ne = subprocess.Popen(ne_cmd, stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(work, "ne.log"), "w"))
        procs.append(ne)

        config = {
            "data_dir": os.path.join(work, "data"),
            "server": {"host": "127.0.0.1", "port": md_port},
            "collector": {"interval_seconds": 1, "naming": "node_exporter",
                          "textfile": {"directory": textfile_dir}},
        }
        config_path = os.path.join(work, "metricsd.json")
        with open(config_path, "w") as f:
            json.dump(config, f)
        env = dict(os.environ, HOME=work)
        md = subprocess.Popen([metricsd, "-config", config_path], cwd=work, env=env,
                              stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(work, "metricsd.log"), "w"))
        procs.append(md)

        wait_ready(f"http://127.0.0.1:{ne_port}/metrics", ne, "node_exporter")
        md_url = f"http://127.0.0.1:{md_port}/metrics"
        wait_ready(md_url, md, "metricsd")
        time.sleep(2.5)  # a few collection cycles, so that the snapshot has every collector

        # Mounts and interfaces that other work on the machine adds or removes between the
        # reads (a container starting) show as differences: a comparison that finds any is
        # made again, up to three times; a real difference stays in every one.
        for attempt in range(3):
            problems, counts = compare_once(md_url, ne_port, rules_file)
            print(counts)
            if not problems:
                break
            if attempt < 2:
                print(f"{len(problems)} differences; comparing again")
                time.sleep(1)
        if problems:
            print("DIFFERENCES:")
            for p in problems:
                print("  " + p)
            return 1
        print("OK: same series, types and values")
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
