"""The partner directory, shaped after Open Referral HSDS 3 so it can be exported as HSDS.

The directory is shared by every program of a deployment and holds no personal data.
"""

from datetime import timedelta

from django.db import models
from django.db.models import F, Min, Q

from accounts.credentials import Credential
from accounts.models import Program
from crt.netguard import validate_webhook_url
from crt.statements import SENTINEL_TEXT, Statement, StatementCache


class NeedDomain(models.TextChoices):
    HOUSING = "housing", "Housing"
    HEALTHCARE = "healthcare", "Healthcare"
    RECOVERY = "recovery", "Recovery / substance-use treatment"
    MENTAL_HEALTH = "mental_health", "Mental health"
    PEER_SUPPORT = "peer_support", "Peer support"
    FOOD = "food", "Food"
    BENEFITS = "benefits", "Benefits"
    LEGAL = "legal", "Legal"
    TRANSPORTATION = "transportation", "Transportation"
    OTHER = "other", "Other"


class Organization(models.Model):
    """A partner agency, and how it receives referrals."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", "Signed webhook"
        EMAIL = "email", "Email notification (link to the partner page)"
        PULL = "pull", "Pull through the API only"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    tax_id = models.CharField(max_length=20, blank=True)
    is_active = models.BooleanField(default=True)
    channel = models.CharField(max_length=10, choices=Channel, default=Channel.PULL)
    webhook_url = models.URLField(blank=True, max_length=500, validators=[validate_webhook_url])
    # Standard Webhooks secrets ("whsec_" + base64). During rotation the previous one signs too.
    webhook_secret = models.CharField(max_length=100, blank=True)
    webhook_previous_secret = models.CharField(max_length=100, blank=True)
    webhook_previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    webhook_disabled_at = models.DateTimeField(null=True, blank=True, help_text="Set when the endpoint answered 410.")
    notification_email = models.EmailField(blank=True)
    may_receive_part2 = models.BooleanField(
        default=False, help_text="A 42 CFR Part 2 program or lawful holder allowed to receive substance-use records."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="organization_webhook_channel_has_url_and_secret",
                condition=~Q(channel="webhook") | (~Q(webhook_url="") & ~Q(webhook_secret="")),
            ),
            models.CheckConstraint(
                name="organization_email_channel_has_address",
                condition=~Q(channel="email") | ~Q(notification_email=""),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    class Status(models.TextChoices):  # HSDS service.status
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        TEMPORARILY_CLOSED = "temporarily closed", "Temporarily closed"
        DEFUNCT = "defunct", "Defunct"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    need_domain = models.CharField(max_length=20, choices=NeedDomain)
    eligibility = models.TextField(blank=True)
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    languages = models.JSONField(default=list, blank=True, help_text='ISO 639-1 codes, e.g. ["en", "es"].')
    fees = models.TextField(blank=True)
    application_process = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status, default=Status.ACTIVE)
    assured_at = models.DateTimeField(null=True, blank=True, help_text="When these details were last verified.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            # directory search: active services by need
            models.Index(fields=["need_domain", "status"], name="service_need_status"),
            # HSDS export: modified_after
            models.Index(fields=["updated_at"], name="service_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                name="service_age_range_ordered",
                condition=Q(min_age__isnull=True) | Q(max_age__isnull=True) | Q(min_age__lte=F("max_age")),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="locations")
    name = models.CharField(max_length=200)
    address_1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state_province = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # A domestic-violence shelter's address is never published (HSDS export hides it).
    is_confidential = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="location_latitude_range",
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
            ),
            models.CheckConstraint(
                name="location_longitude_range",
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceAtLocation(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="service_at_locations")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="service_at_locations")
    hours = models.CharField(max_length=300, blank=True, help_text="Opening hours in plain words.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "location"], name="service_at_location_unique")]

    def __str__(self) -> str:
        return f"{self.service} at {self.location}"


class ServiceCapacity(models.Model):
    """How much of a service is free right now (beds, intake slots). Freshness is updated_at."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="capacities")
    unit = models.CharField(max_length=50, help_text="beds, intake slots, appointments...")
    available = models.PositiveIntegerField()
    maximum = models.PositiveIntegerField()
    description = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "service capacities"
        constraints = [
            models.UniqueConstraint(fields=["service", "unit"], name="service_capacity_one_per_unit"),
            models.CheckConstraint(
                name="service_capacity_available_le_maximum", condition=Q(available__lte=F("maximum"))
            ),
        ]
        indexes = [models.Index(fields=["updated_at"], name="capacity_updated")]  # stale-capacity sweep

    def __str__(self) -> str:
        return f"{self.available}/{self.maximum} {self.unit}"


