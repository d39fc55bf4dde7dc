# ruff: noqa: T201 (a command-line check: it reports on standard output)
"""Checks of deploy/nginx.conf in front of a live registry (run by .ci/proxy-check).

1. Requests pass through: /healthz, /readyz, an entry document, the lookup API.
2. The client's address and scheme reach the application from nginx's headers, and what the
   client itself sent in X-Forwarded-* does not: the reconciliation manifest's view URL
   names the host the client asked for, and a forged X-Forwarded-Host is ignored.
3. A body declared larger than the endpoint takes is refused by nginx (413) at once.
4. Five clients that send headers and then trickle their bodies do not slow anyone else:
   the p99 latency of 40 normal requests meanwhile stays under a second.
"""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import sys
import threading
import time
import urllib.parse

BASE = sys.argv[1]
HOST, PORT = urllib.parse.urlsplit(BASE).hostname, urllib.parse.urlsplit(BASE).port
failures: list[str] = []


def request(method, path, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def check(condition: bool, what: str) -> None:
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


# 1. Through the proxy.
for path, wanted in [("/healthz", 200), ("/readyz", 200),
                     ("/doc/statistical-geography/E07000004.json", 200),
                     ("/api/v1/entries/statistical-geography/E07000004/", 200)]:  # fmt: skip
    status, _, _ = request("GET", path)
    check(status == wanted, f"GET {path} through nginx is {wanted} (got {status})")

# 2. Headers: the manifest's view URL is built from the host the client asked for.
status, _, body = request("GET", "/reconcile", headers={"Host": "registry.example.org",
                          "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"})  # fmt: skip
view = json.loads(body).get("view", {}).get("url", "") if status == 200 else ""
check(view.startswith("http://registry.example.org/"),
      f"the manifest's view URL names the client's host over http, not a forged one ({view!r})")  # fmt: skip

# 3. Too large: refused by nginx before it is sent.
conn = socket.create_connection((HOST, PORT), timeout=10)
started = time.monotonic()
conn.sendall(b"POST /api/v1/lookup/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Content-Length: 1073741824\r\n\r\n")  # fmt: skip
answer = conn.recv(200).decode("latin-1")
conn.close()
check(answer.startswith("HTTP/1.1 413") and time.monotonic() - started < 2,
      f"a declared 1 GiB body is a 413 at once ({answer.splitlines()[0] if answer else 'nothing'})")  # fmt: skip

# 4. Slow clients.
stop = threading.Event()


def slow_client() -> None:
    try:
        sock = socket.create_connection((HOST, PORT), timeout=30)
        sock.sendall(b"POST /api/v1/lookup/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                     b"\r\nContent-Length: 4096\r\n\r\n")  # fmt: skip
        while not stop.is_set():
            sock.sendall(b" ")
            stop.wait(1)
        sock.close()
    except OSError:
        pass


slow = [threading.Thread(target=slow_client, daemon=True) for _ in range(5)]
for thread in slow:
    thread.start()
time.sleep(1)
latencies = []
for _ in range(40):
    started = time.monotonic()
    status, _, _ = request("GET", "/api/v1/entries/statistical-geography/E07000004/", timeout=30)
    latencies.append(time.monotonic() - started)
    if status != 200:
        failures.append(f"a normal request during slow clients got {status}")
stop.set()
p99 = sorted(latencies)[int(0.99 * (len(latencies) - 1))]
check(p99 < 1.0, f"p99 of normal requests with 5 slow clients is under 1 s "
      f"(p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms)")  # fmt: skip

if failures:
    print(f"--> {len(failures)} proxy check(s) failed")
    sys.exit(1)
print("--> deploy/nginx.conf: every check passed")
