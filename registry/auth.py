"""Throttling of admin logins against password guessing.

Failed logins are counted per client address and per username in the ``throttle`` cache
(shared by every server process). After ``REGISTRY_LOGIN_ATTEMPTS`` failures either count
locks further attempts out for ``REGISTRY_LOGIN_LOCKOUT_SECONDS``, with a message that says
so, even with the right password; a successful login clears the username's count.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import caches
from django.core.exceptions import ValidationError


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


def _keys(request, username: str) -> list[str]:
    address = client_address(request) if request else ""
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:addr:{address}", f"login-fail:user:{digest}"]


def locked_out(request, username: str) -> bool:
    cache = caches["throttle"]
    return any(
        (cache.get(key) or 0) >= settings.REGISTRY_LOGIN_ATTEMPTS
        for key in _keys(request, username)
    )


def record_failure(request, username: str) -> None:
    cache = caches["throttle"]
    for key in _keys(request, username):
        cache.add(key, 0, settings.REGISTRY_LOGIN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, settings.REGISTRY_LOGIN_LOCKOUT_SECONDS)


def clear(request, username: str) -> None:
    caches["throttle"].delete(_keys(request, username)[1])


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if locked_out(self.request, username):
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
        clear(self.request, username)
        return cleaned
