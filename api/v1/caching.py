"""HTTP caching for public data: ``ETag`` and ``Last-Modified`` validators, 304 answers, and
``Cache-Control``.

Everything the registry says changes only when a :class:`~registry.models.Version` is
written, so the newest version stands for the state of the data: the ETag of an answer hashes
the newest version's number with the request (path, query and the as-at date), and its
Last-Modified is when that version was recorded. An answer for "today" (no ``?date=``) is also
new each midnight, so for those Last-Modified is at least the start of today. Finding the
newest version is one query on the primary key index.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.utils import timezone
from django.utils.http import http_date, parse_http_date_safe

from registry.models import Version


def validators(request, date: dt.date, date_given: bool) -> tuple[str, int]:
    """The (ETag, Last-Modified timestamp) of the answer to ``request`` as at ``date``."""
    newest = Version.objects.order_by("-id").values_list("id", "recorded_at").first()
    version_id, recorded_at = newest or (0, None)
    modified = int(recorded_at.timestamp()) if recorded_at else 0
    if not date_given:
        midnight = dt.datetime.combine(date, dt.time.min, tzinfo=timezone.get_default_timezone())
        modified = max(modified, int(midnight.timestamp()))
    seed = "|".join(
        [str(version_id), request.get_full_path(), date.isoformat(), settings.REGISTRY_URI_BASE]
    )
    etag = '"' + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32] + '"'
    return etag, modified


def not_modified(request, etag: str, modified: int) -> bool:
    """Whether the client's cached copy (If-None-Match, else If-Modified-Since) is current."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = parse_http_date_safe(request.headers.get("If-Modified-Since") or "")
    return since is not None and modified <= since


def headers(etag: str, modified: int) -> dict[str, str]:
    return {
        "ETag": etag,
        "Last-Modified": http_date(modified),
        "Cache-Control": f"public, max-age={settings.REGISTRY_API_CACHE_SECONDS}",
    }
