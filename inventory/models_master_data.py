"""Master-data feed jobs: product files from a PIM, customer files from a CRM.

Imported at the end of ``inventory.models``. Same mechanics as the stock snapshot jobs
(``FeedJob``): the upload is stored under ``MEDIA_ROOT/feeds/``, a Celery job on the ``stock``
queue applies it, and the job row is the status resource (progress, counts, row errors). The
rows themselves are applied by ``inventory.services.pim_feed`` and ``channels_app.crm_feed``.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

from inventory.models import FeedJob  # defined before inventory.models imports this module
from omnilog.core.models import TimeStampedModel

__all__ = ["MasterDataFeedJob"]


class MasterDataFeedJob(TimeStampedModel):
    class Kind(models.TextChoices):
        PRODUCTS = "products", "Products (PIM)"
        CUSTOMERS = "customers", "Customers (CRM)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected (bad rows or file, nothing applied)"

    # The same choices as the stock snapshots' jobs (and one OpenAPI enum for both).
    Mode = FeedJob.Mode
    Format = FeedJob.Format

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    format = models.CharField(max_length=4, choices=Format.choices, default=Format.CSV)
    file_path = models.CharField(max_length=500)
    actor = models.CharField(max_length=150, blank=True, default="")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_rows = models.PositiveIntegerField(default=0)
    updated_rows = models.PositiveIntegerField(default=0)
    unchanged_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="The first row errors.")
    message = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_rows__lte=F("total_rows")),
                name="master_data_job_processed_lte_total",
            ),
        ]
        indexes = [models.Index(fields=["kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} feed {self.id} ({self.status})"
