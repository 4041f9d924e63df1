"""Signed release evidence, stored once and never changed (issue #13)."""

from django.db import models

from opsportal.ids import new_id


class EvidenceTrigger(models.TextChoices):
    PRODUCTION = "production", "Reached production"
    ON_DEMAND = "on_demand", "On demand"


class ReleaseEvidence(models.Model):
    """One collection of a release's evidence: the signed envelope exactly as it was served (`body`).

    Written by `evidence.services.evidence_collect` inside the unit of work that made the release reach
    production (or on demand), and never updated: there is no service that changes it, the admin shows
    it read-only, and `verify_evidence` detects any edit through the Ed25519 signature.
    """

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False, db_column="_id")
    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT, related_name="evidence")
    trigger = models.CharField(max_length=20, choices=EvidenceTrigger.choices)
    collected_at = models.DateTimeField()
    collected_by = models.CharField(max_length=150, blank=True, default="")
    key_id = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64, help_text="Of `body`, the envelope as served.")
    body = models.TextField(help_text="The signed envelope (JSON), byte for byte as served.")

    class Meta:
        ordering = ["-collected_at", "id"]
        verbose_name_plural = "release evidence"
        indexes = [
            models.Index(fields=["release", "-collected_at"], name="evidence_release_idx"),
            models.Index(fields=["-collected_at", "id"], name="evidence_collected_idx"),
        ]

    def __str__(self) -> str:
        return f"evidence of {self.release_id} ({self.trigger}, {self.collected_at:%Y-%m-%d %H:%M})"
