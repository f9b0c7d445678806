"""Back office view of the PIM / CRM feed jobs (read-only: files arrive through the API).
Imported at the end of ``inventory.admin``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from inventory.models import MasterDataFeedJob


@admin.register(MasterDataFeedJob)
class MasterDataFeedJobAdmin(admin.ModelAdmin[MasterDataFeedJob]):
    list_display = (
        "id",
        "kind",
        "status",
        "mode",
        "format",
        "total_rows",
        "created_rows",
        "updated_rows",
        "unchanged_rows",
        "error_count",
        "actor",
        "created_at",
        "finished_at",
    )
    list_filter = ("kind", "status", "mode")
    search_fields = ("=id", "actor")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
