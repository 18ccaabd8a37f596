"""The audit trail: who read or changed which person's record (AccessLog), and every change made
to the clinical and referral tables (ChangeHistory, written by database triggers).

Both tables are append-only at the database level (audit.triggers): UPDATE and DELETE are refused.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.roles import may_review_access
from crt.scoping import FailClosedQuerySet


class Action(models.TextChoices):
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    EXPORT = "export", "Exported"
    DISCLOSE = "disclose", "Disclosed to a partner"
    BREAK_GLASS = "break_glass", "Started break-glass access"


class AccessLogQuerySet(FailClosedQuerySet):
    def visible_to(self, user):
        """Supervisors and staff admins read their own program's trail; no one else reads it."""
        if not getattr(user, "is_authenticated", False) or not user.is_active or user.program_id is None:
            return self.none()
        if not may_review_access(user):
            return self.none()
        return self.filter(program_id=user.program_id)

    def about(self, individual_id: int):
        return self.filter(individual_id=individual_id)

    def disclosures(self):
        return self.filter(action=Action.DISCLOSE)


def _reference(to, help_text: str = "") -> models.ForeignKey:
    """A reference kept as a plain column: no database constraint, no index of its own, no reverse
    accessor, and nothing done to the row when the referenced one changes or goes (see AccessLog)."""
    return models.ForeignKey(
        to,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        help_text=help_text,
    )


class AccessLog(models.Model):
    """One read or write of one object of a person's record, through any surface.

    The references are plain columns without database constraints (db_constraint=False,
    DO_NOTHING): an audit row must never block, cascade from, or be rewritten by a change elsewhere.
    """

    at = models.DateTimeField(default=timezone.now)
    actor = _reference(settings.AUTH_USER_MODEL, "Staff or partner user; empty for a partner credential or the system.")
    credential = _reference("providers.PartnerCredential")
    action = models.CharField(max_length=16, choices=Action)
    object_type = models.CharField(max_length=100, help_text="app_label.model_name")
    object_id = models.CharField(max_length=64)
    individual = _reference("cases.Individual", "The person whose record it is.")
    program = _reference("accounts.Program")
    route = models.CharField(max_length=200, blank=True, help_text="URL name, or the task for background work.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    break_glass = _reference("accounts.BreakGlassGrant", "Set when the access happened under a break-glass grant.")
    # Disclosures (accounting of disclosures): to whom, why, and what in words (never the values).
    recipient = _reference("providers.Organization")
    purpose = models.CharField(max_length=100, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        # Only the indexes the trail is read by: every index is written on every page anyone reads
        # (a page of 100 rows was 10 index inserts per row before; the references have none of their own).
        indexes = [
            # "who has looked at this person's record" and the accounting of disclosures
            models.Index(fields=["individual", "at"], name="accesslog_person_time"),
            # what one user (or one partner credential) looked at
            models.Index(fields=["actor", "at"], name="accesslog_actor_time"),
            models.Index(fields=["credential", "at"], name="accesslog_credential_time"),
            # a program's trail, newest first (the admin's list)
            models.Index(fields=["program", "at"], name="accesslog_program_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type} #{self.object_id}"


class ChangeHistory(models.Model):
    """One row per INSERT, UPDATE or DELETE of a tracked table, written by a database trigger, so
    every write path (save, queryset update, bulk, raw SQL) leaves one. See audit.triggers.TRACKED."""

    table_name = models.CharField(max_length=63)
    row_id = models.CharField(max_length=64)
    operation = models.CharField(max_length=6)  # INSERT, UPDATE or DELETE
    changed_at = models.DateTimeField()
    old_row = models.JSONField(null=True, blank=True)
    new_row = models.JSONField(null=True, blank=True)

    # The rows hold whole records; no page or job reads them (an operator does, in SQL).
    objects = FailClosedQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "change history"
        ordering = ["changed_at", "id"]
        # the history of one row
        indexes = [models.Index(fields=["table_name", "row_id", "changed_at"], name="changehistory_row_time")]

    def __str__(self) -> str:
        return f"{self.operation} {self.table_name} #{self.row_id}"
