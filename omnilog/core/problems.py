"""RFC 9457 problem documents, built without any framework (pure, strictly typed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://omnilog.dev/problems/"


def problem_type(code: str) -> str:
    """The ``type`` URI of a problem code; ``about:blank`` when the HTTP status says it all."""
    return "about:blank" if code in GENERIC_CODES else f"{TYPE_BASE}{code}"


GENERIC_CODES = frozenset(
    {
        "not_found",
        "method_not_allowed",
        "not_acceptable",
        "unsupported_media_type",
        "server_error",
        "not_authenticated",
        "permission_denied",
    }
)


def problem(
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    instance: str | None = None,
    errors: Iterable[Mapping[str, str]] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a problem document. ``errors`` items carry ``field``, ``code`` and ``message``."""
    document: dict[str, Any] = {
        "type": problem_type(code),
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        document["instance"] = instance
    error_list = [dict(error) for error in errors]
    if error_list:
        document["errors"] = error_list
    if extra:
        for key, value in extra.items():
            document.setdefault(key, value)
    return document


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name still gets a title
        return "Error"


def flatten_field_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten DRF-style nested error structures into ``[{field, code, message}]``.

    ``{"lines": [{}, {"quantity": ["too small"]}]}`` becomes
    ``[{"field": "lines.1.quantity", "code": "invalid", "message": "too small"}]``.
    Items may be plain strings or objects with ``code`` attributes (DRF ``ErrorDetail``).
    """
    flat: list[dict[str, str]] = []
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = str(key)
            if name == "non_field_errors":
                name = ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            flat.extend(flatten_field_errors(value, path))
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            for item in detail:
                flat.append(_leaf(item, prefix))
        else:
            for index, item in enumerate(detail):
                if item in ({}, [], None, ""):
                    continue
                path = f"{prefix}.{index}" if prefix else str(index)
                flat.extend(flatten_field_errors(item, path))
    else:
        flat.append(_leaf(detail, prefix))
    return flat


def _leaf(item: Any, field: str) -> dict[str, str]:
    return {
        "field": field or "__all__",
        "code": str(getattr(item, "code", None) or "invalid"),
        "message": str(item),
    }
