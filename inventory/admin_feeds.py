"""Back-office views of stock feeds: sources, delta messages and snapshot jobs (read-only).

Feeds change stock only through ``inventory.services.feeds``; the admin watches them.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from inventory.models import FeedJob, FeedMessage, FeedSource


@admin.register(FeedSource)
class FeedSourceAdmin(admin.ModelAdmin[FeedSource]):
    list_display = (
        "code",
        "name",
        "kind",
        "last_sequence",
        "last_snapshot_at",
        "is_resync_requested",
    )
    list_filter = ("kind", "is_resync_requested")
    search_fields = ("code", "name")
    filter_horizontal = ("locations",)
    # The cursor belongs to the feed services: changing it by hand would skip or replay stock.
    readonly_fields = ("last_sequence", "last_snapshot_at", "is_resync_requested")


class _ReadOnly:
    """Feed records are evidence: nobody adds, edits or deletes them by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FeedMessage)
class FeedMessageAdmin(_ReadOnly, admin.ModelAdmin[FeedMessage]):
    list_display = ("source", "sequence", "message_id", "status", "occurred_at", "received_at")
    list_filter = ("status", "source")
    search_fields = ("message_id",)
    list_select_related = ("source",)
    ordering = ("source", "-sequence")
    readonly_fields = (
        "source",
        "message_id",
        "sequence",
        "status",
        "occurred_at",
        "received_at",
        "applied_at",
        "payload_pretty",
        "errors",
    )
    exclude = ("payload",)

    @admin.display(description="Payload")
    def payload_pretty(self, obj: FeedMessage) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2))


@admin.register(FeedJob)
class FeedJobAdmin(_ReadOnly, admin.ModelAdmin[FeedJob]):
    list_display = (
        "id",
        "source",
        "status",
        "mode",
        "format",
        "as_of",
        "progress",
        "changed_rows",
        "error_count",
        "created_at",
    )
    list_filter = ("status", "source", "mode", "format")
    list_select_related = ("source",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    fields = (
        "id",
        "source",
        "status",
        "message",
        "mode",
        "format",
        "as_of",
        "sequence",
        "progress",
        "total_rows",
        "processed_rows",
        "changed_rows",
        "error_count",
        "row_errors",
        "file_path",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description="Progress")
    def progress(self, obj: FeedJob) -> str:
        percent = 100 * obj.processed_rows // obj.total_rows if obj.total_rows else 0
        if obj.status in (FeedJob.Status.SUCCEEDED, FeedJob.Status.REJECTED):
            percent = 100
        return format_html('<progress max="100" value="{}"></progress> {}%', percent, percent)

    @admin.display(description="Row errors")
    def row_errors(self, obj: FeedJob) -> str:
        if not obj.errors:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    error.get("line", error.get("row")),
                    error.get("code"),
                    error.get("message"),
                    error.get("sku") or "",
                    error.get("location") or "",
                    error.get("on_hand") or "",
                )
                for error in obj.errors
            ),
        )
        shown = len(obj.errors)
        note = f"First {shown} of {obj.error_count}." if obj.error_count > shown else ""
        return format_html(
            "<p>{}</p><table><thead><tr><th>Line</th><th>Code</th><th>Problem</th><th>SKU</th>"
            "<th>Location</th><th>On hand</th></tr></thead><tbody>{}</tbody></table>",
            note,
            rows,
        )
