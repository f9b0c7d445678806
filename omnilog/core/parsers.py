"""A JSON parser with a hard cap on the body it reads (chunked bodies included)."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

from omnilog.core.middleware import body_limit


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class LimitedJSONParser(JSONParser):
    """JSON parser that reads at most the body cap of the request's path.

    The cap is ``API_MAX_BODY_BYTES`` (``FEED_MAX_BODY_BYTES`` under ``/api/v1/feeds/``).
    Every malformed body is a ``ParseError`` (400), never a server error: empty bodies,
    invalid JSON or UTF-8, ``NaN``, and documents nested too deeply for Python's decoder.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = _limit(parser_context)
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        if not body.strip():
            raise exceptions.ParseError("The request body is empty; a JSON document is expected.")
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError(
                "JSON parse error - the document is nested too deeply."
            ) from error


def _limit(parser_context: Any) -> int:
    request = (parser_context or {}).get("request")
    path = getattr(request, "path", None)
    return body_limit(path) if isinstance(path, str) else int(settings.API_MAX_BODY_BYTES)
