"""Throttling of admin logins against password guessing, without letting anyone lock a
curator out.

Three counts, in the ``throttle`` cache that every server process shares (its counters are
atomic: ``registry.cache``):

- **this username from this address**: an attempt is counted *before* the password is
  checked, so a burst of parallel guesses cannot all pass one check; after
  ``REGISTRY_LOGIN_ATTEMPTS`` attempts that pair waits ``REGISTRY_LOGIN_LOCKOUT_SECONDS``. A
  success clears it. Someone else's guesses at a username never lock out its owner's address.
- **this address, any username**: ``REGISTRY_LOGIN_ADDRESS_ATTEMPTS`` failures (default four
  times the above) lock out the address that is spraying usernames.
- **this username, any address**: past ``REGISTRY_LOGIN_USERNAME_BACKOFF`` failures in the
  window (a distributed guess), only addresses where the username has logged in before may
  keep trying; everyone else waits. Its owner, at an address they have used, is never
  refused.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import caches
from django.core.exceptions import ValidationError

from .cache import count

# How long an address where a username logged in is remembered as that user's own.
KNOWN_ADDRESS_SECONDS = 90 * 24 * 3600


def client_address(request) -> str:
    """The client's address. Behind ``REGISTRY_TRUSTED_PROXIES`` reverse proxies (default 0),
    each of which appends the address it saw to ``X-Forwarded-For``, it is the entry that
    many places from the right; entries further left are the client's to forge. Without the
    setting every client behind a proxy would share the proxy's address, and one person's
    failed logins would lock everyone out."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.REGISTRY_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    return hops[-proxies] if len(hops) >= proxies else remote


def _user(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _keys(request, username: str) -> dict[str, str]:
    address = client_address(request) if request else ""
    user = _user(username)
    return {
        "pair": f"login-try:pair:{user}:{address}",
        "address": f"login-fail:addr:{address}",
        "user": f"login-fail:user:{user}",
        "known": f"login-ok:{user}:{address}",
    }


def _address_limit() -> int:
    return getattr(
        settings, "REGISTRY_LOGIN_ADDRESS_ATTEMPTS", 4 * settings.REGISTRY_LOGIN_ATTEMPTS
    )


def _username_backoff() -> int:
    return getattr(
        settings, "REGISTRY_LOGIN_USERNAME_BACKOFF", 10 * settings.REGISTRY_LOGIN_ATTEMPTS
    )


def locked_out(request, username: str) -> bool:
    """Whether a login for ``username`` from this client must wait, before it is tried."""
    cache, keys = caches["throttle"], _keys(request, username)
    if (cache.get(keys["pair"]) or 0) >= settings.REGISTRY_LOGIN_ATTEMPTS:
        return True
    if (cache.get(keys["address"]) or 0) >= _address_limit():
        return True
    return (cache.get(keys["user"]) or 0) >= _username_backoff() and not cache.get(keys["known"])


def attempt(request, username: str) -> bool:
    """Count an attempt for this username from this client; False if it is one too many (so
    of N parallel attempts only the allowed number go on to the password check)."""
    cache, keys = caches["throttle"], _keys(request, username)
    tries = count(cache, keys["pair"], settings.REGISTRY_LOGIN_LOCKOUT_SECONDS)
    return tries <= settings.REGISTRY_LOGIN_ATTEMPTS


def record_failure(request, username: str) -> None:
    cache, keys = caches["throttle"], _keys(request, username)
    for key in (keys["address"], keys["user"]):
        count(cache, key, settings.REGISTRY_LOGIN_LOCKOUT_SECONDS)


def record_success(request, username: str) -> None:
    cache, keys = caches["throttle"], _keys(request, username)
    cache.delete(keys["pair"])
    cache.set(keys["known"], 1, KNOWN_ADDRESS_SECONDS)


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if locked_out(self.request, username) or not attempt(self.request, username):
            minutes = settings.REGISTRY_LOGIN_LOCKOUT_SECONDS // 60
            raise ValidationError(
                f"Too many failed attempts to log in. Try again in {minutes} minutes.",
                code="locked_out",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            record_failure(self.request, username)
            raise
        record_success(self.request, username)
        return cleaned
