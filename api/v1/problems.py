"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the lookup API gives is a small JSON object: ``type`` (a URI naming the kind of
problem), ``title``, ``status``, ``detail`` (what was wrong, in a sentence) and ``instance`` (the
path asked for). A bad parameter also lists ``invalid-params``, each with the parameter's
``name`` and the ``reason`` it was refused, as in the RFC's own example, so a client can point
at the field. Nothing here decides *whether* something is an error; views and filters raise
DRF exceptions and :func:`exception_handler` shapes them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from registry.uris import vocabulary_uri

# Raised across the API (and by the shared request parsing) as problems.BadParameter.
from ..http import BadParameter  # noqa: F401

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_type(slug: str) -> str:
    """The URI naming a kind of problem (``{base}/def/problems/bad-parameter``)."""
    return vocabulary_uri(f"problems/{slug}")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "payload-too-large"


class NotModified(exceptions.APIException):
    """Raised before any work is done when the client's cached copy is still current."""

    status_code = status.HTTP_304_NOT_MODIFIED
    default_detail = ""
    default_code = "not-modified"

    def __init__(self, headers: dict[str, str]):
        super().__init__()
        self.headers = headers


class PreconditionFailed(exceptions.APIException):
    """A conditional request (``If-Match``, ``If-Unmodified-Since``) that the answer fails."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The answer no longer meets the request's preconditions."
    default_code = "precondition-failed"


_SLUGS = {
    400: "bad-parameter",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    428: "precondition-required",
    408: "request-timeout",
    429: "too-many-requests",
    500: "server-error",
    503: "unavailable",
}

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request too large",
    415: "Unsupported media type",
    428: "Precondition required",
    408: "Request timeout",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF validation detail ({field: [messages]}, nested) as RFC 9457 invalid-params."""
    if isinstance(detail, dict):
        result = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                name = prefix or "body"
            result += _flatten(value, name)
        return result
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [{"name": prefix or "body", "reason": str(item)} for item in detail]
        result = []
        for index, item in enumerate(detail):
            result += _flatten(item, f"{prefix}[{index}]" if prefix else f"[{index}]")
        return result
    return [{"name": prefix or "body", "reason": str(detail)}]


def problem(
    status_code: int,
    detail: str,
    *,
    instance: str = "",
    invalid_params: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response."""
    body = problem_body(status_code, detail, instance=instance, invalid_params=invalid_params)
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_MEDIA_TYPE)


def problem_body(
    status_code: int,
    detail: str,
    *,
    instance: str = "",
    invalid_params: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The RFC 9457 object of a problem (also written outside DRF, by ``api.service``)."""
    body: dict[str, Any] = {
        "type": problem_type(_SLUGS.get(status_code, "error")),
        "title": _TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if invalid_params:
        body["invalid-params"] = invalid_params
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler, answering in RFC 9457 problem details.

    Unexpected exceptions still propagate (and become a 500 that the tests and the fuzzer
    catch): hiding them would hide bugs.
    """
    request = context.get("request")
    instance = request.path if request is not None else ""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(
            f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."
        )
    if isinstance(exc, NotModified):
        return Response(status=304, headers=exc.headers)
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait) + (exc.wait % 1 > 0))
    if isinstance(exc.detail, dict | list):
        invalid = _flatten(exc.detail)
        detail = "; ".join(f"{item['name']}: {item['reason']}" for item in invalid)
        return problem(
            exc.status_code,
            detail,
            instance=instance,
            invalid_params=invalid,
            headers=headers,
        )
    return problem(exc.status_code, str(exc.detail), instance=instance, headers=headers)