# A capacity older than this is stale when no program says otherwise (Program.stale_capacity_after).
DEFAULT_STALE_AFTER = timedelta(days=7)


def stale_capacity_after() -> timedelta:
    """How old a capacity may get before its partner is asked to update it: the strictest freshness
    limit of the programs (Program.stale_capacity_after), as partners serve every program."""
    return Program.objects.aggregate(limit=Min("stale_capacity_after"))["limit"] or DEFAULT_STALE_AFTER


class PartnerCredentialQuerySet(models.QuerySet):
    def by_prefix(self, prefix: str) -> "PartnerCredential | None":
        """The credential of this key prefix, its organisation loaded with it, or None: what
        `select_related("organization").filter(prefix=prefix).first()` finds. It runs on every
        partner call, so as a statement compiled once and prepared (crt.statements)."""
        rows = _CREDENTIAL_STATEMENTS.get("by_prefix", _credential_statement).rows({"prefix": prefix})
        if not rows:
            return None
        row = rows[0]
        db = self.db
        credential = PartnerCredential.from_db(db, _CREDENTIAL_FIELDS, [row[name] for name in _CREDENTIAL_FIELDS])
        organization = Organization.from_db(
            db, _ORGANIZATION_FIELDS, [row[f"organization__{name}"] for name in _ORGANIZATION_FIELDS]
        )
        credential.organization = organization
        return credential


class PartnerCredential(Credential):
    """An API key of a partner organisation: stored hashed, shown once, looked up by prefix
    (accounts.credentials)."""

    KEY_START = "crt_"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="credentials")
    name = models.CharField(max_length=100, help_text="What it is for, e.g. 'case management system'.")

    objects = PartnerCredentialQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.organization} / {self.name} ({self.prefix}…)"

    def is_usable(self, now) -> bool:
        """Not revoked, and its organisation not made inactive."""
        return super().is_usable(now) and self.organization.is_active


_CREDENTIAL_FIELDS = [field.attname for field in PartnerCredential._meta.concrete_fields]
_ORGANIZATION_FIELDS = [field.attname for field in Organization._meta.concrete_fields]
_CREDENTIAL_STATEMENTS = StatementCache("partner_credential")


def _credential_statement() -> Statement:
    lookup = (
        PartnerCredential.objects.select_related("organization")
        .filter(prefix=SENTINEL_TEXT)
        .values(*_CREDENTIAL_FIELDS, *(f"organization__{name}" for name in _ORGANIZATION_FIELDS))
    )
    return Statement(lookup[:1], {"prefix": (SENTINEL_TEXT, PartnerCredential._meta.get_field("prefix"))})


# --- api: Idempotency-Key records (crt.idempotency) --------------------------------------------


class IdempotencyRecord(models.Model):
    """The outcome of a POST sent with an Idempotency-Key, kept so a retry does not repeat it.

    `owner` is "credential:<id>" or "user:<id>": keys of different callers never collide. A row with
    no status_code is a request still running (a concurrent duplicate gets a 409). The outcome is
    which record the answer was about (ids and flags), never the answer: a replay reads the record
    afresh, scoped, consent-checked and audited (crt.idempotency).
    """

    owner = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.JSONField(
        null=True, blank=True, help_text="Which record the answer was about: ids and flags, no personal data."
    )
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_once_per_owner")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]  # purge of old keys

    def __str__(self) -> str:
        return f"Idempotency key of {self.owner}"
