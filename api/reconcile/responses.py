"""HTTP plumbing shared by the reconciliation views: JSON and JSONP answers with CORS on
every one (errors included), short JSON errors, the request's own origin for absolute URLs,
and a guard that answers 429 with ``Retry-After`` when a client sends more than its share
(counted across workers) or the process is as busy as allowed.

OpenRefine runs in the user's browser on another origin, so every answer carries
``Access-Control-Allow-Origin: *``; older OpenRefine versions and the reconciliation test
bench also use JSONP (``callback``) on GET.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import orjson
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import BadRequest as DjangoBadRequest
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.http.request import split_domain_port, validate_host
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt

from registry.auth import client_address
from registry.cache import count
from registry.replicas import reads_only

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
    body = dumps(data)
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


def dumps(data: Any) -> str:
    """``data`` as compact JSON text, non-ASCII characters as themselves: by orjson, the same
    text as ``json.dumps(data, ensure_ascii=False, separators=(",", ":"))`` in a seventh of
    the time; by that for what orjson refuses (a lone surrogate, an integer over 64 bits)."""
    try:
        return orjson.dumps(data).decode()
    except orjson.JSONEncodeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def error(message: str, status: int = 400, **headers: str) -> HttpResponse:
    body = json.dumps({"status": status, "error": message})
    response = HttpResponse(body, status=status, content_type="application/json")
    for header, value in headers.items():
        response[header.replace("_", "-")] = value
    return with_cors(response)


def _forwarded(request: HttpRequest, meta: str, proxies: int) -> str:
    """The value of a proxy header (``X-Forwarded-Host``…) set by the outermost of
    ``proxies`` trusted proxies: each appends, so it is that many places from the right;
    values further left are the client's to forge."""
    values = [v.strip() for v in request.META.get(meta, "").split(",")]
    values = [v for v in values if v]
    if not values:
        return ""
    return values[-proxies] if len(values) >= proxies else values[0]


def origin(request: HttpRequest) -> str:
    """``scheme://host`` of the service as the client reached it. Behind
    ``REGISTRY_TRUSTED_PROXIES`` reverse proxies (default 0) that is ``X-Forwarded-Proto``
    and ``X-Forwarded-Host`` (when that host is one of ``ALLOWED_HOSTS``); with none, the
    request's own scheme and ``Host``, whatever proxy headers a client sends."""
    proxies = int(getattr(settings, "REGISTRY_TRUSTED_PROXIES", 0))
    scheme = request._get_scheme()  # the connection's own, not SECURE_PROXY_SSL_HEADER's
    host = None
    if proxies > 0:
        proto = _forwarded(request, "HTTP_X_FORWARDED_PROTO", proxies).lower()
        if proto in ("http", "https"):
            scheme = proto
        elif request.is_secure():
            scheme = "https"
        forwarded = _forwarded(request, "HTTP_X_FORWARDED_HOST", proxies)
        if forwarded:
            domain, _ = split_domain_port(forwarded)
            if domain and validate_host(domain, settings.ALLOWED_HOSTS):
                host = forwarded
    return f"{scheme}://{host or request.get_host()}"


def vary_on_origin(response: HttpResponse) -> HttpResponse:
    """Mark a cacheable answer whose body holds :func:`origin` as varying with the headers
    that origin is read from, so no shared cache serves one host's URLs to another."""
    headers = ["Host"]
    if int(getattr(settings, "REGISTRY_TRUSTED_PROXIES", 0)) > 0:
        headers += ["X-Forwarded-Host", "X-Forwarded-Proto"]
    patch_vary_headers(response, headers)
    return response


# --------------------------------------------------------------------------- overload

RATE_KEY = "reconcile-rate"


