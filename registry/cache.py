"""Django's file-based cache with its counters made safe across processes.

The ``throttle`` cache counts failed logins and requests per client for every worker of a
machine. Django's ``FileBasedCache`` reads and rewrites a file for ``add`` and ``incr``, so
two workers counting at once can both read 4 and both write 5, and a burst of parallel
guesses gets past a limit of five. Here ``add`` and ``incr`` hold an exclusive ``flock`` on one
lock file in the cache's directory while they read and write. Redis (``REGISTRY_CACHE_URL``)
does the same natively, for several machines.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache


class FileCache(FileBasedCache):
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

    def count(self, key, timeout: int) -> int:
        """Add 1 to the counter ``key`` (made at 0, expiring after ``timeout`` seconds, if
        absent) and return its new value, in one step no other process can split."""
        with self._locked():
            super().add(key, 0, timeout)
            try:
                return super().incr(key)
            except ValueError:  # expired between the two
                super().set(key, 1, timeout)
                return 1


def count(cache, key: str, timeout: int) -> int:
    """Add 1 to the counter ``key`` in ``cache`` and return its new value: atomically in
    :class:`FileCache` and in Redis (``SET NX`` then ``INCR``)."""
    if isinstance(cache, FileCache):
        return cache.count(key, timeout)
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout)
        return 1
