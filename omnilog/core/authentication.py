"""Authentication for the staff and system APIs (feeds, webhooks, shipping, the floor).

Session first, HTTP Basic second. The first authenticator decides the challenge DRF sends
with a refused request, and ``SessionAuthentication`` sends none, so an anonymous call is a
403 without ``WWW-Authenticate: Basic``: a browser never shows a login prompt for these URLs
and so never caches Basic credentials that a cross-site form could ride on (Basic is exempt
from CSRF checks; a session is not). Systems send their Basic credentials preemptively.

Basic credentials can be guessed without limit otherwise, so wrong passwords are counted per
user name and per client address (Django cache, i.e. Redis, shared by every web process):
past ``BASIC_AUTH_MAX_FAILURES`` within ``BASIC_AUTH_LOCKOUT_SECONDS`` the name (or address)
is refused with 429 ``rate_limited`` and ``Retry-After`` until the window passes, even with the
right password, so a guesser learns nothing from continuing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.request import Request


def _keys(username: str, request: Request | None) -> list[str]:
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    return [f"auth-fail:user:{username.lower()[:150]}", f"auth-fail:ip:{address}"]


class ThrottledBasicAuthentication(BasicAuthentication):
    """HTTP Basic with a failed-attempt limit per user name and per client address."""

    def authenticate_credentials(
        self, userid: str, password: str, request: Request | None = None
    ) -> tuple[Any, None]:
        keys = _keys(userid, request)
        window = settings.BASIC_AUTH_LOCKOUT_SECONDS
        if any(
            count >= settings.BASIC_AUTH_MAX_FAILURES for count in cache.get_many(keys).values()
        ):
            raise exceptions.Throttled(
                wait=window, detail="Too many failed sign-ins; try again later."
            )
        try:
            result = super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            for key in keys:
                cache.add(key, 0, timeout=window)  # the window starts at the first failure
                cache.incr(key)
            raise
        cache.delete(keys[0])  # a good password clears the name's count, not the address's
        return result


class ThrottledBasicScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Documents the throttled Basic scheme like DRF's own (registered on import)."""

    target_class = "omnilog.core.authentication.ThrottledBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "basic",
            "description": "Staff user name and password; repeated failures lock out (429).",
        }


STAFF_AUTHENTICATION_CLASSES = (SessionAuthentication, ThrottledBasicAuthentication)
