#!/usr/bin/env python3
"""Load generator for bench/endpoint_load.sh (not run alone). Subcommands:

  hold PORT IDLE SLOW SECONDS [SOURCES]  hold IDLE idle connections and SLOW slow readers of
        /metrics (4 KiB receive buffer, 1 KiB read every 100 ms), spread over SOURCES source
        addresses 127.0.0.2.. (default 8), reopening what the server closes; prints
        "held idle=N slow=N" once they are open, exits after SECONDS.
  pull PORT CLIENTS SECONDS   CLIENTS threads pulling /metrics (gzip) on keep-alive
        connections until SECONDS pass; prints the number of pulls.
  probe PORT N                N sequential /health requests, each on a new connection (as a
        kubelet probes); prints p50/p99/max in ms and the failures (5 s timeout each).
  serial PORT N GZIP          N pulls of /metrics on one keep-alive connection; prints the
        p50/p99 latency in ms.
"""
import http.client
import select
import socket
import sys
import threading
import time


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def connect(port, source, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s


def hold(port, idle, slow, seconds, sources=8):
    """Keeps IDLE idle connections and SLOW slow readers open: the server closes idle ones
    (head deadline, eviction) and resets slow ones (response deadline); each is replaced
    at the next 100 ms round, as a client that wants to hold slots would."""
    end = time.monotonic() + seconds
    addrs = ["127.0.0.%d" % (2 + i) for i in range(sources)]
    counter = [0]

    def open_idle():
        counter[0] += 1
        return connect(port, addrs[counter[0] % sources])

    def open_slow():
        counter[0] += 1
        s = connect(port, addrs[counter[0] % sources], rcvbuf=4096)
        s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        return s

    held, readers = set(), set()
    reopened = {"idle": 0, "slow": 0}
    printed = False
    while time.monotonic() < end:
        for kind, group, want, make in (("idle", held, idle, open_idle),
                                         ("slow", readers, slow, open_slow)):
            while len(group) < want:
                try:
                    group.add(make())
                except OSError:
                    break
                if printed:
                    reopened[kind] += 1
        if not printed:
            print("held idle=%d slow=%d" % (len(held), len(readers)), flush=True)
            printed = True
        r, _, _ = select.select(list(held | readers), [], [], 0.1)
        for s in r:
            try:
                data = s.recv(1024)  # 1 KiB per 100 ms from a slow reader
            except OSError:
                data = b""
            if not data:
                held.discard(s)
                readers.discard(s)
                s.close()
        time.sleep(0.1)
    for s in held | readers:
        s.close()
    print("reopened after a server close: idle=%d slow=%d" % (reopened["idle"], reopened["slow"]),
          flush=True)


def pull(port, clients, seconds):
    end = time.monotonic() + seconds
    counts = [0] * clients

    def run(i):
        conn = None
        while time.monotonic() < end:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
                conn.getresponse().read()
                counts[i] += 1
            except (OSError, http.client.HTTPException):
                conn = None
                time.sleep(0.01)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sum(counts))


def probe(port, n):
    times, failures = [], 0
    for _ in range(n):
        start = time.monotonic()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status != 200:
                failures += 1
            conn.close()
            times.append((time.monotonic() - start) * 1000)
        except (OSError, http.client.HTTPException):
            failures += 1
        time.sleep(0.05)
    print("p50=%.2fms p99=%.2fms max=%.2fms failures=%d/%d" %
          (pct(times, 50), pct(times, 99), max(times or [float("nan")]), failures, n))


def serial(port, n, gzip):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Accept-Encoding": "gzip"} if gzip else {}
    times = []
    size = 0
    for _ in range(n):
        start = time.monotonic()
        conn.request("GET", "/metrics", headers=headers)
        size = len(conn.getresponse().read())
        times.append((time.monotonic() - start) * 1000)
    print("p50=%.3fms p99=%.3fms bytes=%d" % (pct(times, 50), pct(times, 99), size))


if __name__ == "__main__":
    cmd, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    {"hold": hold, "pull": pull, "probe": probe, "serial": serial}[cmd](*args)
