"""Pure helpers of the embedded-services path: URL spellings for libpq and kombu."""

from __future__ import annotations

import dj_database_url

from omnilog.core.embedded import socket_url
from omnilog.settings.base import celery_url


def test_socket_url_percent_encodes_the_socket_directory() -> None:
    url = socket_url("/run/omni log/pg:16", "omnilog")

    assert url == "postgres://postgres@%2Frun%2Fomni%20log%2Fpg%3A16/omnilog"
    config = dj_database_url.parse(url)
    assert config["HOST"] == "/run/omni log/pg:16"
    assert config["NAME"] == "omnilog"
    assert config["USER"] == "postgres"
    assert config["PORT"] == ""


def test_celery_url_translates_unix_sockets_for_kombu() -> None:
    assert celery_url("unix:///var/omnilog/redis.sock?db=0") == (
        "redis+socket:///var/omnilog/redis.sock?db=0"
    )
    assert celery_url("unix:///var/omnilog/redis.sock") == "redis+socket:///var/omnilog/redis.sock"


def test_celery_url_keeps_tcp_urls() -> None:
    assert celery_url("redis://127.0.0.1:6379/7") == "redis://127.0.0.1:6379/7"
    assert celery_url("rediss://:secret@cache.example:6380/0") == (
        "rediss://:secret@cache.example:6380/0"
    )
