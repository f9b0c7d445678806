from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from omnilog.core.errors import ApplicationError
from omnilog.core.models import (
    OutboxEvent,
    WebhookDelivery,
    WebhookSubscription,
    webhook_secret_new,
)
from omnilog.core.webhook_services import (
    outbox_last_event_id,
    webhook_replay,
    webhook_send_test,
    webhook_topics_validate,
)
from omnilog.core.webhooks import destination_refusal


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


class WebhookSubscriptionForm(forms.ModelForm[WebhookSubscription]):
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookSubscription
        fields = ("name", "url", "topics", "is_active")

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        refusal = destination_refusal(url)
        if refusal:
            raise forms.ValidationError(f"Webhooks go to public addresses only ({refusal}).")
        return url

    def clean_topics(self) -> list[str]:
        topics = self.cleaned_data.get("topics") or []
        if not isinstance(topics, list):
            raise forms.ValidationError('Enter a JSON list such as ["order.*"].')
        try:
            return webhook_topics_validate(topics)
        except ApplicationError as error:
            raise forms.ValidationError([e.message for e in error.field_errors]) from error


class ReplayForm(forms.Form):
    from_event_id = forms.IntegerField(
        min_value=1, max_value=2**63 - 1, label="Replay from event id"
    )


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin[WebhookSubscription]):
    form = WebhookSubscriptionForm
    list_display = (
        "name",
        "url",
        "is_active",
        "cursor",
        "consecutive_failures",
        "next_attempt_at",
        "disabled_reason",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    readonly_fields = (
        "secret_hint",
        "cursor",
        "consecutive_failures",
        "next_attempt_at",
        "disabled_reason",
        "created_at",
    )
    actions = ("replay", "send_test_event", "rotate_secret")

    def get_readonly_fields(
        self, request: HttpRequest, obj: WebhookSubscription | None = None
    ) -> tuple[str, ...]:
        # The secret exists only once the subscription is saved; it is shown, never edited.
        return self.readonly_fields if obj is not None else ()

    @admin.display(description="Secret")
    def secret_hint(self, obj: WebhookSubscription) -> str:
        # Shown in full once (on creation or rotation, to the user who did it); afterwards only
        # enough to tell two secrets apart, so a later admin page view cannot leak it.
        return f"{obj.secret[:6]}…{obj.secret[-4:]} (rotate to get a new one)"

    def get_fields(
        self, request: HttpRequest, obj: WebhookSubscription | None = None
    ) -> tuple[str, ...]:
        editable = ("name", "url", "topics", "is_active")
        return (*editable, *self.readonly_fields) if obj is not None else editable

    def save_model(
        self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool
    ) -> None:
        if not change:
            obj.cursor = outbox_last_event_id()  # new subscribers start now; replay goes back
        super().save_model(request, obj, form, change)
        if not change:
            self._show_secret_once(request, obj)

    def _show_secret_once(self, request: HttpRequest, obj: WebhookSubscription) -> None:
        self.message_user(
            request,
            f"Signing secret of {obj}: {obj.secret} — copy it into the receiver now; "
            "it is not shown again.",
            messages.WARNING,
        )

    @admin.action(description="Rotate the signing secret", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for subscription in queryset[:10]:
            subscription.secret = webhook_secret_new()
            subscription.save(update_fields=["secret"])
            self._show_secret_once(request, subscription)

    @admin.action(description="Replay from an event id…", permissions=["change"])
    def replay(
        self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]
    ) -> TemplateResponse | None:
        form = ReplayForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            from_event_id = form.cleaned_data["from_event_id"]
            for subscription in queryset:
                webhook_replay(subscription_id=subscription.pk, from_event_id=from_event_id)
            self.message_user(
                request,
                f"{queryset.count()} subscription(s) will re-deliver from event {from_event_id}.",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Replay webhooks",
            "form": form,
            "subscriptions": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/core/webhooksubscription/replay.html", context)

    @admin.action(description="Send a test event now", permissions=["change"])
    def send_test_event(
        self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]
    ) -> None:
        for subscription in queryset[:10]:
            delivery = webhook_send_test(subscription_id=subscription.pk)
            outcome = delivery.status_code or delivery.error
            self.message_user(
                request,
                f"{subscription}: {outcome} in {delivery.duration_ms} ms",
                messages.SUCCESS if delivery.is_success else messages.ERROR,
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    list_display = (
        "id",
        "subscription",
        "message_id",
        "attempt",
        "is_success",
        "status_code",
        "duration_ms",
        "error",
        "delivered_at",
    )
    list_filter = ("is_success", "subscription", "status_code")
    list_select_related = ("subscription",)
    search_fields = ("message_id",)
    show_full_result_count = False
    ordering = ("-id",)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
