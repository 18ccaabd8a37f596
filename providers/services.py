"""Changes a partner makes to its own directory entry: capacity, webhook endpoint, webhook secret.

The actor is a partner credential or a partner user; it may change only its own organisation's
records (the network admin rotates any webhook secret, in the admin). Another organisation's service
is "not_found", exactly like one that does not exist.
Errors are Django ValidationErrors with a code (see crt.api.CODE_STATUS); nothing is written then.
"""

import base64
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from accounts.roles import acts_for_partner, is_network_admin
from crt.netguard import validate_webhook_url
from providers.models import Organization, PartnerCredential, Service, ServiceCapacity

# After a rotation the previous secret keeps signing this long, so the partner can switch over.
WEBHOOK_ROTATION_OVERLAP = timedelta(hours=24)
MAX_CAPACITY = 1_000_000


def organization_of(by) -> int:
    """The organisation a partner actor acts for; not_found for anyone else."""
    if isinstance(by, PartnerCredential):
        if by.revoked_at is None and by.organization.is_active:
            return by.organization_id
    elif acts_for_partner(by):
        return by.partner_organization_id
    raise ValidationError("Not found.", code="not_found")


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _count(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAPACITY:
        raise ValidationError(f"The {field} must be a whole number from 0 to {MAX_CAPACITY}.", code="invalid")
    return value


@transaction.atomic
def update_capacity(
    service: Service, *, by, unit: str, available: int, maximum: int, description: str | None = None
) -> ServiceCapacity:
    """Set how much of a service is free now (one row per unit), in one call; freshness is updated_at."""
    organization_id = organization_of(by)
    available = _count(available, "available count")
    maximum = _count(maximum, "maximum")
    if available > maximum:
        raise ValidationError("Available cannot be more than the maximum.", code="invalid")
    unit = (unit or "").strip()
    if not unit or len(unit) > 50:
        raise ValidationError("Name the unit (beds, intake slots...) in at most 50 characters.", code="invalid")
    locked = Service.objects.select_for_update().filter(pk=service.pk, organization_id=organization_id).first()
    if locked is None:
        raise ValidationError("Service not found.", code="not_found")
    now = timezone.now()
    capacity = ServiceCapacity.objects.select_for_update().filter(service=locked, unit=unit).first()
    if capacity is None:
        return ServiceCapacity.objects.create(
            service=locked,
            unit=unit,
            available=available,
            maximum=maximum,
            description=(description or "")[:200],
            updated_at=now,
        )
    capacity.available = available
    capacity.maximum = maximum
    fields = ["available", "maximum", "updated_at"]
    if description is not None:
        capacity.description = description[:200]
        fields.append("description")
    capacity.updated_at = now  # a confirmation with the same numbers is still fresh news
    capacity.save(update_fields=fields)
    return capacity


def _check_webhook_url(url: str) -> str:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise ValidationError("Give a full https:// URL.", code="invalid") from None
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.hostname not in settings.WEBHOOK_ALLOWED_HOSTS:
        raise ValidationError("Webhook URLs must use https.", code="invalid")
    if len(url) > 500:
        raise ValidationError("The URL must be at most 500 characters.", code="invalid")
    try:
        validate_webhook_url(url)  # the send-time guard's rule, applied now (crt.netguard)
    except ValidationError as blocked:
        raise ValidationError(blocked.messages[0], code="invalid") from None
    return url


@transaction.atomic
def set_webhook_url(organization: Organization, *, by, url: str) -> tuple[Organization, str | None]:
    """Receive referrals by signed webhook at `url`. Returns the organisation and, when it had no
    secret yet, the new secret (shown once)."""
    if organization_of(by) != organization.pk:
        raise ValidationError("Not found.", code="not_found")
    url = _check_webhook_url(url)
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    secret = None
    fields = ["webhook_url", "channel", "webhook_disabled_at", "updated_at"]
    if not locked.webhook_secret:
        secret = new_webhook_secret()
        locked.webhook_secret = secret
        fields.append("webhook_secret")
    locked.webhook_url = url
    locked.channel = Organization.Channel.WEBHOOK
    locked.webhook_disabled_at = None  # a new endpoint is worth trying again
    locked.save(update_fields=fields)
    return locked, secret


@transaction.atomic
def rotate_webhook_secret(organization: Organization, *, by) -> tuple[Organization, str]:
    """A new signing secret (shown once); the previous one keeps signing for WEBHOOK_ROTATION_OVERLAP.
    `by`: the partner itself (its key or a partner user), or the network admin (in the admin)."""
    if not is_network_admin(by) and organization_of(by) != organization.pk:
        raise ValidationError("Not found.", code="not_found")
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    if locked.channel != Organization.Channel.WEBHOOK:
        raise ValidationError("Set a webhook URL first: this organisation does not receive webhooks.", code="invalid")
    secret = new_webhook_secret()
    locked.webhook_previous_secret = locked.webhook_secret
    locked.webhook_previous_secret_expires_at = timezone.now() + WEBHOOK_ROTATION_OVERLAP
    locked.webhook_secret = secret
    locked.save(
        update_fields=["webhook_previous_secret", "webhook_previous_secret_expires_at", "webhook_secret", "updated_at"]
    )
    return locked, secret
