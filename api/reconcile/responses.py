"""HTTP plumbing shared by the reconciliation views: JSON and JSONP answers with CORS on
every one (errors included), short JSON errors, the request's own origin for absolute URLs,
and a per-process guard that answers 429 with ``Retry-After`` when the service is overloaded.

OpenRefine runs in the user's browser on another origin, so every answer carries
``Access-Control-Allow-Origin: *``; older OpenRefine versions and the reconciliation test
bench also use JSONP (``callback``) on GET.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port, validate_host
from django.views.decorators.csrf import csrf_exempt

from registry.auth import client_address

from .. import http

CORS_HEADERS = http.cors_headers(
    "GET, POST, OPTIONS", "Content-Type, Accept, Accept-Language, Authorization"
)

# A JavaScript identifier path (jQuery's "jQuery3710123_1732780000000", "ns.cb"), no more.
_CALLBACK = re.compile(r"^[A-Za-z_$][\w$]{0,99}(?:\.[A-Za-z_$][\w$]{0,99}){0,4}$")


class BadRequest(Exception):
    """A request the service refuses: answered with ``status`` and a short JSON body."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def with_cors(response: HttpResponse, max_age: int | None = None) -> HttpResponse:
    """``response`` open to every origin (and cacheable by anyone for ``max_age`` seconds)."""
    return http.publish(response, max_age=max_age, cors=CORS_HEADERS)


def answer(
    request: HttpRequest, data: Any, status: int = 200, cache_seconds: int | None = None
) -> HttpResponse:
    """``data`` as JSON, or as JSONP when a GET carries a valid ``callback``."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    callback = request.GET.get("callback") if request.method == "GET" else None
    if callback:
        if not _CALLBACK.match(callback):
            return error("callback must be a JavaScript function name", 400)
        response = HttpResponse(
            f"{callback}({body});", status=status, content_type="application/javascript"
        )
    else:
        response = HttpResponse(body, status=status, content_type="application/json")
    return with_cors(response, cache_seconds or None)


def error(message: str, status: int = 400, **headers: str) -> HttpResponse:
    body = json.dumps({"status": status, "error": message})
    response = HttpResponse(body, status=status, content_type="application/json")
    for header, value in headers.items():
        response[header.replace("_", "-")] = value
    return with_cors(response)


def origin(request: HttpRequest) -> str:
    """``scheme://host`` of the service as the client reached it, honouring
    ``X-Forwarded-Proto`` (through ``SECURE_PROXY_SSL_HEADER``) and ``X-Forwarded-Host`` when
    that host is one of ``ALLOWED_HOSTS``."""
    scheme = "https" if request.is_secure() else "http"
    forwarded = request.META.get("HTTP_X_FORWARDED_HOST", "").split(",")[0].strip()
    host = None
    if forwarded:
        domain, _ = split_domain_port(forwarded)
        if domain and validate_host(domain, settings.ALLOWED_HOSTS):
            host = forwarded
    return f"{scheme}://{host or request.get_host()}"


# --------------------------------------------------------------------------- overload


class Guard:
    """At most ``concurrency`` requests at once in this process, and at most ``rate``
    queries a second per client on average (a token bucket holding ``burst``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._buckets: dict[str, tuple[float, float]] = {}

    @staticmethod
    def _settings() -> tuple[int, float, float]:
        return (
            int(getattr(settings, "REGISTRY_RECONCILE_CONCURRENCY", 8)),
            float(getattr(settings, "REGISTRY_RECONCILE_RATE", 1000)),
            float(getattr(settings, "REGISTRY_RECONCILE_BURST", 10000)),
        )

    def enter(self) -> bool:
        concurrency, _, _ = self._settings()
        with self._lock:
            if self._active >= concurrency:
                return False
            self._active += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._active -= 1

    def spend(self, client: str, cost: int) -> float:
        """Take ``cost`` queries from the client's bucket: 0 if allowed, otherwise the
        seconds to wait."""
        _, rate, burst = self._settings()
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(client, (burst, now))
            tokens = min(burst, tokens + (now - then) * rate)
            if tokens < cost:
                self._buckets[client] = (tokens, now)
                return max(1.0, (cost - tokens) / rate)
            self._buckets[client] = (tokens - cost, now)
            if len(self._buckets) > 10000:
                self._buckets.clear()
            return 0.0


guard = Guard()


def overloaded(retry_after: float = 1.0) -> HttpResponse:
    return error(
        "the reconciliation service is busy; retry shortly",
        429,
        Retry_After=str(math.ceil(retry_after)),
    )


def endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """CSRF-exempt (OpenRefine posts from another origin without a token), answers OPTIONS
    preflights, turns :class:`BadRequest` into its 4xx, and refuses with 429 when the process
    is already as busy as allowed."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            return with_cors(HttpResponse(status=204))
        if request.method not in ("GET", "POST", "HEAD"):
            return error(f"method {request.method} not allowed", 405, Allow="GET, POST, OPTIONS")
        if not guard.enter():
            return overloaded()
        try:
            return view(request, *args, **kwargs)
        except BadRequest as exc:
            return error(exc.message, exc.status)
        finally:
            guard.leave()

    return wrapped


def client_of(request: HttpRequest) -> str:
    return client_address(request)


def parse_json(text: str, what: str) -> Any:
    try:
        return http.loads(text, neutralise=True)
    except http.MalformedJSON:
        raise BadRequest(f"{what} is not valid JSON") from None
    except http.BadJSON as error:
        raise BadRequest(f"{what} cannot be read: {error}") from None


def form_value(request: HttpRequest, name: str) -> str | None:
    """A parameter from the POST form or the query string; a body too large is a 413."""
    try:
        if request.method == "POST":
            value = request.POST.get(name)
            if value is not None:
                return value
    except RequestDataTooBig:
        raise BadRequest("request body too large", 413) from None
    except TooManyFieldsSent:
        raise BadRequest("too many form fields", 413) from None
    return request.GET.get(name)
