# ruff: noqa: T201 (a command-line check: it reports on standard output)
"""Checks of deploy/nginx.conf in front of a live registry (run by .ci/proxy-check).

1. Requests pass through: /healthz, /readyz, an entry document, the lookup API.
2. The client's address and scheme reach the application from nginx's headers, and what the
   client itself sent in X-Forwarded-* does not: the reconciliation manifest's view URL
   names the host the client asked for, and a forged X-Forwarded-Host is ignored.
3. A body declared larger than the endpoint takes is refused by nginx (413) at once.
4. Five clients that send headers and then trickle their bodies do not slow anyone else:
   the p99 latency of 40 normal requests meanwhile stays under a second.
5. The cache of public reads: a document, a redirect and a lookup answer are answered by
   nginx the second time (X-Cache-Status HIT), the same bytes, a 304 to a client holding
   one, each format under its own key, X-Accel-Expires not passed on, no request answered
   with another's; a request with credentials or a writer's cookie, a POST, an error and an
   answer not marked public never come from the cache.
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
for number in range(40):
    started = time.monotonic()
    # A date of its own each time, so that the application answers (not nginx's cache).
    day = f"20{10 + number // 12}-{number % 12 + 1:02d}-01"
    path = f"/api/v1/entries/statistical-geography/E07000004/?date={day}"
    status, _, _ = request("GET", path, timeout=30)
    latencies.append(time.monotonic() - started)
    if status != 200:
        failures.append(f"a normal request during slow clients got {status}")
stop.set()
p99 = sorted(latencies)[int(0.99 * (len(latencies) - 1))]
check(p99 < 1.0, f"p99 of normal requests with 5 slow clients is under 1 s "
      f"(p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms)")  # fmt: skip


# 5. The cache of public reads (entries not asked for above, so the first answer is a miss).
def twice(path, headers=None, method="GET", body=None):
    first = request(method, path, body=body, headers=headers)
    return first, request(method, path, body=body, headers=headers)


doc = "/doc/statistical-geography/E06000001.json"
(status, headers, body), (status2, headers2, body2) = twice(doc)
check(status == status2 == 200 and headers.get("X-Cache-Status") == "MISS"
      and headers2.get("X-Cache-Status") == "HIT" and body2 == body,
      f"a document is answered by nginx the second time, the same bytes "
      f"({headers.get('X-Cache-Status')}, then {headers2.get('X-Cache-Status')})")  # fmt: skip
check("X-Accel-Expires" not in headers and "X-Accel-Expires" not in headers2
      and headers2.get("Cache-Control") == headers.get("Cache-Control", "").strip()
      and headers.get("Cache-Control", "").startswith("public, max-age="),
      f"clients get the application's Cache-Control ({headers2.get('Cache-Control')!r}) "
      "and no X-Accel-Expires")  # fmt: skip
status, held, _ = request("GET", doc, headers={"If-None-Match": headers.get("ETag", "")})
check(
    status == 304 and held.get("X-Cache-Status") == "HIT",
    f"a client holding it gets a 304 from the cache ({status}, {held.get('X-Cache-Status')})",
)
# One address in two formats by Accept: each kept under its own key, neither served for the other.
page = "/doc/statistical-geography/E06000001"
formats = [
    request("GET", page, headers={"Accept": accept})
    for accept in ("text/turtle", "text/turtle", "application/json", "text/turtle")
]
check(
    [f[1].get("Content-Type", "").split(";")[0] for f in formats]
    == ["text/turtle", "text/turtle", "application/json", "text/turtle"]
    and [f[1].get("X-Cache-Status") for f in formats][1::2] == ["HIT", "HIT"],
    "each format asked for by Accept is kept under its own key "
    f"({[(f[1].get('Content-Type'), f[1].get('X-Cache-Status')) for f in formats]})",
)
# A key's parts cannot run into each other: a "|" moved from Accept into the query string is
# another request, answered for itself.
here = "/id/statistical-geography/E06000005?x=1"
request("GET", here, headers={"Accept": "y|*/*"})
status, other, _ = request("GET", here + "|y", headers={"Accept": "*/*"})
check(
    other.get("X-Cache-Status") != "HIT" and other.get("Location", "").endswith("x=1|y"),
    f"a request is never answered with another's cached answer ({status}, "
    f"{other.get('X-Cache-Status')}, Location {other.get('Location')!r})",
)
for path in ("/id/statistical-geography/E06000002",
             "/api/v1/entries/statistical-geography/E06000002/"):  # fmt: skip
    (status, _, _), (status2, headers2, _) = twice(path)
    check(status == status2 and status in (200, 303) and headers2.get("X-Cache-Status") == "HIT",
          f"GET {path} ({status}) is answered by nginx the second time "
          f"({headers2.get('X-Cache-Status')})")  # fmt: skip
for what, extra in (("a token", {"Authorization": "Token not-a-real-token"}),
                    ("a session", {"Cookie": "sessionid=not-a-real-session"}),
                    ("the cookie of a client that has just written",
                     {"Cookie": "registry_primary=1"})):  # fmt: skip
    status, headers, _ = request("GET", doc, headers=extra)
    check(headers.get("X-Cache-Status") == "BYPASS",
          f"a request with {what} is passed to the application ({status}, "
          f"{headers.get('X-Cache-Status')})")  # fmt: skip
lookup = json.dumps({"items": ["E06000003"]}).encode()
_, (status, headers, _) = twice(
    "/api/v1/lookup/", {"Content-Type": "application/json"}, "POST", lookup
)
check(
    status == 200 and headers.get("X-Cache-Status") != "HIT",
    f"a POST is never answered from the cache ({status}, {headers.get('X-Cache-Status')})",
)
_, (status, headers, _) = twice("/doc/statistical-geography/E06999999.json")
check(
    status == 404 and headers.get("X-Cache-Status") != "HIT",
    f"an error is not kept ({status}, {headers.get('X-Cache-Status')})",
)
_, (status, headers, _) = twice("/readyz")
check(
    status == 200 and headers.get("X-Cache-Status") != "HIT",
    f"an answer not marked public (/readyz) is not kept ({headers.get('X-Cache-Status')})",
)

if failures:
    print(f"--> {len(failures)} proxy check(s) failed")
    sys.exit(1)
print("--> deploy/nginx.conf: every check passed")
