"""Programs (the responding organisations) and the people who sign in: staff and partner users."""

from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q

from accounts.credentials import Credential
from accounts.roles import Role, may_review_access, roles_of
from crt.scoping import FailClosedQuerySet


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
    case_reopen_window = models.DurationField(
        default=timedelta(days=30),
        help_text="A case closed less than this long ago can be reopened; after that, a new linked case is opened.",
    )
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
    # The latest expiry of the user's break-glass grants (accounts.breakglass sets it). The audit
    # looks for grants in force only while it is in the future: no query on every page for the
    # people who have none, which is nearly everyone nearly always.
    break_glass_until = models.DateTimeField(null=True, blank=True, editable=False)

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


# --- security: second factor, lockout and break-glass (docs/security.md) -----------------------


class TwoFactorDevice(models.Model):
    """A user's TOTP authenticator. A row exists only once the user has proved it with one code."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="two_factor_device")
    # Base32, as authenticator apps expect. It cannot be hashed (codes are computed from it): a
    # database reader could compute codes, but a database reader already holds the records.
    secret = models.CharField(max_length=64)
    last_used_step = models.BigIntegerField(default=0, help_text="Time step of the last accepted code (no replays).")
    enrolled_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Authenticator of {self.user}"


class RecoveryCode(models.Model):
    """A one-time code for when the authenticator is lost. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "created_at"]

    def __str__(self) -> str:
        return f"Recovery code #{self.pk} of {self.user}"


class LoginFailure(models.Model):
    """One password or second-factor check that failed, or is being made right now.

    accounts.lockout writes a row before a check is evaluated and deletes it when the check
    succeeds, so a check in progress counts as a failure: parallel guesses cannot exceed the limit.
    """

    class Kind(models.TextChoices):
        PASSWORD = "password", "Password"
        SECOND_FACTOR = "second_factor", "Second factor"

    # HMAC of the normalised username: what people type into the username box is never stored.
    account_key = models.CharField(max_length=64)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="login_failures")
    kind = models.CharField(max_length=20, choices=Kind)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        # accounts.lockout: failures of one account in the last window
        indexes = [models.Index(fields=["account_key", "at"], name="login_failure_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} failure at {self.at:%Y-%m-%d %H:%M}"


class BreakGlassGrantQuerySet(FailClosedQuerySet):
    def active(self, now):
        """Grants in force at `now`: expiry is checked whenever a query is built, never by a job."""
        return self.filter(ended_at__isnull=True, started_at__lte=now, expires_at__gt=now)

    def visible_to(self, user):
        """Supervisors and staff admins see their program's grants; anyone else their own."""
        if not getattr(user, "is_authenticated", False) or not user.is_active or user.program_id is None:
            return self.none()
        if may_review_access(user):
            return self.filter(program_id=user.program_id)
        return self.filter(user=user)


class BreakGlassGrant(models.Model):
    """Time-boxed emergency access to one person's record outside the user's usual scope. Made only by
    accounts.breakglass.start_break_glass, which also moves the user's break_glass_until."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass_grants")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="break_glass_grants")
    individual = models.ForeignKey("cases.Individual", on_delete=models.PROTECT, related_name="break_glass_grants")
    reason = models.TextField()
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    objects = BreakGlassGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # visible_to and the audit's tagging: a user's grants that have not been ended
            models.Index(
                fields=["user", "expires_at"], name="break_glass_user_open", condition=Q(ended_at__isnull=True)
            ),
        ]
        constraints = [
            models.CheckConstraint(name="break_glass_has_reason", condition=~Q(reason="")),
            models.CheckConstraint(name="break_glass_expires_after_start", condition=Q(expires_at__gt=F("started_at"))),
        ]

    def __str__(self) -> str:
        return f"Break-glass #{self.pk} by {self.user}"


# --- API tokens of staff and program service accounts (accounts.tokens) -------------------------


class StaffToken(Credential):
    """An API token that acts as its user: stored hashed, shown once, looked up by prefix.

    The partner credential's design (accounts.credentials; docs/decisions/002 and 005), with its own
    key format, `crts_<prefix>_<secret>`, so a staff token and a partner key can never be mistaken.
    """

    KEY_START = "crts_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What it is for, e.g. 'CAD integration'.")
    key_hash = models.CharField(max_length=64, db_column="token_hash")  # its column's name from before the mixin
    created_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when made on the command line (manage.py create_api_token).",
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until revoked.")

    def __str__(self) -> str:
        return f"{self.user} / {self.name} ({self.prefix}…)"

    def is_usable(self, now) -> bool:
        """Not revoked, not expired. Whether its user may still act is accounts.tokens' question."""
        return super().is_usable(now) and (self.expires_at is None or now < self.expires_at)