class Guard:
    """At most ``REGISTRY_RECONCILE_CONCURRENCY`` requests at once in this process, and per
    client at most ``REGISTRY_RECONCILE_RATE`` queries a second on average with bursts of
    ``REGISTRY_RECONCILE_BURST``: a fixed window of ``burst / rate`` seconds (at least one)
    allows ``burst`` queries (at least ``rate``). The windows' counts are kept in
    ``caches["throttle"]``, which every worker on a machine shares (a file cache; Redis or
    memcached for several machines), so the limit holds whichever worker answers. The first
    request of a window always passes, however large its batch; a rate or burst of 0 (or an
    infinite rate) turns the limit off."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self.clock = clock

    @staticmethod
    def _settings() -> tuple[int, float, float]:
        return (
            int(getattr(settings, "REGISTRY_RECONCILE_CONCURRENCY", 8)),
            float(getattr(settings, "REGISTRY_RECONCILE_RATE", 200)),
            float(getattr(settings, "REGISTRY_RECONCILE_BURST", 2000)),
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
        """Count ``cost`` queries against the client's window: 0 if allowed, otherwise the
        seconds until the window ends."""
        _, rate, burst = self._settings()
        if not (rate > 0 and burst > 0) or math.isinf(rate):
            return 0.0
        window = max(1.0, burst / rate)
        allowance = max(burst, rate * window)
        now = self.clock()
        slot = math.floor(now / window)
        who = hashlib.sha256(client.encode("utf-8", "replace")).hexdigest()[:24]
        key = f"{RATE_KEY}:{who}:{window:g}:{slot}"
        used = _count(key, cost, math.ceil(window) + 1)
        if used > allowance and used - cost > 0:
            return max(1.0, (slot + 1) * window - now)
        return 0.0


def _count(key: str, amount: int, timeout: int) -> int:
    """Add ``amount`` to the counter ``key`` in the throttle cache, returning the new total,
    atomically across workers and nodes (:func:`registry.cache.count`)."""
    return count(caches["throttle"], key, timeout, amount)


guard = Guard()


def overloaded(retry_after: float = 1.0) -> HttpResponse:
    return error(
        "the reconciliation service is busy; retry shortly",
        429,
        Retry_After=str(math.ceil(retry_after)),
    )


def endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """CSRF-exempt (OpenRefine posts from another origin without a token), answers OPTIONS
    preflights, turns :class:`BadRequest` into its 4xx, refuses with 429 when the process is
    already as busy as allowed, and is marked as only reading."""

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

    # Reconciliation never writes: its POSTs may read from a replica (registry/replicas.py).
    return reads_only(wrapped)


def client_of(request: HttpRequest) -> str:
    return client_address(request)


def as_number(value: Any) -> int | None:
    """``value`` (a JSON number, or text such as ``"5"``, ``"1e3"``, ``"inf"``) as a whole
    number, ``sys.maxsize`` (or its negative) beyond what one holds; None for what is not a
    number (``"abc"``, NaN, a list, true)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):  # any size: float() would overflow past 1e308
        return max(-sys.maxsize, min(value, sys.maxsize))
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if math.isnan(number):
        return None
    if math.isinf(number) or abs(number) > sys.maxsize:
        return sys.maxsize if number > 0 else -sys.maxsize
    return int(number)


def parse_json(text: str, what: str) -> Any:
    try:
        return http.loads(text, neutralise=True)
    except http.MalformedJSON:
        raise BadRequest(f"{what} is not valid JSON") from None
    except http.BadJSON as error:
        raise BadRequest(f"{what} cannot be read: {error}") from None


def body_text(request: HttpRequest) -> str:
    """The request's body as text (bytes that are not UTF-8 read as U+FFFD); a body too large
    is a 413."""
    try:
        return request.body.decode("utf-8", "replace")
    except RequestDataTooBig:
        raise BadRequest("request body too large", 413) from None


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
    except MultiPartParserError as exc:
        raise BadRequest(f"the multipart body cannot be read: {exc}"[:200]) from None
    except DjangoBadRequest as exc:  # a form that is not UTF-8
        raise BadRequest(str(exc)[:200]) from None
    return request.GET.get(name)
