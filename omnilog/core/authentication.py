"""Authentication for the staff and system APIs (feeds, webhooks, shipping, the floor).

Session first, HTTP Basic second. The first authenticator decides the challenge DRF sends
with a refused request, and ``SessionAuthentication`` sends none, so an anonymous call is a
403 without ``WWW-Authenticate: Basic``: a browser never shows a login prompt for these URLs
and so never caches Basic credentials that a cross-site form could ride on (Basic is exempt
from CSRF checks; a session is not). Systems send their Basic credentials preemptively.
"""

from __future__ import annotations

from rest_framework.authentication import BasicAuthentication, SessionAuthentication

STAFF_AUTHENTICATION_CLASSES = (SessionAuthentication, BasicAuthentication)
