"""Django's file-based cache with its counters made safe across processes, and cheap to fill.

The ``throttle`` cache counts failed logins and requests per client for every worker of a
machine. Django's ``FileBasedCache`` reads and rewrites a file for ``add`` and ``incr``, so
two workers counting at once can both read 4 and both write 5, and a burst of parallel
guesses gets past a limit of five. Here ``add`` and ``incr`` hold an exclusive ``flock`` on one
lock file in the cache's directory while they read and write. Redis (``REGISTRY_CACHE_URL``,
through django-redis) does the same natively, for several machines.

The same class holds rendered documents and lookup API answers (the ``default`` cache), which
are written on every request that builds one. Django checks on every ``set`` whether the cache
is full by listing its directory, which with thousands of bodies costs more than building a
document; here it looks one ``set`` in :data:`CULL_EVERY` (at random), so the cache may
overshoot ``MAX_ENTRIES`` by about that many entries before it is culled. Bodies are
compressed at zlib's fastest level, a fifth of the CPU of its default for a page.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import random
import zlib
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache

# How often (one set in so many) a set checks whether the cache is full.
CULL_EVERY = 200


class FileCache(FileBasedCache):
    def _cull(self):
        if random.random() < 1 / CULL_EVERY:  # noqa: S311 (sampling, not security)
            super()._cull()

    def _write_content(self, file, timeout, value):
        expiry = self.get_backend_timeout(timeout)
        file.write(pickle.dumps(expiry, self.pickle_protocol))
        file.write(zlib.compress(pickle.dumps(value, self.pickle_protocol), 1))

    @contextmanager
    def _locked(self):
        self._createdir()
        with open(os.path.join(self._dir, "counters.lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self._locked():
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        with self._locked():
            return super().incr(key, delta, version)

    def count(self, key, timeout: int, amount: int = 1) -> int:
        """Add ``amount`` to the counter ``key`` (made at 0, expiring after ``timeout``
        seconds, if absent) and return its new value, in one step no other process can
        split."""
        with self._locked():
            super().add(key, 0, timeout)
            try:
                return super().incr(key, amount)
            except ValueError:  # expired between the two
                super().set(key, amount, timeout)
                return amount


def count(cache, key: str, timeout: int, amount: int = 1) -> int:
    """Add ``amount`` to the counter ``key`` in ``cache`` (made at 0, expiring after
    ``timeout`` seconds, if absent) and return its new value: atomically in
    :class:`FileCache` and in Redis (``SET NX`` then ``INCRBY`` in one transaction, one round
    trip)."""
    if isinstance(cache, FileCache):
        return cache.count(key, timeout, amount)
    client = getattr(cache, "client", None)
    if hasattr(client, "get_client"):  # django-redis
        pipe = client.get_client(write=True).pipeline(transaction=True)
        name = client.make_key(key)
        pipe.set(name, 0, ex=timeout, nx=True)
        pipe.incrby(name, amount)
        return int(pipe.execute()[1])
    # Any other cache whose add and incr are atomic (memcached, local memory).
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key, amount)
    except ValueError:  # expired between the two
        cache.set(key, amount, timeout)
        return amount
