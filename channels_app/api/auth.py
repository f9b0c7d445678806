"""Channel authentication for the REST API: one hashed API key per client, bound to a channel.

Clients send ``X-Api-Key: <prefix>.<secret>`` (``settings.API_KEY_CUSTOM_HEADER``). The key
resolves to its ``ChannelAPIKey`` in one query (channel joined); revoked and expired keys, and
keys of an inactive channel, are refused with 401. After authentication ``request.auth`` is the
key and ``request.auth.channel`` its channel; ``request.user`` stays ``None`` (a key is not a
person). Views scope every read to ``channel_of(request).id``: a key sees only its channel.

Each process keeps a key it found usable for ``API_KEY_CACHE_SECONDS`` (default 5 s; 0 turns
the cache off), so a busy client costs no query per request: revoking a key, or deactivating
its channel, takes effect within that delay. Expiry dates are checked on every request, the
secret is verified against the stored hash every time, and unknown prefixes are never cached.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView
from rest_framework_api_key.permissions import KeyParser

from channels_app.api.throttling import ChannelRateThrottle
from channels_app.models import ChannelAPIKey, SalesChannel

API_KEY_HEADER = "X-Api-Key"
DEFAULT_CACHE_SECONDS = 5.0
CACHE_MAX_ENTRIES = 1000

# prefix -> (monotonic time it was read, the usable key with its channel). Per process.
_usable_keys: dict[str, tuple[float, ChannelAPIKey]] = {}


def _usable_key(prefix: str) -> ChannelAPIKey | None:
    """The unrevoked key with this prefix, channel joined: from the process cache when read
    less than ``API_KEY_CACHE_SECONDS`` ago, else one query."""
    lifetime = float(getattr(settings, "API_KEY_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))
    now = time.monotonic()
    cached = _usable_keys.get(prefix)
    if cached is not None and now - cached[0] < lifetime:
        return cached[1]
    api_key: ChannelAPIKey | None = (
        ChannelAPIKey.objects.get_usable_keys()
        .select_related("channel")
        .filter(prefix=prefix)
        .first()
    )
    if api_key is None or lifetime <= 0:
        _usable_keys.pop(prefix, None)
        return api_key
    if len(_usable_keys) >= CACHE_MAX_ENTRIES:
        _usable_keys.clear()
    _usable_keys[prefix] = (now, api_key)
    return api_key


class ChannelAPIKeyAuthentication(BaseAuthentication):
    """Resolve ``X-Api-Key`` to an active ``ChannelAPIKey``; no header means anonymous."""

    key_parser = KeyParser()

    def authenticate(self, request: Request) -> tuple[None, ChannelAPIKey] | None:
        key = self.key_parser.get(request)
        if not key:
            return None  # HasChannel then answers 401 with WWW-Authenticate
        prefix, _, _ = key.partition(".")
        api_key = _usable_key(prefix)
        # The same message for every refusal: a caller learns nothing about which keys exist.
        if api_key is None or not api_key.is_valid(key) or api_key.has_expired:
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        if not api_key.channel.is_active:
            raise exceptions.AuthenticationFailed("The API key's channel is not active.")
        return None, api_key

    def authenticate_header(self, request: Request) -> str:
        return f'Api-Key realm="omnilog", header="{API_KEY_HEADER}"'


class HasChannel(BasePermission):
    """The request was authenticated with a channel API key."""

    message = "A channel API key is required."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ChannelAPIKey)


def channel_of(request: Request) -> SalesChannel:
    """The authenticated channel. Precondition: ``HasChannel`` has passed."""
    api_key = request.auth
    if not isinstance(api_key, ChannelAPIKey):  # pragma: no cover - guarded by HasChannel
        raise exceptions.NotAuthenticated()
    return api_key.channel


class ChannelApi(APIView):
    """Base for views called by a channel's systems: key authentication, channel required."""

    authentication_classes = (ChannelAPIKeyAuthentication,)
    permission_classes = (HasChannel,)
    throttle_classes = (ChannelRateThrottle,)


class ChannelAPIKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Documents the key header in the OpenAPI schema (registered on import)."""

    target_class = "channels_app.api.auth.ChannelAPIKeyAuthentication"
    name = "channelApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": API_KEY_HEADER,
            "description": "A channel API key (shown once, when created in the admin).",
        }
