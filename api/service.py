"""What keeps the service answering sensibly when things go wrong around it: health checks
for a load balancer, a request too large refused before a byte of it is read, and a database
that is down, busy or full told as a 503 with ``Retry-After`` rather than a 500.

- ``GET /healthz`` (liveness): the process answers; touches nothing else.
- ``GET /readyz`` (readiness): the database answers and holds the reference data; 503 if not,
  so a load balancer sends traffic elsewhere.
- :class:`RequestSizeLimit`: a body declared larger than the endpoint takes is a 413 at once
  (the code checker takes ``REGISTRY_CHECKER_MAX_BYTES``, the admin's change import
  ``REGISTRY_CHANGE_IMPORT_MAX_BYTES``, everything else ``DATA_UPLOAD_MAX_MEMORY_SIZE``), so
  a client that declares a gigabyte ties up no worker waiting for it.
- :class:`BodyDeadline` (WSGI, around the application): a body must arrive within
  ``REGISTRY_BODY_SECONDS`` (default 10), or the thread reading it gives up (408), so a
  client that trickles a byte a second, or sends nothing after its headers, holds a thread
  for seconds, not for as long as it likes.
- :func:`server_error` (``handler500``): every exception no view handled reaches it; a
  database that cannot be reached, is locked past the busy timeout or is out of space
  (``OperationalError``, ``InterfaceError``) is a 503 with ``Retry-After``; anything else a
  short 500 page or problem.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse, UnreadablePostError
from django.template.loader import render_to_string

from registry import replicas
from registry.models import Entry

PROBLEM = "application/problem+json"


def retry_after() -> int:
    return int(getattr(settings, "REGISTRY_RETRY_AFTER_SECONDS", 10))


def _error(request, status: int, title: str, detail: str, **headers: str) -> HttpResponse:
    """An error in the form the caller reads: problem+json for the APIs and the health
    checks (``api.v1.problems``), the reconciliation service's own JSON, or a page."""
    # Imported here: config.wsgi imports this module before DRF's settings are loaded, and
    # api.v1.problems imports DRF, whose views import the parsers that import problems.
    from .reconcile.responses import error as reconcile_error
    from .v1 import problems

    path = request.path
    if path.startswith(("/api/", "/readyz", "/healthz")):
        body = problems.problem_body(status, detail, instance=path)
        response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM)
    elif path.startswith("/reconcile"):
        response = reconcile_error(detail, status)
    else:
        try:
            page = render_to_string("api/error.html", {"status": status, "detail": detail})
        except Exception:  # the page itself may need what is broken
            page = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{detail}</p>"
        response = HttpResponse(page, status=status, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    for header, value in headers.items():
        response[header] = value
    return response


def database_unavailable(request) -> HttpResponse:
    seconds = retry_after()
    return _error(
        request,
        503,
        "Service unavailable",
        f"The registry's database is unavailable or busy. Try again in {seconds} seconds.",
        **{"Retry-After": str(seconds)},
    )


def page_not_found(request, exception=None) -> HttpResponse:
    """``handler404``, for a path nothing answers (an unknown page, a mistyped admin
    address): the site's own page, or problem+json under ``/api/``."""
    return _error(
        request, 404, "Not found", f"There is no page at {request.path[:200]!r} in the registry."
    )


def server_error(request) -> HttpResponse:
    """``handler500``: called while the exception is being handled, so it can tell an outage
    of the database (503) from a fault of ours (500)."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        return database_unavailable(request)
    if isinstance(error, UnreadablePostError | BodyTimeout):
        return _error(
            request, 408, "Request timeout",
            f"The request's body did not arrive within {body_seconds()} seconds.",
            Connection="close",
        )  # fmt: skip
    return _error(
        request, 500, "Internal server error", "Something went wrong on our side; it is logged."
    )


def healthz(request) -> HttpResponse:
    response = HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def readyz(request) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        loaded = Entry.objects.exists()
    except (OperationalError, InterfaceError) as error:
        # A replica that failed (registry/replicas.py): the request is answered again from
        # the primary, so this node stays ready while the primary is.
        replicas.note_failure(error)
        return database_unavailable(request)
    if not loaded:
        return _error(
            request, 503, "Service unavailable", "The database holds no entries yet: load the data.",
            **{"Retry-After": str(retry_after())},
        )  # fmt: skip
    response = JsonResponse({"status": "ready", "database": connection.vendor})
    response["Cache-Control"] = "no-store"
    return response


def body_limit(path: str) -> int | None:
    """The largest body ``path`` takes, in bytes."""
    if path.startswith("/api/v1/check"):
        return settings.REGISTRY_CHECKER_MAX_BYTES + 64 * 1024  # and the form's framing
    if path.startswith("/admin/change-import"):
        return settings.REGISTRY_CHANGE_IMPORT_MAX_BYTES + 64 * 1024
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is None:
        return None
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 64 * 1024


class RequestSizeLimit:
    """Refuse (413) a request whose declared ``Content-Length`` is over its endpoint's limit,
    before reading it; an unreadable length is a 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared:
            try:
                length = int(declared)
                if length < 0:
                    raise ValueError
            except ValueError:
                return _error(request, 400, "Bad request", "The Content-Length is not a number.")
            limit = body_limit(request.path)
            if limit is not None and length > limit:
                return _error(
                    request, 413, "Request too large",
                    f"The body is {length:,} bytes; {request.path} takes at most {limit:,}.",
                    Connection="close",
                )  # fmt: skip
        return self.get_response(request)


def body_seconds() -> float:
    return float(getattr(settings, "REGISTRY_BODY_SECONDS", 10))


class BodyTimeout(TimeoutError):
    """The request's body did not arrive in time."""


class _DeadlineInput:
    """``wsgi.input`` that must be read by ``deadline``. Each read waits on the client's
    socket (gunicorn gives it as ``gunicorn.socket``) at most the time left, which stops a
    client that sends nothing; a client that trickles a byte at a time satisfies every wait,
    so at the deadline a timer shuts the socket for reading (:meth:`expire`): the read in
    progress returns short, and the request is a 408."""

    def __init__(self, stream, sock, deadline: float):
        self._stream, self._sock, self._deadline = stream, sock, deadline
        self._lock = threading.Lock()
        self.expired = self.done = False

    def expire(self) -> None:
        with self._lock:
            if self.done or self._sock is None:
                return
            self.expired = True
            with contextlib.suppress(OSError):  # already closed
                self._sock.shutdown(socket.SHUT_RD)

    def finish(self) -> None:
        """No more of the body will be read (the answer has begun)."""
        with self._lock:
            self.done = True

    def _arm(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0 or self.expired:
            raise BodyTimeout("the request body did not arrive in time")
        if self._sock is not None:
            self._sock.settimeout(left)

    def _call(self, method, *args):
        self._arm()
        try:
            data = method(*args)
        except TimeoutError as error:  # socket.timeout, from the armed socket
            raise BodyTimeout("the request body did not arrive in time") from error
        if self.expired:
            raise BodyTimeout("the request body did not arrive in time")
        return data

    def read(self, *args):
        return self._call(self._stream.read, *args)

    def readline(self, *args):
        return self._call(self._stream.readline, *args)

    def readlines(self, *args):
        return self._call(self._stream.readlines, *args)

    def __iter__(self):
        return iter(self.readline, b"")


class BodyDeadline:
    """WSGI middleware: the body of a request must be read within ``REGISTRY_BODY_SECONDS``
    of its headers; the socket's timeout is put back before the answer is sent."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        if environ.get("CONTENT_LENGTH") in (None, "", "0") and "chunked" not in environ.get(
            "HTTP_TRANSFER_ENCODING", ""
        ):
            return self.application(environ, start_response)
        previous = sock.gettimeout() if sock is not None else None
        seconds = body_seconds()
        body = _DeadlineInput(environ["wsgi.input"], sock, time.monotonic() + seconds)
        environ["wsgi.input"] = body
        timer = None
        if sock is not None:
            timer = threading.Timer(seconds, body.expire)
            timer.daemon = True
            timer.start()

        def start(status, headers, exc_info=None):
            body.finish()
            if timer is not None:
                timer.cancel()
            if sock is not None:
                sock.settimeout(previous)  # the answer is written without the deadline
            return start_response(status, headers, exc_info)

        try:
            return self.application(environ, start)
        finally:
            body.finish()
            if timer is not None:
                timer.cancel()
