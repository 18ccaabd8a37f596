"""Programs (the responding organisations) and the people who sign in: staff and partner users."""

from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from accounts.roles import Role, roles_of


class Program(models.Model):
    """A responding organisation (a city's CRT). Every person's record belongs to exactly one."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    area_name = models.CharField(max_length=200, blank=True, help_text="City or region served.")
    # Chasing windows (DESIGN.md §4): how long a partner has to answer before each escalation.
    referral_answer_window = models.DurationField(default=timedelta(days=1))
    follow_up_grace = models.DurationField(
        default=timedelta(hours=4), help_text="How long after due_at a follow-up counts as missed."
    )
    stale_capacity_after = models.DurationField(default=timedelta(days=7))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """Staff belong to a program; partner users belong to a partner organisation. Never both."""

    program = models.ForeignKey(Program, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    partner_organization = models.ForeignKey(
        "providers.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_staff_or_partner_not_both",
                condition=Q(program__isnull=True) | Q(partner_organization__isnull=True),
            ),
        ]

    @property
    def roles(self) -> frozenset[Role]:
        return roles_of(self)

    @property
    def is_partner_user(self) -> bool:
        return self.partner_organization_id is not None

    def __str__(self) -> str:
        return self.get_full_name() or self.username
