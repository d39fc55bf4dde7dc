"""Per-client rate limits for the lookup API.

Reads need no key, so a client is its address (``registry.auth.client_address``: the peer, or
behind ``REGISTRY_TRUSTED_PROXIES`` proxies the entry they added to ``X-Forwarded-For``). The rates are ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` in settings, under the
scopes ``lookup`` (single reads) and ``bulk`` (bulk lookups and checked files), generous by
default; a client over its rate gets a 429 with ``Retry-After``. The rate is read on every
request rather than once at import, so changing the setting (or a test overriding it) takes
effect at once.

Requests are counted in fixed windows of the rate's period (the window a request falls in is
``now // period``), each an atomic counter (``registry.cache.count``: one ``INCR`` in Redis, a
locked update in the file cache). DRF's own throttle keeps a list of request times, read and
written back whole, so two workers or two nodes counting at once each write back the list
they read and one request is lost: under a burst spread over several machines a limit let
through far more than it says. A fixed window admits at most the rate in each window (twice
it, at worst, across the boundary of two), and never loses a count.
"""

import time

from django.core.cache import caches
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from registry.auth import client_address
from registry.cache import count


class ClientRateThrottle(SimpleRateThrottle):
    """Counts requests per client address within the scope's period, in the ``throttle``
    cache that every worker (and, with ``REGISTRY_CACHE_URL`` set to Redis, every node)
    shares: a limit kept per process would let a client through once per worker."""

    @property
    def cache(self):
        # Looked up per request, not at import, so a changed CACHES setting applies.
        return caches["throttle"]

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        # Resolve the rate here, not in __init__, so a changed setting applies at once.
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.now = time.time()
        window = int(self.now // self.duration)
        key = f"{self.get_cache_key(request, view)}:{window}"
        # Kept a second past its window, so a late request of the window still finds it.
        return count(self.cache, key, self.duration + 1) <= self.num_requests

    def wait(self) -> float:
        """Seconds until this window ends and the count starts again."""
        return self.duration - (self.now % self.duration)

    def get_ident(self, request) -> str:
        return client_address(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LookupThrottle(ClientRateThrottle):
    scope = "lookup"


class BulkThrottle(ClientRateThrottle):
    scope = "bulk"
