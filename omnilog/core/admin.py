from django.contrib import admin
from django.http import HttpRequest

from omnilog.core.models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin[OutboxEvent]):
    list_display = ("id", "topic", "aggregate_type", "aggregate_id", "occurred_at")
    list_filter = ("topic", "aggregate_type")
    search_fields = ("aggregate_id", "topic")
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
